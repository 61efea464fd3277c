// The SLA loader, then clocks computed on what it loaded over a fixed ticket history (business
// calendars from fuzzed hours, holidays and zones: the arithmetic must end, and not overflow).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "config/sla_loader.h"
#include "sla/clocks.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace ticketd;
    using namespace std::chrono;
    const std::string yaml(reinterpret_cast<const char*>(data), size);
    sla::Policies policies;
    std::vector<config::ConfigError> errors;
    config::load_sla_text(yaml, "fuzz-sla.yaml", policies, errors);
    if (!errors.empty() || policies.policies.empty()) return 0;
    const sla::Time t0 = sys_days{year{2026} / 12 / 4} + hours{16} + minutes{55};
    std::vector<sla::Event> history = {
        sla::Event::created(t0, "urgent", "billing", {"vip"}),
        sla::Event::status_changed(t0 + hours{1}, "pending"),
        sla::Event::requester_message(t0 + hours{30}),
        sla::Event::priority_changed(t0 + hours{31}, "high"),
        sla::Event::agent_reply(t0 + days{3}),
        sla::Event::requester_message(t0 + days{4}),
    };
    (void)sla::compute_clocks(policies, history, t0 + days{5});
    (void)sla::compute_clocks(policies, history, t0 + days{400});
    return 0;
}
