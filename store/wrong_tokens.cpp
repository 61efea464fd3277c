#include "store/wrong_tokens.h"

#include "store/database.h"

namespace ticketd::store {

WrongTokens::WrongTokens(Database& db) : db_(db) {}

void WrongTokens::add(const std::string& sender, std::int64_t at, std::optional<std::int64_t> inbox_id, int count) {
    auto st = db_.prepare("INSERT INTO wrong_tokens (sender, at, inbox_id, count) VALUES (?, ?, ?, ?)");
    st.bind_all(sender, at, inbox_id, count);
    st.run();
}

int WrongTokens::attempts_since(const std::string& sender, std::int64_t since) {
    auto st = db_.prepare("SELECT count(*) FROM wrong_tokens WHERE sender = ? AND at >= ?");
    st.bind_all(sender, since);
    return st.step() ? static_cast<int>(st.int64(0)) : 0;
}

std::optional<std::int64_t> WrongTokens::flagged_at(const std::string& sender) {
    auto st = db_.prepare("SELECT flagged_at FROM token_guessers WHERE sender = ?");
    st.bind_all(sender);
    if (!st.step()) return std::nullopt;
    return st.int64(0);
}

void WrongTokens::flag(const std::string& sender, std::int64_t at, int attempts) {
    auto st = db_.prepare(
        "INSERT INTO token_guessers (sender, flagged_at, attempts) VALUES (?, ?, ?) "
        "ON CONFLICT(sender) DO UPDATE SET flagged_at = excluded.flagged_at, attempts = excluded.attempts");
    st.bind_all(sender, at, attempts);
    st.run();
}

}  // namespace ticketd::store
