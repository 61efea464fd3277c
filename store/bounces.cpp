#include "store/bounces.h"

#include <nlohmann/json.hpp>

#include "store/database.h"

namespace ticketd::store {

namespace {

constexpr const char* kSentColumns = "id, ticket, kind, message_id, recipients, sent_at";

SentMail read_sent(Statement& st) {
    SentMail m;
    m.id = st.int64(0);
    m.ticket = st.opt_int64(1);
    m.kind = st.text(2);
    m.message_id = st.text(3);
    auto rcpt = nlohmann::json::parse(st.text(4), nullptr, false);
    if (rcpt.is_array())
        for (const auto& r : rcpt)
            if (r.is_string()) m.recipients.push_back(r.get<std::string>());
    m.sent_at = st.opt_int64(5);
    return m;
}

constexpr const char* kFailureColumns =
    "id, outbox, ticket, message, recipient, status, diagnostic, permanent, at";

std::vector<DeliveryFailure> read_failures(Statement& st) {
    std::vector<DeliveryFailure> out;
    while (st.step()) {
        DeliveryFailure f;
        f.id = st.int64(0);
        f.outbox = st.int64(1);
        f.ticket = st.opt_int64(2);
        f.message = st.opt_int64(3);
        f.recipient = st.text(4);
        f.status = st.text(5);
        f.diagnostic = st.text(6);
        f.permanent = st.int64(7) != 0;
        f.at = st.int64(8);
        out.push_back(std::move(f));
    }
    return out;
}

}  // namespace

Bounces::Bounces(Database& db) : db_(db) {}

std::optional<SentMail> Bounces::outbox_by_message_id(std::string_view message_id) {
    if (message_id.empty()) return std::nullopt;
    auto st = db_.prepare(std::string("SELECT ") + kSentColumns + " FROM outbox WHERE message_id = ?");
    st.bind(1, message_id);
    if (!st.step()) return std::nullopt;
    return read_sent(st);
}

std::vector<SentMail> Bounces::sent_for_ticket(std::int64_t ticket) {
    auto st = db_.prepare(std::string("SELECT ") + kSentColumns +
                          " FROM outbox WHERE ticket = ? AND state = 'sent' ORDER BY id DESC");
    st.bind(1, ticket);
    std::vector<SentMail> out;
    while (st.step()) out.push_back(read_sent(st));
    return out;
}

std::int64_t Bounces::add(const DeliveryFailure& f) {
    auto st = db_.prepare(
        "INSERT INTO outbox_bounces (outbox, ticket, message, recipient, status, diagnostic, "
        "permanent, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    st.bind_all(f.outbox, f.ticket, f.message, f.recipient, f.status, f.diagnostic,
                f.permanent ? 1 : 0, f.at);
    st.run();
    return db_.last_insert_id();
}

std::vector<DeliveryFailure> Bounces::for_outbox(std::int64_t outbox) {
    auto st = db_.prepare(std::string("SELECT ") + kFailureColumns +
                          " FROM outbox_bounces WHERE outbox = ? ORDER BY id");
    st.bind(1, outbox);
    return read_failures(st);
}

std::vector<DeliveryFailure> Bounces::for_ticket(std::int64_t ticket) {
    auto st = db_.prepare(std::string("SELECT ") + kFailureColumns +
                          " FROM outbox_bounces WHERE ticket = ? ORDER BY id");
    st.bind(1, ticket);
    return read_failures(st);
}

std::int64_t Bounces::count_bounced_outbox() {
    auto st = db_.prepare("SELECT count(DISTINCT outbox) FROM outbox_bounces WHERE permanent = 1");
    return st.step() ? st.int64(0) : 0;
}

}  // namespace ticketd::store
