#pragma once
// Wrong-token attempts per sender (issue 8, migration 12): a message naming an existing ticket
// with a token that is not that ticket's, and matching no ticket. Writers run inside the
// caller's Transaction, so an attempt commits with its message or not at all.

#include <cstdint>
#include <optional>
#include <string>

namespace ticketd::store {

class Database;

class WrongTokens {
public:
    explicit WrongTokens(Database& db);

    /// One message from `sender` (any case) with `count` wrong tokens in it.
    void add(const std::string& sender, std::int64_t at, std::optional<std::int64_t> inbox_id, int count);
    /// Messages with wrong tokens from `sender` at or after `since`.
    int attempts_since(const std::string& sender, std::int64_t since);
    /// When token guessing by `sender` was last reported, if ever.
    std::optional<std::int64_t> flagged_at(const std::string& sender);
    void flag(const std::string& sender, std::int64_t at, int attempts);

private:
    Database& db_;
};

}  // namespace ticketd::store
