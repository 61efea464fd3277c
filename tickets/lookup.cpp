#include "tickets/lookup.h"

#include "store/database.h"

namespace ticketd::tickets {

TicketRef to_ref(const store::Ticket& t) {
    TicketRef r;
    r.id = t.id;
    r.number = t.number;
    r.status = t.status;
    r.closed_at = t.closed_at;
    r.updated_at = t.updated_at;
    return r;
}

StoreLookup::StoreLookup(store::Database& db) : tickets_(db), messages_(db) {}

std::optional<TicketRef> StoreLookup::by_message_id(std::string_view message_id) const {
    auto id = messages_.ticket_for_message_id(message_id);
    if (!id) return std::nullopt;
    auto t = tickets_.get(*id);
    if (!t) return std::nullopt;
    return to_ref(*t);
}

std::optional<TicketRef> StoreLookup::by_number(std::int64_t number) const {
    auto t = tickets_.by_number(number);
    if (!t) return std::nullopt;
    return to_ref(*t);
}

bool StoreLookup::token_matches(std::int64_t ticket_id, std::string_view token) const {
    return tickets_.token_matches(ticket_id, token);
}

bool StoreLookup::is_participant(std::int64_t ticket_id, std::string_view address) const {
    return tickets_.is_participant(ticket_id, address);
}

}  // namespace ticketd::tickets
