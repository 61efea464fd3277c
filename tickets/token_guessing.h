#pragma once
// Guessed tokens (issue 8): a ticket's 40-bit token makes guessing hopeless, but nothing would
// notice someone trying. Each message that names an existing ticket with a wrong token and
// matches none is counted per sender (migration 12); past security.token_guessing_limit within
// security.token_guessing_window the sender is reported once per window (event
// threading.token_guessing, metric ticketd_token_guessing_total) and gets no acknowledgements
// while it lasts. Their mail is still filed: nothing is dropped.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "config/config.h"

namespace ticketd::store {
class Database;
}

namespace ticketd::tickets {

struct TokenGuessingVerdict {
    bool guessing = false;  ///< at or past the limit within the window: no acknowledgements
    bool report = false;    ///< log it now (not yet reported within the window)
};

/// Pure: `attempts` is the sender's count within the window ending `now`, this one included;
/// `reported_at` when it was last reported. A limit of 0 turns the check off.
TokenGuessingVerdict judge_token_guessing(const config::SecurityConfig& policy, int attempts,
                                          std::optional<std::int64_t> reported_at, std::int64_t now);

/// Inside the message's transaction: count one message from `sender` with `wrong_tokens` wrong
/// tokens. When this attempt makes the sender a guesser not yet reported in the window, logs
/// event=threading.token_guessing, counts the metric and returns the sentence for the trail.
std::optional<std::string> note_wrong_tokens(store::Database& db, const config::Config& cfg,
                                             const std::string& sender, std::int64_t inbox_id,
                                             int wrong_tokens, std::int64_t now);

/// Why `sender` gets no acknowledgement now, or nullopt.
std::optional<std::string> token_guessing_refusal(store::Database& db, const config::Config& cfg,
                                                  const std::string& sender, std::int64_t now);

}  // namespace ticketd::tickets
