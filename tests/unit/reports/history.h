#pragma once
// A seeded desk history for the report tests, written through the store API with fixed
// timestamps, the way the pipeline records it: `ticket.status` / `ticket.reopened` events for
// status changes, agent answers as messages of kind 'agent'. The expected figures in
// test_report.cpp are worked out by hand from this history (docs/reports.md has the rules).

#include <date/date.h>

#include <cstdint>
#include <string>
#include <vector>

#include "store/database.h"
#include "store/tickets.h"

namespace ticketd::reports::testing {

/// UTC seconds of y-m-d h:min.
inline std::int64_t at(int y, unsigned m, unsigned d, int h = 0, int min = 0) {
    using namespace std::chrono;
    const auto day = date::sys_days(date::year(y) / date::month(m) / date::day(d));
    return (time_point_cast<seconds>(day) + hours(h) + minutes(min)).time_since_epoch().count();
}

class History {
public:
    explicit History(store::Database& db) : db_(db) {}

    std::int64_t ticket(std::int64_t created, const std::string& requester, std::vector<std::string> tags = {},
                        const std::string& queue = "") {
        store::NewTicket n;
        n.token = "tok" + std::to_string(++count_);
        n.subject = "ticket " + std::to_string(count_);
        n.requester_address = requester;
        n.created_at = created;
        n.queue = queue;
        const auto t = store::Tickets(db_).create(n);
        for (const auto& tag : tags) store::Tickets(db_).add_tag(t.id, tag);
        event(t.id, created, "ticket.created", "new ticket from " + requester);
        message(t.id, created, store::MessageKind::requester, store::Direction::in);
        return t.id;
    }
    void requester(std::int64_t ticket, std::int64_t when) {
        message(ticket, when, store::MessageKind::requester, store::Direction::in);
    }
    void agent(std::int64_t ticket, std::int64_t when) {
        message(ticket, when, store::MessageKind::agent, store::Direction::out);
    }
    /// A status change as the pipeline records it.
    void status(std::int64_t ticket, std::int64_t when, store::Status to) {
        const auto was = store::Tickets(db_).get(ticket)->status;
        store::Tickets(db_).set_status(ticket, to, when);
        event(ticket, when, "ticket.status",
              std::string(store::to_string(was)) + " -> " + store::to_string(to) + ": test");
    }
    /// An agent's #status, as tickets/agents records it.
    void agent_status(std::int64_t ticket, std::int64_t when, store::Status to) {
        const auto was = store::Tickets(db_).get(ticket)->status;
        store::Tickets(db_).set_status(ticket, to, when);
        event(ticket, when, "agent.command",
              std::string("agent@acme.example: status ") + store::to_string(was) + " -> " + store::to_string(to));
    }
    void reopen(std::int64_t ticket, std::int64_t when) {
        const auto was = store::Tickets(db_).get(ticket)->status;
        event(ticket, when, "ticket.reopened",
              std::string(store::to_string(was)) + " -> open: reply within the reopen window");
        store::Tickets(db_).set_status(ticket, store::Status::open, when);
    }
    /// A ticket closed before the trail recorded status changes: only tickets.closed_at says when.
    void closed_without_trail(std::int64_t ticket, std::int64_t when) {
        store::Tickets(db_).set_status(ticket, store::Status::closed, when);
    }

private:
    void event(std::int64_t ticket, std::int64_t when, const std::string& kind, const std::string& detail) {
        store::Event e;
        e.ticket = ticket;
        e.at = when;
        e.kind = kind;
        e.detail = detail;
        store::Events(db_).add(e);
    }
    void message(std::int64_t ticket, std::int64_t when, store::MessageKind kind, store::Direction d) {
        store::MessageRecord m;
        m.ticket = ticket;
        m.direction = d;
        m.kind = kind;
        m.message_id = "m" + std::to_string(++messages_) + "@test.example";
        m.created_at = when;
        store::Messages(db_).add(m);
    }

    store::Database& db_;
    int count_ = 0, messages_ = 0;
};

}  // namespace ticketd::reports::testing
