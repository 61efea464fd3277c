#include "store/tickets.h"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "store/database.h"
#include "store/hash.h"

namespace ticketd::store {

namespace {

constexpr const char* kTicketColumns =
    "id, number, token, subject, requester_address, requester_name, status, priority, queue, "
    "assignee, created_at, updated_at, closed_at, linked_to";

Ticket read_ticket(const Statement& st) {
    Ticket t;
    t.id = st.int64(0);
    t.number = st.int64(1);
    t.token = st.text(2);
    t.subject = st.text(3);
    t.requester_address = st.text(4);
    t.requester_name = st.text(5);
    t.status = parse_status(st.text(6)).value_or(Status::open);
    t.priority = parse_priority(st.text(7)).value_or(Priority::normal);
    t.queue = st.text(8);
    t.assignee = st.text(9);
    t.created_at = st.int64(10);
    t.updated_at = st.int64(11);
    t.closed_at = st.opt_int64(12);
    t.linked_to = st.opt_int64(13);
    return t;
}

std::string addresses_json(const std::vector<AddressRecord>& v) {
    nlohmann::json a = nlohmann::json::array();
    for (const auto& x : v) a.push_back({{"name", x.name}, {"address", x.address}});
    return a.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::vector<AddressRecord> addresses_from_json(const std::string& s) {
    std::vector<AddressRecord> out;
    auto j = nlohmann::json::parse(s, nullptr, false);
    if (!j.is_array()) return out;
    for (const auto& x : j) {
        out.push_back({x.value("name", ""), x.value("address", "")});
    }
    return out;
}

std::string headers_json(const std::vector<std::pair<std::string, std::string>>& v) {
    nlohmann::json a = nlohmann::json::array();
    for (const auto& [k, val] : v) a.push_back({k, val});
    return a.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::vector<std::pair<std::string, std::string>> headers_from_json(const std::string& s) {
    std::vector<std::pair<std::string, std::string>> out;
    auto j = nlohmann::json::parse(s, nullptr, false);
    if (!j.is_array()) return out;
    for (const auto& x : j) {
        if (x.is_array() && x.size() == 2 && x[0].is_string() && x[1].is_string())
            out.emplace_back(x[0].get<std::string>(), x[1].get<std::string>());
    }
    return out;
}

constexpr const char* kMessageColumns =
    "id, ticket, inbox_id, direction, kind, message_id, from_address, from_name, to_addrs, "
    "cc_addrs, subject, date, body, new_text, quoted_text, signature, headers, content_hash, "
    "thread_signal, created_at";

MessageRecord read_message(const Statement& st) {
    MessageRecord m;
    m.id = st.int64(0);
    m.ticket = st.int64(1);
    m.inbox_id = st.opt_int64(2);
    m.direction = st.text(3) == "out" ? Direction::out : Direction::in;
    m.kind = parse_kind(st.text(4));
    m.message_id = st.text(5);
    m.from_address = st.text(6);
    m.from_name = st.text(7);
    m.to = addresses_from_json(st.text(8));
    m.cc = addresses_from_json(st.text(9));
    m.subject = st.text(10);
    m.date = st.opt_int64(11);
    m.body = st.text(12);
    m.new_text = st.text(13);
    m.quoted_text = st.text(14);
    m.signature = st.text(15);
    m.headers = headers_from_json(st.text(16));
    m.content_hash = st.text(17);
    m.thread_signal = st.text(18);
    m.created_at = st.int64(19);
    return m;
}

}  // namespace

const char* to_string(Status s) {
    switch (s) {
        case Status::open: return "open";
        case Status::pending: return "pending";
        case Status::resolved: return "resolved";
        case Status::closed: return "closed";
    }
    return "open";
}

const char* to_string(Priority p) {
    switch (p) {
        case Priority::low: return "low";
        case Priority::normal: return "normal";
        case Priority::high: return "high";
        case Priority::urgent: return "urgent";
    }
    return "normal";
}

std::optional<Status> parse_status(std::string_view s) {
    if (s == "open") return Status::open;
    if (s == "pending") return Status::pending;
    if (s == "resolved") return Status::resolved;
    if (s == "closed") return Status::closed;
    return std::nullopt;
}

std::optional<Priority> parse_priority(std::string_view s) {
    if (s == "low") return Priority::low;
    if (s == "normal") return Priority::normal;
    if (s == "high") return Priority::high;
    if (s == "urgent") return Priority::urgent;
    return std::nullopt;
}

const char* to_string(Direction d) { return d == Direction::out ? "out" : "in"; }

const char* to_string(MessageKind k) {
    switch (k) {
        case MessageKind::requester: return "requester";
        case MessageKind::agent: return "agent";
        case MessageKind::auto_reply: return "auto_reply";
        case MessageKind::bounce: return "bounce";
        case MessageKind::note: return "note";
        case MessageKind::system: return "system";
    }
    return "requester";
}

MessageKind parse_kind(std::string_view s) {
    if (s == "agent") return MessageKind::agent;
    if (s == "auto_reply") return MessageKind::auto_reply;
    if (s == "bounce") return MessageKind::bounce;
    if (s == "note") return MessageKind::note;
    if (s == "system") return MessageKind::system;
    return MessageKind::requester;
}

// --- Tickets

Tickets::Tickets(Database& db) : db_(db) {}

Ticket Tickets::create(const NewTicket& t) {
    // MAX over the UNIQUE index is one b-tree descent; the caller's write transaction makes
    // the read-then-insert race-free across processes.
    auto next = db_.prepare("SELECT coalesce(max(number), 1000) + 1 FROM tickets");
    next.step();
    const std::int64_t number = next.int64(0);
    auto ins = db_.prepare(
        "INSERT INTO tickets (number, token, subject, requester_address, requester_name, status, "
        "priority, queue, created_at, updated_at, linked_to) "
        "VALUES (?,?,?,?,?,'open',?,?,?,?,?)");
    ins.bind_all(number, t.token, t.subject, t.requester_address, t.requester_name,
                 to_string(t.priority), t.queue, t.created_at, t.created_at, t.linked_to);
    ins.run();
    return *get(db_.last_insert_id());
}

std::optional<Ticket> Tickets::get(std::int64_t id) {
    std::optional<Ticket> t;
    {
        auto st = db_.prepare(std::string("SELECT ") + kTicketColumns + " FROM tickets WHERE id=?");
        st.bind(1, id);
        if (!st.step()) return std::nullopt;
        t = read_ticket(st);
    }
    t->tags = tags(id);
    return t;
}

std::optional<Ticket> Tickets::by_number(std::int64_t number) {
    std::optional<std::int64_t> id;
    {
        auto st = db_.prepare("SELECT id FROM tickets WHERE number=?");
        st.bind(1, number);
        if (st.step()) id = st.int64(0);
    }
    if (!id) return std::nullopt;
    return get(*id);
}

std::vector<Ticket> Tickets::list(const ListFilter& f) {
    std::vector<Ticket> out;
    {
        auto st = f.status ? db_.prepare(std::string("SELECT ") + kTicketColumns +
                                         " FROM tickets WHERE status=? "
                                         "ORDER BY updated_at DESC, id DESC LIMIT ? OFFSET ?")
                           : db_.prepare(std::string("SELECT ") + kTicketColumns +
                                         " FROM tickets ORDER BY updated_at DESC, id DESC "
                                         "LIMIT ? OFFSET ?");
        if (f.status)
            st.bind_all(to_string(*f.status), f.limit, f.offset);
        else
            st.bind_all(f.limit, f.offset);
        while (st.step()) out.push_back(read_ticket(st));
    }
    for (auto& t : out) t.tags = tags(t.id);
    return out;
}

std::int64_t Tickets::count() {
    auto st = db_.prepare("SELECT count(*) FROM tickets");
    st.step();
    return st.int64(0);
}

bool Tickets::token_matches(std::int64_t id, std::string_view token) {
    auto st = db_.prepare("SELECT token FROM tickets WHERE id=?");
    st.bind(1, id);
    if (!st.step()) return false;
    std::string stored = st.text(0);
    if (token.empty() || stored.size() != token.size()) return false;
    unsigned char diff = 0;
    for (std::size_t i = 0; i < stored.size(); ++i) {
        char a = stored[i], b = token[i];
        // Tokens are hex; accept upper case from clients that shout.
        if (b >= 'A' && b <= 'F') b = static_cast<char>(b - 'A' + 'a');
        diff |= static_cast<unsigned char>(a ^ b);
    }
    return diff == 0;
}

std::optional<Ticket> Tickets::follow_up(std::int64_t id) {
    std::optional<std::int64_t> next;
    {
        auto st = db_.prepare("SELECT id FROM tickets WHERE linked_to=? ORDER BY id DESC LIMIT 1");
        st.bind(1, id);
        if (st.step()) next = st.int64(0);
    }
    if (!next) return std::nullopt;
    return get(*next);
}

void Tickets::set_status(std::int64_t id, Status s, std::int64_t at) {
    auto st = db_.prepare(
        "UPDATE tickets SET status=?1, updated_at=?2, "
        "closed_at = CASE WHEN ?1 IN ('resolved','closed') THEN coalesce(closed_at, ?2) "
        "ELSE NULL END WHERE id=?3");
    st.bind_all(to_string(s), at, id);
    st.run();
}

void Tickets::set_priority(std::int64_t id, Priority p, std::int64_t at) {
    auto st = db_.prepare("UPDATE tickets SET priority=?, updated_at=max(updated_at, ?) WHERE id=?");
    st.bind_all(to_string(p), at, id);
    st.run();
}

void Tickets::set_queue(std::int64_t id, std::string_view queue, std::int64_t at) {
    auto st = db_.prepare("UPDATE tickets SET queue=?, updated_at=max(updated_at, ?) WHERE id=?");
    st.bind_all(queue, at, id);
    st.run();
}

void Tickets::set_assignee(std::int64_t id, std::string_view assignee, std::int64_t at) {
    auto st = db_.prepare("UPDATE tickets SET assignee=?, updated_at=max(updated_at, ?) WHERE id=?");
    st.bind_all(assignee, at, id);
    st.run();
}

void Tickets::touch(std::int64_t id, std::int64_t at) {
    auto st = db_.prepare("UPDATE tickets SET updated_at=max(updated_at, ?) WHERE id=?");
    st.bind_all(at, id);
    st.run();
}

void Tickets::add_tag(std::int64_t id, std::string_view tag) {
    auto st = db_.prepare("INSERT OR IGNORE INTO ticket_tags (ticket, tag) VALUES (?,?)");
    st.bind_all(id, tag);
    st.run();
}

void Tickets::remove_tag(std::int64_t id, std::string_view tag) {
    auto st = db_.prepare("DELETE FROM ticket_tags WHERE ticket=? AND tag=?");
    st.bind_all(id, tag);
    st.run();
}

std::vector<std::string> Tickets::tags(std::int64_t id) {
    auto st = db_.prepare("SELECT tag FROM ticket_tags WHERE ticket=? ORDER BY tag");
    st.bind(1, id);
    std::vector<std::string> out;
    while (st.step()) out.push_back(st.text(0));
    return out;
}

bool Tickets::add_participant(std::int64_t id, std::string_view address, std::string_view name,
                              std::string_view role, std::int64_t at) {
    auto st = db_.prepare(
        "INSERT INTO participants (ticket, address, name, role, added_at) VALUES (?,?,?,?,?) "
        "ON CONFLICT (ticket, address) DO UPDATE SET name = excluded.name "
        "WHERE participants.name = '' AND excluded.name <> ''");
    // changes() also counts the name fill-in; compare membership before and after instead.
    bool existed = is_participant(id, address);
    st.bind_all(id, address, name, role, at);
    st.run();
    return !existed;
}

bool Tickets::is_participant(std::int64_t id, std::string_view address) {
    auto st = db_.prepare("SELECT 1 FROM participants WHERE ticket=? AND address=?");
    st.bind_all(id, address);
    return st.step();
}

std::vector<Participant> Tickets::participants(std::int64_t id) {
    auto st = db_.prepare(
        "SELECT address, name, role, added_at FROM participants WHERE ticket=? "
        "ORDER BY added_at, role <> 'requester', address");
    st.bind(1, id);
    std::vector<Participant> out;
    while (st.step()) out.push_back({st.text(0), st.text(1), st.text(2), st.int64(3)});
    return out;
}

// --- Messages

Messages::Messages(Database& db) : db_(db) {}

std::int64_t Messages::add(const MessageRecord& m) {
    auto st = db_.prepare(
        "INSERT INTO messages (ticket, inbox_id, direction, kind, message_id, from_address, "
        "from_name, to_addrs, cc_addrs, subject, date, body, new_text, quoted_text, signature, "
        "headers, content_hash, thread_signal, created_at) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    st.bind_all(m.ticket, m.inbox_id, to_string(m.direction), to_string(m.kind), m.message_id,
                m.from_address, m.from_name, addresses_json(m.to), addresses_json(m.cc),
                m.subject, m.date, m.body, m.new_text, m.quoted_text, m.signature,
                headers_json(m.headers), m.content_hash, m.thread_signal, m.created_at);
    st.run();
    return db_.last_insert_id();
}

std::vector<MessageRecord> Messages::for_ticket(std::int64_t ticket) {
    auto st = db_.prepare(std::string("SELECT ") + kMessageColumns +
                          " FROM messages WHERE ticket=? ORDER BY id");
    st.bind(1, ticket);
    std::vector<MessageRecord> out;
    while (st.step()) out.push_back(read_message(st));
    return out;
}

std::optional<MessageRecord> Messages::get(std::int64_t id) {
    auto st = db_.prepare(std::string("SELECT ") + kMessageColumns + " FROM messages WHERE id=?");
    st.bind(1, id);
    if (!st.step()) return std::nullopt;
    return read_message(st);
}

void Messages::add_message_id(std::string_view message_id, std::int64_t ticket,
                              std::optional<std::int64_t> message, Direction d) {
    if (message_id.empty()) return;
    auto st = db_.prepare(
        "INSERT OR IGNORE INTO message_ids (message_id, ticket, message, direction) "
        "VALUES (?,?,?,?)");
    st.bind_all(message_id, ticket, message, to_string(d));
    st.run();
}

std::optional<std::int64_t> Messages::ticket_for_message_id(std::string_view message_id) {
    if (message_id.empty()) return std::nullopt;
    auto st = db_.prepare("SELECT ticket FROM message_ids WHERE message_id=?");
    st.bind(1, message_id);
    if (!st.step()) return std::nullopt;
    return st.int64(0);
}

std::vector<Messages::Stored> Messages::with_message_id(std::string_view message_id) {
    std::vector<Stored> out;
    if (message_id.empty()) return out;
    auto st = db_.prepare(
        "SELECT id, ticket, content_hash FROM messages WHERE message_id=? AND message_id<>'' "
        "ORDER BY id");
    st.bind(1, message_id);
    while (st.step()) out.push_back({st.int64(0), st.int64(1), st.text(2)});
    return out;
}

std::int64_t Messages::add_attachment(const AttachmentRecord& a, std::string_view data) {
    // Trust our own hash over the caller's: the blob key must be what the bytes really are.
    const std::string sha = a.sha256.empty() ? sha256_hex(data) : a.sha256;
    {
        auto blob = db_.prepare(
            "INSERT INTO blobs (sha256, size, data) VALUES (?,?,?) ON CONFLICT DO NOTHING");
        blob.bind(1, sha);
        blob.bind(2, static_cast<std::int64_t>(data.size()));
        blob.bind_blob(3, data);
        blob.run();
    }
    auto st = db_.prepare(
        "INSERT INTO attachments (message, filename, content_type, size, sha256, content_id, "
        "inline) VALUES (?,?,?,?,?,?,?)");
    st.bind_all(a.message, a.filename, a.content_type, static_cast<std::int64_t>(data.size()), sha,
                a.content_id, a.inline_ ? 1 : 0);
    st.run();
    return db_.last_insert_id();
}

std::vector<AttachmentRecord> Messages::attachments(std::int64_t message) {
    auto st = db_.prepare(
        "SELECT id, message, filename, content_type, size, sha256, content_id, inline "
        "FROM attachments WHERE message=? ORDER BY id");
    st.bind(1, message);
    std::vector<AttachmentRecord> out;
    while (st.step()) {
        AttachmentRecord a;
        a.id = st.int64(0);
        a.message = st.int64(1);
        a.filename = st.text(2);
        a.content_type = st.text(3);
        a.size = static_cast<std::uint64_t>(st.int64(4));
        a.sha256 = st.text(5);
        a.content_id = st.text(6);
        a.inline_ = st.int64(7) != 0;
        out.push_back(std::move(a));
    }
    return out;
}

std::optional<std::string> Messages::blob(std::string_view sha256) {
    auto st = db_.prepare("SELECT data FROM blobs WHERE sha256=?");
    st.bind(1, sha256);
    if (!st.step()) return std::nullopt;
    return st.blob(0);
}

// --- Events

Events::Events(Database& db) : db_(db) {}

std::int64_t Events::add(const Event& e) {
    auto st = db_.prepare(
        "INSERT INTO events (ticket, message, inbox_id, at, kind, detail) VALUES (?,?,?,?,?,?)");
    st.bind_all(e.ticket, e.message, e.inbox_id, e.at, e.kind, e.detail);
    st.run();
    return db_.last_insert_id();
}

namespace {
std::vector<Event> read_events(Statement& st) {
    std::vector<Event> out;
    while (st.step()) {
        Event e;
        e.id = st.int64(0);
        e.ticket = st.opt_int64(1);
        e.message = st.opt_int64(2);
        e.inbox_id = st.opt_int64(3);
        e.at = st.int64(4);
        e.kind = st.text(5);
        e.detail = st.text(6);
        out.push_back(std::move(e));
    }
    return out;
}
}  // namespace

std::vector<Event> Events::for_ticket(std::int64_t ticket) {
    auto st = db_.prepare(
        "SELECT id, ticket, message, inbox_id, at, kind, detail FROM events WHERE ticket=? "
        "ORDER BY id");
    st.bind(1, ticket);
    return read_events(st);
}

std::vector<Event> Events::for_inbox(std::int64_t inbox_id) {
    auto st = db_.prepare(
        "SELECT id, ticket, message, inbox_id, at, kind, detail FROM events WHERE inbox_id=? "
        "ORDER BY id");
    st.bind(1, inbox_id);
    return read_events(st);
}

}  // namespace ticketd::store
