#include "daemon/crash_points.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <charconv>
#include <cstdlib>

namespace ticketd::daemon {

std::optional<CrashSpec> parse_crash_spec(std::string_view value) {
    CrashSpec spec;
    const auto colon = value.rfind(':');
    if (colon != std::string_view::npos) {
        const auto n = value.substr(colon + 1);
        long nth = 0;
        const auto [end, ec] = std::from_chars(n.data(), n.data() + n.size(), nth);
        if (ec != std::errc() || end != n.data() + n.size() || nth < 1) return std::nullopt;
        spec.nth = nth;
        value = value.substr(0, colon);
    }
    if (value.empty()) return std::nullopt;
    spec.point = std::string(value);
    return spec;
}

const char* const* crash_point_names() {
    static const char* const names[] = {"imap.fetched",  "imap.committed", "imap.acknowledged",
                                        "ingest.processed", "smtp.accepted", "smtp.sent",
                                        "sla.queued",    "digest.queued",  nullptr};
    return names;
}

namespace {

const char* env_value() {
    const char* v = std::getenv("TICKETD_CRASH_AT");
    return v && *v ? v : nullptr;
}

// Parsed once, before main (the points run on the loop and the processing thread).
const std::optional<CrashSpec> g_spec = env_value() ? parse_crash_spec(env_value()) : std::nullopt;
std::atomic<long> g_arrivals{0};

}  // namespace

namespace detail {

const bool crash_armed = g_spec.has_value();

void crash_point_reached(std::string_view name) {
    if (!g_spec || name != g_spec->point) return;
    if (g_arrivals.fetch_add(1) + 1 != g_spec->nth) return;
    // One line for the test to check that it died here and not elsewhere; write(2) because the
    // logger's buffers die with the process.
    std::string line = "ticketd: TICKETD_CRASH_AT=" + std::string(name) + " reached, SIGKILL\n";
    [[maybe_unused]] auto n = ::write(2, line.data(), line.size());
    ::kill(::getpid(), SIGKILL);
}

}  // namespace detail
}  // namespace ticketd::daemon
