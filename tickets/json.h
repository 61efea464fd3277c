#pragma once
// The JSON contract of `tickets list --json` and `tickets show --json`, and the plain-text
// rendering for humans. The ticket token never appears in list output; `show` prints the subject
// tag (which carries it) because whoever can run `show` can read the ticket anyway.

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "store/tickets.h"
#include "tickets/query.h"

namespace ticketd::tickets {

/// {number, status, priority, tags, queue, assignee, requester{address,name}, subject,
///  created_at, updated_at, closed_at, linked_to}: token-free.
nlohmann::json ticket_json(const store::Ticket& t);
/// An array of ticket_json.
nlohmann::json list_json(const std::vector<store::Ticket>& tickets);
/// ticket_json plus subject_tag, participants, messages (in order: kind, direction, from,
/// to, cc, subject, date, body, new_text, message_id, thread_signal, attachments) and events.
nlohmann::json show_json(const TicketView& v, const config::DeskConfig& desk);

/// A table, one ticket per line.
std::string render_list(const std::vector<store::Ticket>& tickets);
/// Header, people, each message with its new text, then the trail.
std::string render_show(const TicketView& v, const config::DeskConfig& desk);

/// Text for a terminal: every control character a mail could carry (C0 but newline and tab,
/// DEL, the C1 range U+0080-U+009F) becomes U+FFFD, so a subject, name or file name with ESC
/// sequences cannot retitle, recolour or rewrite an admin's terminal. Invalid UTF-8 becomes
/// U+FFFD too. The text renderers above apply it; JSON output escapes controls by itself.
std::string terminal_safe(std::string_view text);

/// "2026-11-23 02:10:49Z" (UTC); "" for 0.
std::string format_time(std::int64_t unix_seconds);

}  // namespace ticketd::tickets
