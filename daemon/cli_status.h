#pragma once
// `ticketd status [--json]`: the desk at a glance, from the database alone (the daemon need not
// run, and a running one is not disturbed: WAL readers never block its writes).

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace CLI {
class App;
}
namespace ticketd::store {
struct DeskStatus;
}
namespace ticketd::config {
struct Config;
}

namespace ticketd::daemon {

/// Registers `status` on `app`; the returned function runs it when it was chosen (its exit
/// status), else returns nullopt. `config_path` is read when the command runs.
std::function<std::optional<int>()> add_status_command(CLI::App& app, const std::string& config_path);

/// SLA figures (issue 6): open tickets past a reminder point and not breached, and open tickets
/// with a breached target. nullopt without `sla:` in the config.
struct SlaStatus {
    std::int64_t at_risk = 0, breached = 0;
};

/// The human form, and the JSON form (a contract for scripts: field names stay). Mailboxes of the
/// configuration that were never polled are listed too; `alerting` means failing for longer than
/// that mailbox's imap[].alert_after.
std::string render_status(const store::DeskStatus& s, const config::Config& cfg,
                          const std::optional<SlaStatus>& sla = std::nullopt);
std::string status_json(const store::DeskStatus& s, const config::Config& cfg,
                        const std::optional<SlaStatus>& sla = std::nullopt);

}  // namespace ticketd::daemon
