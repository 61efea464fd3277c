#include "daemon/cli_inbox.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>
#include <memory>

#include "daemon/cli_util.h"
#include "store/inbox.h"
#include "store/tickets.h"
#include "tickets/json.h"
#include "tickets/pipeline.h"

namespace ticketd::daemon {

namespace {

struct InboxArgs {
    std::string state, outcome;
    int limit = 100;
    bool json = false;
    std::int64_t id = 0;
    bool raw = false;
    CLI::App* list = nullptr;
    CLI::App* show = nullptr;
    CLI::App* release = nullptr;
};

/// The ticket number people know, for a tickets.id (0 when there is none).
std::int64_t ticket_number(store::Database& db, const std::optional<std::int64_t>& ticket) {
    if (!ticket) return 0;
    auto t = store::Tickets(db).get(*ticket);
    return t ? t->number : 0;
}

nlohmann::json entry_json(store::Database& db, const store::InboxEntry& e) {
    nlohmann::json j{
        {"id", e.id},
        {"source", e.source},
        {"state", store::to_string(e.state)},
        {"outcome", e.outcome},
        {"error", e.error},
        {"attempts", e.attempts},
        {"acknowledged", e.acknowledged},
        {"size", e.size},
        {"pruned", e.pruned},
        {"sha256", e.sha256},
        {"received_at", tickets::format_time(e.received_at)},
        {"processed_at", e.processed_at ? tickets::format_time(*e.processed_at) : ""},
    };
    if (!e.account.empty()) {
        j["account"] = e.account;
        j["mailbox"] = e.mailbox;
    }
    if (e.uidvalidity) j["uidvalidity"] = *e.uidvalidity;
    if (e.uid) j["uid"] = *e.uid;
    auto n = ticket_number(db, e.ticket);
    j["ticket"] = n ? nlohmann::json(n) : nlohmann::json(nullptr);
    return j;
}

std::string one_line(std::string s, std::size_t max) {
    for (auto& c : s)
        if (c == '\n' || c == '\r' || c == '\t') c = ' ';
    if (s.size() > max) s = s.substr(0, max - 3) + "...";
    return s;
}

int cmd_list(const std::string& config_path, const InboxArgs& a) {
    auto cfg = load_config_or_report(config_path);
    if (!cfg) return kExConfig;
    std::optional<store::InboxState> state;
    if (!a.state.empty()) {
        if (a.state == "pending") state = store::InboxState::pending;
        else if (a.state == "done") state = store::InboxState::done;
        else if (a.state == "quarantined") state = store::InboxState::quarantined;
        else {
            std::cerr << "ticketd inbox list: unknown state '" << a.state
                      << "' (pending, done, quarantined)\n";
            return kExUsage;
        }
    }
    auto db = open_existing(*cfg);
    store::Inbox inbox(*db);
    std::vector<store::InboxEntry> entries;
    if (!a.outcome.empty()) {
        for (auto& e : inbox.with_outcome(a.outcome, a.limit))
            if (!state || e.state == *state) entries.push_back(std::move(e));
    } else {
        entries = inbox.list(state, a.limit);
    }
    if (a.json) {
        auto arr = nlohmann::json::array();
        for (const auto& e : entries) arr.push_back(entry_json(*db, e));
        std::cout << arr.dump(2) << "\n";
        return 0;
    }
    if (entries.empty()) {
        std::cout << "(no inbox entries)\n";
        return 0;
    }
    std::printf("%-8s %-12s %-20s %-8s %-10s %-20s %s\n", "ID", "STATE", "OUTCOME", "TICKET",
                "SIZE", "RECEIVED", "SOURCE / ERROR");
    for (const auto& e : entries) {
        auto n = ticket_number(*db, e.ticket);
        std::string where = e.source;
        if (e.uid) where += " uid " + std::to_string(*e.uid);
        if (!e.error.empty()) where += ": " + e.error;
        std::printf("%-8lld %-12s %-20s %-8s %-10llu %-20s %s\n", static_cast<long long>(e.id),
                    store::to_string(e.state), e.outcome.c_str(),
                    n ? ("#" + std::to_string(n)).c_str() : "-",
                    static_cast<unsigned long long>(e.size),
                    tickets::format_time(e.received_at).c_str(), one_line(where, 200).c_str());
    }
    return 0;
}

int cmd_show(const std::string& config_path, const InboxArgs& a) {
    auto cfg = load_config_or_report(config_path);
    if (!cfg) return kExConfig;
    auto db = open_existing(*cfg);
    store::Inbox inbox(*db);
    auto e = inbox.get(a.id);
    if (!e) {
        std::cerr << "ticketd inbox show: no inbox entry " << a.id << "\n";
        return 1;
    }
    if (a.raw && e->pruned) {
        std::cerr << "ticketd inbox show: the raw bytes of entry " << a.id
                  << " were dropped by retention (retention.raw_mail_after); sha256 " << e->sha256
                  << "\n";
        return 1;
    }
    if (a.raw) {
        // The bytes exactly as received, for `ticketd parse -`, a mail client or a bug report.
        auto raw = inbox.raw(a.id);
        std::fwrite(raw.data(), 1, raw.size(), stdout);
        return 0;
    }
    auto j = entry_json(*db, *e);
    if (a.json) {
        std::cout << j.dump(2) << "\n";
        return 0;
    }
    for (auto it = j.begin(); it != j.end(); ++it) {
        std::string v = it->is_string() ? it->get<std::string>() : it->dump();
        std::cout << it.key() << ": " << v << "\n";
    }
    return 0;
}

int cmd_release(const std::string& config_path, const InboxArgs& a) {
    auto cfg = load_config_or_report(config_path);
    if (!cfg) return kExConfig;
    auto db = open_existing(*cfg);
    store::Inbox inbox(*db);
    auto before = inbox.get(a.id);
    if (!before) {
        std::cerr << "ticketd inbox release: no inbox entry " << a.id << "\n";
        return 1;
    }
    if (before->state == store::InboxState::done && before->outcome == "spam") {
        // Kept as spam by a rule (issue 4): an admin says it is not; it becomes a ticket now,
        // with the rules' other actions, in one transaction.
        tickets::Pipeline pipeline(*db, cfg);
        auto out = pipeline.release_spam(a.id);
        std::cout << "released " << a.id << " from spam: " << tickets::to_string(out.outcome);
        if (out.ticket_number) std::cout << " #" << *out.ticket_number;
        std::cout << "\n";
        return out.outcome == tickets::Outcome::quarantined ? 1 : 0;
    }
    if (before->state != store::InboxState::quarantined) {
        std::cerr << "ticketd inbox release: entry " << a.id << " is "
                  << store::to_string(before->state) << ", not quarantined\n";
        return 1;
    }
    if (!inbox.release(a.id)) {
        std::cerr << "ticketd inbox release: entry " << a.id
                  << " was already released and waits to be fetched again\n";
        return 1;
    }
    auto after = inbox.get(a.id);
    if (after && after->state == store::InboxState::pending)
        std::cout << "released " << a.id
                  << ": pending again; the daemon processes it at its next cycle "
                     "(`ticketd run --once` does it now)\n";
    else
        std::cout << "released " << a.id
                  << ": the message is still on the server; the next poll fetches it again\n";
    return 0;
}

}  // namespace

std::function<std::optional<int>()> add_inbox_commands(CLI::App& app, const std::string& config_path) {
    auto a = std::make_shared<InboxArgs>();
    auto* inbox = app.add_subcommand("inbox", "Inspect received mail; release what was quarantined");
    inbox->require_subcommand(1);

    a->list = inbox->add_subcommand("list", "List inbox entries, newest first");
    a->list->add_option("--state", a->state, "pending, done or quarantined");
    a->list->add_option("--outcome", a->outcome,
                        "only this outcome (created, appended, duplicate, unmatched_automatic, "
                        "spam, quarantined, fetch_failed, too_large, ...)");
    a->list->add_option("--limit", a->limit, "at most this many (default 100)")
        ->check(CLI::Range(1, 1000000));
    a->list->add_flag("--json", a->json, "print a JSON array");

    a->show = inbox->add_subcommand("show", "Show one inbox entry");
    a->show->add_option("id", a->id, "inbox entry id")->required();
    a->show->add_flag("--raw", a->raw, "write the message's bytes exactly as received");
    a->show->add_flag("--json", a->json, "print JSON");

    a->release = inbox->add_subcommand(
        "release",
        "Process a quarantined entry again (or fetch it again from the server); an entry kept as spam becomes a ticket");
    a->release->add_option("id", a->id, "inbox entry id")->required();

    return [a, &config_path]() -> std::optional<int> {
        if (*a->list) return cmd_list(config_path, *a);
        if (*a->show) return cmd_show(config_path, *a);
        if (*a->release) return cmd_release(config_path, *a);
        return std::nullopt;
    };
}

}  // namespace ticketd::daemon
