#pragma once
// Reading tickets back for people and scripts: `tickets list`, `tickets show`.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/tickets.h"

namespace ticketd::store {
class Database;
}

namespace ticketd::tickets {

struct MessageView {
    store::MessageRecord message;
    std::vector<store::AttachmentRecord> attachments;
};

/// One ticket with everything `tickets show` prints.
struct TicketView {
    store::Ticket ticket;
    std::optional<std::int64_t> linked_to_number;  ///< the closed ticket this one follows
    std::vector<store::Participant> participants;
    std::vector<MessageView> messages;  ///< in the order they arrived
    std::vector<store::Event> events;   ///< the trail, in order
};

/// Newest first; `filter.status` narrows to one status.
std::vector<store::Ticket> list_tickets(store::Database& db, const store::ListFilter& filter = {});
/// By the number people see (#1042); nullopt when there is none.
std::optional<TicketView> show_ticket(store::Database& db, std::int64_t number);

}  // namespace ticketd::tickets
