#include "tickets/query.h"

#include "store/database.h"

namespace ticketd::tickets {

std::vector<store::Ticket> list_tickets(store::Database& db, const store::ListFilter& filter) {
    return store::Tickets(db).list(filter);
}

std::optional<TicketView> show_ticket(store::Database& db, std::int64_t number) {
    store::Tickets tickets(db);
    store::Messages messages(db);
    auto t = tickets.by_number(number);
    if (!t) return std::nullopt;
    TicketView v;
    v.ticket = *t;
    if (t->linked_to)
        if (auto old = tickets.get(*t->linked_to)) v.linked_to_number = old->number;
    v.participants = tickets.participants(t->id);
    for (auto& m : messages.for_ticket(t->id)) {
        MessageView mv;
        mv.attachments = messages.attachments(m.id);
        mv.message = std::move(m);
        v.messages.push_back(std::move(mv));
    }
    v.events = store::Events(db).for_ticket(t->id);
    return v;
}

}  // namespace ticketd::tickets
