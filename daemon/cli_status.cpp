#include "daemon/cli_status.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <ctime>
#include <iostream>
#include <memory>
#include <sstream>

#include "config/config.h"
#include "reports/render.h"
#include "store/database.h"
#include "store/sla.h"
#include "store/status.h"

namespace ticketd::daemon {

namespace {

constexpr int kExTempFail = 75, kExConfig = 78;

using reports::iso_utc;

nlohmann::json iso_or_null(const std::optional<std::int64_t>& t) {
    return t ? nlohmann::json(iso_utc(*t)) : nlohmann::json(nullptr);
}

/// "42s", "17m", "3h05m", "2d04h": how long ago, for people.
std::string ago(std::int64_t seconds) {
    if (seconds < 0) seconds = 0;
    char buf[32];
    if (seconds < 120) std::snprintf(buf, sizeof buf, "%llds", static_cast<long long>(seconds));
    else if (seconds < 3600) std::snprintf(buf, sizeof buf, "%lldm", static_cast<long long>(seconds / 60));
    else if (seconds < 86400)
        std::snprintf(buf, sizeof buf, "%lldh%02lldm", static_cast<long long>(seconds / 3600),
                      static_cast<long long>(seconds % 3600 / 60));
    else
        std::snprintf(buf, sizeof buf, "%lldd%02lldh", static_cast<long long>(seconds / 86400),
                      static_cast<long long>(seconds % 86400 / 3600));
    return buf;
}

/// One row per mailbox: the configured ones in config order (polled or not), then any the
/// database still remembers that the configuration no longer names.
struct Row {
    store::MailboxStatus m;
    bool configured = false;
    bool alerting = false;
};

std::vector<Row> rows(const store::DeskStatus& s, const config::Config& cfg) {
    std::vector<Row> out;
    for (const auto& acc : cfg.imap) {
        Row r;
        r.m.account = acc.name;
        r.configured = true;
        for (const auto& m : s.mailboxes)
            if (m.account == acc.name) r.m = m;
        r.alerting = r.m.failing_since && s.now - *r.m.failing_since >= acc.alert_after.count();
        out.push_back(std::move(r));
    }
    for (const auto& m : s.mailboxes) {
        bool known = false;
        for (const auto& acc : cfg.imap) known = known || acc.name == m.account;
        if (!known) out.push_back({m, false, false});
    }
    return out;
}

int cmd_status(const std::string& config_path, bool json) {
    auto loaded = config::load_file(config_path);
    for (const auto& e : loaded.errors) std::cerr << e.to_string() << "\n";
    if (!loaded.config) return kExConfig;
    const auto& cfg = *loaded.config;
    std::unique_ptr<store::Database> db;
    try {
        store::OpenOptions opts;
        opts.create = false;   // a status never creates a desk
        opts.migrate = false;  // nor changes one (the daemon migrates at start)
        db = std::make_unique<store::Database>(cfg.desk.database, opts);
    } catch (const store::Error& e) {
        std::cerr << "ticketd status: cannot open " << cfg.desk.database << ": " << e.what() << "\n";
        return kExTempFail;
    }
    store::DeskStatus s;
    try {
        s = store::read_status(*db);
    } catch (const store::Error& e) {
        std::cerr << "ticketd status: " << cfg.desk.database << ": " << e.what()
                  << (db->schema_version() < 5 ? " (an older schema: start `ticketd run` once to migrate it)" : "")
                  << "\n";
        return e.temporary() ? kExTempFail : 1;
    }
    std::optional<SlaStatus> sla;
    if (!cfg.sla.policies.empty() && s.schema_version >= 6) {
        const auto c = store::SlaStore(*db).counts(s.now);
        sla = SlaStatus{c.at_risk, c.breached};
    }
    std::cout << (json ? status_json(s, cfg, sla) : render_status(s, cfg, sla));
    return 0;
}

}  // namespace

std::string render_status(const store::DeskStatus& s, const config::Config& cfg, const std::optional<SlaStatus>& sla) {
    std::ostringstream o;
    o << "desk " << cfg.desk.name << " at " << iso_utc(s.now) << "  (database " << cfg.desk.database << ", schema "
      << s.schema_version << ")\n\n";
    o << "mailboxes\n";
    const auto all = rows(s, cfg);
    if (all.empty()) o << "  (none configured)\n";
    for (const auto& r : all) {
        const auto& m = r.m;
        o << "  " << m.account;
        if (!m.mailbox.empty()) o << " (" << m.mailbox << ")";
        o << ": ";
        if (!m.last_poll_at) o << "never polled";
        else if (!m.failing_since) o << "ok, last poll " << ago(s.now - *m.last_poll_at) << " ago";
        else {
            o << (r.alerting ? "FAILING" : "failing") << " for " << ago(s.now - *m.failing_since) << " ("
              << m.failures << " attempt" << (m.failures == 1 ? "" : "s") << "), last success "
              << (m.last_ok_at ? ago(s.now - *m.last_ok_at) + " ago" : std::string("never"));
        }
        if (m.cursor_updated_at) o << "; cursor uidvalidity " << m.uidvalidity << " uid " << m.last_uid;
        if (!r.configured) o << "; not in the configuration any more";
        o << "\n";
        if (m.failing_since && !m.last_error.empty()) o << "      last error: " << m.last_error << "\n";
    }
    o << "\ninbox\n  pending " << s.inbox.at("pending");
    if (s.oldest_pending_at) o << " (oldest " << ago(s.now - *s.oldest_pending_at) << " ago)";
    o << ", quarantined " << s.inbox.at("quarantined") << ", done " << s.inbox.at("done")
      << ", not yet acknowledged on the server " << s.unacknowledged << "\n";
    o << "\ntickets\n ";
    for (const auto& [status, n] : s.tickets) o << " " << status << " " << n;
    o << "\n\noutbox\n";
    if (!s.outbox) o << "  (not set up)\n";
    else if (s.outbox->empty()) o << "  empty\n";
    else {
        o << " ";
        for (const auto& [state, n] : *s.outbox) o << " " << state << " " << n;
        o << "\n";
    }
    if (sla) o << "\nsla\n  SLA at risk " << sla->at_risk << ", breached " << sla->breached << "\n";
    return o.str();
}

std::string status_json(const store::DeskStatus& s, const config::Config& cfg, const std::optional<SlaStatus>& sla) {
    nlohmann::json mailboxes = nlohmann::json::array();
    for (const auto& r : rows(s, cfg)) {
        const auto& m = r.m;
        mailboxes.push_back({
            {"account", m.account},
            {"mailbox", m.mailbox},
            {"configured", r.configured},
            {"last_poll_at", iso_or_null(m.last_poll_at)},
            {"last_ok_at", iso_or_null(m.last_ok_at)},
            {"failing_since", iso_or_null(m.failing_since)},
            {"failures", m.failures},
            {"alerting", r.alerting},
            {"last_error", m.last_error},
            {"uidvalidity", m.uidvalidity},
            {"last_uid", m.last_uid},
        });
    }
    nlohmann::json inbox(s.inbox);
    inbox["unacknowledged"] = s.unacknowledged;
    inbox["oldest_pending_at"] = iso_or_null(s.oldest_pending_at);
    nlohmann::json j{
        {"desk", cfg.desk.name},
        {"database", cfg.desk.database},
        {"schema_version", s.schema_version},
        {"now", iso_utc(s.now)},
        {"mailboxes", mailboxes},
        {"inbox", inbox},
        {"tickets", nlohmann::json(s.tickets)},
        {"outbox", s.outbox ? nlohmann::json(*s.outbox) : nlohmann::json(nullptr)},
    };
    j["sla"] = sla ? nlohmann::json{{"at_risk", sla->at_risk}, {"breached", sla->breached}} : nlohmann::json(nullptr);
    return j.dump(2) + "\n";
}

std::function<std::optional<int>()> add_status_command(CLI::App& app, const std::string& config_path) {
    auto json = std::make_shared<bool>(false);
    auto* cmd = app.add_subcommand("status", "The desk at a glance: mailboxes, queues, tickets (from the database)");
    cmd->add_flag("--json", *json, "print one JSON object");
    return [cmd, json, &config_path]() -> std::optional<int> {
        if (!*cmd) return std::nullopt;
        return cmd_status(config_path, *json);
    };
}

}  // namespace ticketd::daemon
