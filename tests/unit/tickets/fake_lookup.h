#pragma once
// An in-memory ThreadLookup for threading tests.

#include <map>
#include <set>
#include <string>

#include "tickets/threading.h"

namespace ticketd::tickets::test {

class FakeLookup : public ThreadLookup {
public:
    struct T {
        TicketRef ref;
        std::string token;
        std::set<std::string> participants;
    };

    TicketRef& add(std::int64_t number, std::string token,
                   std::set<std::string> participants = {}) {
        T t;
        t.ref.id = number * 10;
        t.ref.number = number;
        t.token = std::move(token);
        t.participants = std::move(participants);
        return (tickets[number] = std::move(t)).ref;
    }
    void add_message_id(const std::string& id, std::int64_t number) { ids[id] = number; }

    std::optional<TicketRef> by_message_id(std::string_view id) const override {
        auto it = ids.find(std::string(id));
        if (it == ids.end()) return std::nullopt;
        return by_number(it->second);
    }
    std::optional<TicketRef> by_number(std::int64_t number) const override {
        auto it = tickets.find(number);
        if (it == tickets.end()) return std::nullopt;
        return it->second.ref;
    }
    bool token_matches(std::int64_t id, std::string_view token) const override {
        for (const auto& [n, t] : tickets)
            if (t.ref.id == id) return !token.empty() && t.token == token;
        return false;
    }
    bool is_participant(std::int64_t id, std::string_view address) const override {
        for (const auto& [n, t] : tickets)
            if (t.ref.id == id) return t.participants.count(std::string(address)) > 0;
        return false;
    }

    std::map<std::int64_t, T> tickets;
    std::map<std::string, std::int64_t> ids;
};

}  // namespace ticketd::tickets::test
