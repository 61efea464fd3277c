#pragma once
// Delivery failures of our own mail (issue 5): a bounce (DSN) that reports on an outbox row is
// recorded against that row, so "did the requester get the agent's answer?" has an answer on the
// ticket and in `ticketd outbox list`. The bounce itself stays a message on the ticket (kind
// bounce); this table links it to what it reports on.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ticketd::store {

class Database;

struct DeliveryFailure {
    std::int64_t id = 0;
    std::int64_t outbox = 0;               ///< outbox.id of the mail that bounced
    std::optional<std::int64_t> ticket;    ///< tickets.id
    std::optional<std::int64_t> message;   ///< messages.id of the bounce on the ticket
    std::string recipient;                 ///< the address that failed ("" when the DSN names none)
    std::string status;                    ///< RFC 3463, e.g. "5.1.1"
    std::string diagnostic;                ///< the remote MTA's words
    bool permanent = true;                 ///< false: a delay warning (4.x.x), the mail may still arrive
    std::int64_t at = 0;
};

/// What a bounce is matched against: the outbox rows' identity, without their bytes.
struct SentMail {
    std::int64_t id = 0;
    std::optional<std::int64_t> ticket;
    std::string kind;
    std::string message_id;
    std::vector<std::string> recipients;
    std::optional<std::int64_t> sent_at;
};

class Bounces {
public:
    explicit Bounces(Database& db);

    /// The outbox row that sent `message_id` (without angle brackets); nullopt when none did.
    std::optional<SentMail> outbox_by_message_id(std::string_view message_id);
    /// The ticket's outbox rows that were sent, newest first.
    std::vector<SentMail> sent_for_ticket(std::int64_t ticket);

    std::int64_t add(const DeliveryFailure& f);
    std::vector<DeliveryFailure> for_outbox(std::int64_t outbox);
    std::vector<DeliveryFailure> for_ticket(std::int64_t ticket);
    /// Outbox rows with at least one permanent failure recorded.
    std::int64_t count_bounced_outbox();

private:
    Database& db_;
};

}  // namespace ticketd::store
