#include "tickets/token_guessing.h"

#include <spdlog/spdlog.h>

#include "metrics/metrics.h"
#include "parsers/headers.h"
#include "store/wrong_tokens.h"

namespace ticketd::tickets {

namespace {

std::int64_t window_start(const config::SecurityConfig& p, std::int64_t now) {
    return now - p.token_guessing_window.count() + 1;  // the last `window` seconds, now included
}

std::string limit_text(const config::SecurityConfig& p) {
    return "security.token_guessing_limit " + std::to_string(p.token_guessing_limit) + " per " +
           std::to_string(p.token_guessing_window.count()) + " s";
}

}  // namespace

TokenGuessingVerdict judge_token_guessing(const config::SecurityConfig& policy, int attempts,
                                          std::optional<std::int64_t> reported_at, std::int64_t now) {
    TokenGuessingVerdict v;
    if (policy.token_guessing_limit <= 0) return v;
    v.guessing = attempts >= policy.token_guessing_limit;
    // Once per window: a report older than the window (or a clock put back before it) is stale.
    v.report = v.guessing && (!reported_at || now - *reported_at >= policy.token_guessing_window.count() ||
                              *reported_at > now);
    return v;
}

std::optional<std::string> note_wrong_tokens(store::Database& db, const config::Config& cfg,
                                             const std::string& sender, std::int64_t inbox_id,
                                             int wrong_tokens, std::int64_t now) {
    const auto& p = cfg.security;
    if (p.token_guessing_limit <= 0 || wrong_tokens <= 0 || sender.empty()) return std::nullopt;
    const std::string who = parsers::ascii_lower(sender);
    store::WrongTokens repo(db);
    repo.add(who, now, inbox_id, wrong_tokens);
    metrics::wrong_token();
    const int attempts = repo.attempts_since(who, window_start(p, now));
    const auto v = judge_token_guessing(p, attempts, repo.flagged_at(who), now);
    if (!v.report) return std::nullopt;
    repo.flag(who, now, attempts);
    metrics::token_guessing();
    spdlog::warn("event=threading.token_guessing sender={} attempts={} limit={} window_s={} inbox={} "
                 "action=no_acknowledgements",
                 who, attempts, p.token_guessing_limit, p.token_guessing_window.count(), inbox_id);
    return who + " named tickets with a wrong token " + std::to_string(attempts) + " times (" + limit_text(p) +
           "): no acknowledgements to it while this lasts; its mail is still filed";
}

std::optional<std::string> token_guessing_refusal(store::Database& db, const config::Config& cfg,
                                                  const std::string& sender, std::int64_t now) {
    const auto& p = cfg.security;
    if (p.token_guessing_limit <= 0 || sender.empty()) return std::nullopt;
    const std::string who = parsers::ascii_lower(sender);
    const int attempts = store::WrongTokens(db).attempts_since(who, window_start(p, now));
    if (!judge_token_guessing(p, attempts, std::nullopt, now).guessing) return std::nullopt;
    return "the sender " + who + " named tickets with a wrong token " + std::to_string(attempts) +
           " times (" + limit_text(p) + ")";
}

}  // namespace ticketd::tickets
