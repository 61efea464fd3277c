#pragma once
// ThreadLookup answered by the store (the production side of threading's one interface).

#include "store/tickets.h"
#include "tickets/threading.h"

namespace ticketd::store {
class Database;
}

namespace ticketd::tickets {

class StoreLookup final : public ThreadLookup {
public:
    explicit StoreLookup(store::Database& db);
    std::optional<TicketRef> by_message_id(std::string_view message_id) const override;
    std::optional<TicketRef> by_number(std::int64_t number) const override;
    bool token_matches(std::int64_t ticket_id, std::string_view token) const override;
    bool is_participant(std::int64_t ticket_id, std::string_view address) const override;

private:
    // Repositories are thin handles over the connection; lookups only read.
    mutable store::Tickets tickets_;
    mutable store::Messages messages_;
};

TicketRef to_ref(const store::Ticket& t);

}  // namespace ticketd::tickets
