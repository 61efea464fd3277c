#include "daemon/cli_outbox.h"

#include "daemon/cli_util.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <iostream>
#include <memory>

#include "config/config.h"
#include "store/bounces.h"
#include "store/database.h"
#include "store/outbox.h"
#include "store/tickets.h"
#include "tickets/json.h"

namespace ticketd::daemon {

namespace {

struct OutboxArgs {
    std::string state;
    int limit = 100;
    bool json = false;
    std::int64_t id = 0;
    CLI::App* list = nullptr;
    CLI::App* retry = nullptr;
};

std::unique_ptr<store::Database> open_desk(const std::string& config_path) {
    auto cfg = load_config_or_report(config_path);
    return cfg ? open_existing(*cfg) : nullptr;  // inspecting never creates a desk
}

nlohmann::json mail_json(store::Database& db, const store::OutboxMail& m) {
    // A sent mail can still come back: the bounces matched to it (issue 5).
    auto bounces = nlohmann::json::array();
    for (const auto& f : store::Bounces(db).for_outbox(m.id))
        bounces.push_back({{"recipient", f.recipient},
                           {"status", f.status},
                           {"diagnostic", f.diagnostic},
                           {"permanent", f.permanent},
                           {"at", tickets::format_time(f.at)}});
    std::int64_t number = 0;
    if (m.ticket)
        if (auto t = store::Tickets(db).get(*m.ticket)) number = t->number;
    return {
        {"id", m.id},
        {"ticket", number ? nlohmann::json(number) : nlohmann::json(nullptr)},
        {"kind", m.kind},
        {"state", store::to_string(m.state)},
        {"recipients", m.recipients},
        {"message_id", m.message_id},
        {"attempts", m.attempts},
        {"next_attempt_at", m.state == store::OutboxState::queued ? tickets::format_time(m.next_attempt_at) : ""},
        {"last_error", m.last_error},
        {"created_at", tickets::format_time(m.created_at)},
        {"sent_at", m.sent_at ? tickets::format_time(*m.sent_at) : ""},
        {"bounces", bounces},
    };
}

int cmd_list(const std::string& config_path, const OutboxArgs& a) {
    std::optional<store::OutboxState> state;
    if (!a.state.empty()) {
        state = store::parse_outbox_state(a.state);
        if (!state) {
            std::cerr << "ticketd outbox list: --state is queued, sent or failed\n";
            return 64;
        }
    }
    auto db = open_desk(config_path);
    if (!db) return 78;
    auto rows = store::Outbox(*db).list(state, a.limit);
    if (a.json) {
        auto arr = nlohmann::json::array();
        for (const auto& m : rows) arr.push_back(mail_json(*db, m));
        std::cout << arr.dump(2) << "\n";
        return 0;
    }
    if (rows.empty()) {
        std::cout << "(the outbox is empty)\n";
        return 0;
    }
    for (const auto& m : rows) {
        auto j = mail_json(*db, m);
        std::string to;
        for (const auto& r : m.recipients) to += (to.empty() ? "" : ",") + r;
        std::cout << m.id << "  " << store::to_string(m.state) << "  "
                  << (j["ticket"].is_null() ? std::string("-") : "#" + std::to_string(j["ticket"].get<std::int64_t>()))
                  << "  " << m.kind << "  to " << to << "  attempts " << m.attempts;
        if (m.state == store::OutboxState::queued) std::cout << "  next " << j["next_attempt_at"].get<std::string>();
        if (m.sent_at) std::cout << "  sent " << j["sent_at"].get<std::string>();
        if (!m.last_error.empty()) std::cout << "  error: " << m.last_error;
        for (const auto& b : j["bounces"])
            std::cout << (b["permanent"].get<bool>() ? "  BOUNCED " : "  delayed ")
                      << b["recipient"].get<std::string>() << " " << b["status"].get<std::string>();
        std::cout << "\n";
    }
    return 0;
}

int cmd_retry(const std::string& config_path, const OutboxArgs& a) {
    auto db = open_desk(config_path);
    if (!db) return 78;
    store::Outbox outbox(*db);
    auto m = outbox.get(a.id);
    if (!m) {
        std::cerr << "ticketd outbox retry: no outbox mail " << a.id << "\n";
        return 1;
    }
    if (m->state == store::OutboxState::sent) {
        std::cerr << "ticketd outbox retry: mail " << a.id << " was sent already; not sending it twice\n";
        return 1;
    }
    store::Transaction tx(*db);
    outbox.retry_now(a.id, db->now());
    if (m->ticket) {
        store::Event ev;
        ev.ticket = m->ticket;
        ev.message = m->message;
        ev.at = db->now();
        ev.kind = "outbox.retry";
        ev.detail = m->kind + " <" + m->message_id + "> queued again by an administrator";
        store::Events(*db).add(ev);
    }
    tx.commit();
    std::cout << "mail " << a.id << " is queued again; the daemon sends it on its next pass\n";
    return 0;
}

}  // namespace

std::function<std::optional<int>()> add_outbox_commands(CLI::App& app, const std::string& config_path) {
    auto args = std::make_shared<OutboxArgs>();
    auto* cmd = app.add_subcommand("outbox", "Inspect outgoing mail, send a failed one again");
    cmd->require_subcommand(1);
    args->list = cmd->add_subcommand("list", "List outgoing mail, newest first");
    args->list->add_option("--state", args->state, "only this state (queued, sent, failed)");
    args->list->add_flag("--json", args->json, "print a JSON array");
    args->list->add_option("--limit", args->limit, "at most this many (default 100)")->check(CLI::Range(1, 1000000));
    args->retry = cmd->add_subcommand("retry", "Queue a failed (or waiting) mail to be sent now");
    args->retry->add_option("id", args->id, "the outbox id (from `outbox list`)")->required();
    return [args, &config_path]() -> std::optional<int> {
        if (*args->list) return cmd_list(config_path, *args);
        if (*args->retry) return cmd_retry(config_path, *args);
        return std::nullopt;
    };
}

}  // namespace ticketd::daemon
