#pragma once
// Repositories for tickets, their messages, attachments and trail. Plain types in and out;
// the SQL stays in store/. Writers expect to run inside the caller's Transaction (one message,
// one transaction: DESIGN.md #3).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ticketd::store {

class Database;

enum class Status { open, pending, resolved, closed };
enum class Priority { low, normal, high, urgent };
const char* to_string(Status s);
const char* to_string(Priority p);
std::optional<Status> parse_status(std::string_view s);
std::optional<Priority> parse_priority(std::string_view s);

struct Ticket {
    std::int64_t id = 0;
    std::int64_t number = 0;
    std::string token;  ///< secret: never print it where a stranger could read it
    std::string subject;
    std::string requester_address, requester_name;
    Status status = Status::open;
    Priority priority = Priority::normal;
    std::string queue, assignee;
    std::int64_t created_at = 0, updated_at = 0;
    std::optional<std::int64_t> closed_at;
    std::optional<std::int64_t> linked_to;  ///< tickets.id of the closed ticket this one follows
    std::vector<std::string> tags;          ///< sorted
};

struct NewTicket {
    std::string token;
    std::string subject;
    std::string requester_address, requester_name;
    std::int64_t created_at = 0;
    std::optional<std::int64_t> linked_to;
    Priority priority = Priority::normal;
    std::string queue;
};

struct Participant {
    std::string address, name;
    std::string role;  ///< requester | cc | agent
    std::int64_t added_at = 0;
};

struct AddressRecord {
    std::string name, address;
};

enum class Direction { in, out };
enum class MessageKind { requester, agent, auto_reply, bounce, note, system };
const char* to_string(Direction d);
const char* to_string(MessageKind k);
MessageKind parse_kind(std::string_view s);

struct MessageRecord {
    std::int64_t id = 0;
    std::int64_t ticket = 0;
    std::optional<std::int64_t> inbox_id;
    Direction direction = Direction::in;
    MessageKind kind = MessageKind::requester;
    std::string message_id;  ///< without angle brackets
    std::string from_address, from_name;
    std::vector<AddressRecord> to, cc;
    std::string subject;
    std::optional<std::int64_t> date;
    std::string body, new_text, quoted_text, signature;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string content_hash;
    std::string thread_signal;  ///< which threading signal put it on this ticket
    std::int64_t created_at = 0;
};

struct AttachmentRecord {
    std::int64_t id = 0;
    std::int64_t message = 0;
    std::string filename, content_type;
    std::uint64_t size = 0;
    std::string sha256;
    std::string content_id;
    bool inline_ = false;
};

struct Event {
    std::int64_t id = 0;
    std::optional<std::int64_t> ticket, message, inbox_id;
    std::int64_t at = 0;
    std::string kind;    ///< stable name, e.g. "thread.matched", "ticket.reopened"
    std::string detail;  ///< for humans: the evidence
};

struct ListFilter {
    std::optional<Status> status;
    int limit = 100;
    int offset = 0;
};

/// Tickets, tags and participants.
class Tickets {
public:
    explicit Tickets(Database& db);

    /// Insert with the next free number; returns the stored ticket.
    Ticket create(const NewTicket& t);
    std::optional<Ticket> get(std::int64_t id);
    std::optional<Ticket> by_number(std::int64_t number);
    /// Newest first.
    std::vector<Ticket> list(const ListFilter& f = {});
    std::int64_t count();

    /// Constant-time compare against the ticket's token.
    bool token_matches(std::int64_t id, std::string_view token);

    /// The newest ticket opened as a follow-up of this one (linked_to = id).
    std::optional<Ticket> follow_up(std::int64_t id);

    void set_status(std::int64_t id, Status s, std::int64_t at);
    void set_priority(std::int64_t id, Priority p, std::int64_t at);
    void set_queue(std::int64_t id, std::string_view queue, std::int64_t at);
    void set_assignee(std::int64_t id, std::string_view assignee, std::int64_t at);
    void touch(std::int64_t id, std::int64_t at);

    void add_tag(std::int64_t id, std::string_view tag);
    void remove_tag(std::int64_t id, std::string_view tag);
    std::vector<std::string> tags(std::int64_t id);

    /// True when newly added; an existing participant keeps its role.
    bool add_participant(std::int64_t id, std::string_view address, std::string_view name,
                         std::string_view role, std::int64_t at);
    bool is_participant(std::int64_t id, std::string_view address);
    std::vector<Participant> participants(std::int64_t id);

private:
    Database& db_;
};

/// Messages, the Message-ID index, attachments and their blobs.
class Messages {
public:
    explicit Messages(Database& db);

    std::int64_t add(const MessageRecord& m);
    std::vector<MessageRecord> for_ticket(std::int64_t ticket);
    std::optional<MessageRecord> get(std::int64_t id);

    /// Record a Message-ID we stored or sent. The first ticket to claim an id keeps it.
    void add_message_id(std::string_view message_id, std::int64_t ticket,
                        std::optional<std::int64_t> message, Direction d);
    /// The ticket (tickets.id) a Message-ID belongs to.
    std::optional<std::int64_t> ticket_for_message_id(std::string_view message_id);

    struct Stored {
        std::int64_t message = 0;
        std::int64_t ticket = 0;
        std::string content_hash;
    };
    /// Messages already stored under this Message-ID.
    std::vector<Stored> with_message_id(std::string_view message_id);

    /// Store the bytes once (content-addressed) and the attachment row.
    std::int64_t add_attachment(const AttachmentRecord& a, std::string_view data);
    std::vector<AttachmentRecord> attachments(std::int64_t message);
    std::optional<std::string> blob(std::string_view sha256);

private:
    Database& db_;
};

/// The per-ticket trail (Znuny's communication log is the model).
class Events {
public:
    explicit Events(Database& db);
    std::int64_t add(const Event& e);
    std::vector<Event> for_ticket(std::int64_t ticket);
    std::vector<Event> for_inbox(std::int64_t inbox_id);

private:
    Database& db_;
};

}  // namespace ticketd::store
