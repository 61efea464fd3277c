#pragma once
// Named crash points: a test facility for the fault matrix (issue 8, docs/security.md).
//
// `crash_point("imap.fetched")` kills the process with SIGKILL when the environment variable
// TICKETD_CRASH_AT names that point when the process starts ("imap.fetched"), or names it with a
// count ("imap.fetched:3": the third time it is reached). The variable is read once, before
// main; without it every point is one load and one predictable branch, nothing else. The kill is
// the same thing a power cut or the OOM killer does to a production daemon, so a point can only
// show what the design already promises to survive: it adds no state and no way in (whoever can
// set the daemon's environment can kill it anyway).
//
// The points (each sits between two steps whose order the invariants depend on):
//   imap.fetched       a batch is fetched, before its raw bytes are committed
//   imap.committed     the batch's raw bytes are committed, before the server marks/moves them
//   imap.acknowledged  the server moved/marked them, before they are processed
//   ingest.processed   a batch's ticket transaction is committed, before the next batch
//   smtp.accepted      the SMTP server said 250, before the outbox row is committed as sent
//   smtp.sent          the outbox row is committed as sent, before the next mail
//   sla.queued         SLA reminders/escalations are committed to the outbox, before sending
//   digest.queued      a report digest is committed to the outbox, before sending

#include <optional>
#include <string>
#include <string_view>

namespace ticketd::daemon {

/// What TICKETD_CRASH_AT asks for: the point's name and which arrival kills (1 = the first).
struct CrashSpec {
    std::string point;
    long nth = 1;
};

/// "name" or "name:N" (N >= 1); nullopt for an empty or malformed value (then nothing crashes).
std::optional<CrashSpec> parse_crash_spec(std::string_view value);

/// Every point the daemon has, in the order a message passes them (for tests and docs).
const char* const* crash_point_names();

namespace detail {
extern const bool crash_armed;  ///< TICKETD_CRASH_AT was set at start
void crash_point_reached(std::string_view name);
}  // namespace detail

/// Dies by SIGKILL here when TICKETD_CRASH_AT names this point (and this is its Nth arrival).
inline void crash_point(std::string_view name) {
    if (detail::crash_armed) [[unlikely]]
        detail::crash_point_reached(name);
}

}  // namespace ticketd::daemon
