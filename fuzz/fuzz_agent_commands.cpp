// The #commands at the top of an agent's reply (issue 5): parse, then resolve against a desk with
// two agents and two queues. What the parser keeps must be a part of what it was given.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "config/config.h"
#include "tickets/agent_commands.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace ticketd;
    const std::string_view s(reinterpret_cast<const char*>(data), size);
    tickets::AgentCommands c = tickets::parse_agent_commands(s);
    if (c.text.size() > s.size()) std::abort();
    static const config::Config cfg = [] {
        config::Config k;
        k.agents = {{"bob@acme.example", "Bob", {"billing"}}, {"eve@acme.example", "Eve Ops", {}}};
        k.queues = {"billing", "key-accounts"};
        return k;
    }();
    tickets::resolve_agent_commands(c, cfg, cfg.agents[0]);
    (void)tickets::find_agent(cfg, s);
    return 0;
}
