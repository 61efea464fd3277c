#pragma once
// The JSON contract of `tickets list --json` and `tickets show --json`, and the plain-text
// rendering for humans. The ticket token never appears in list output; `show` prints the subject
// tag (which carries it) because whoever can run `show` can read the ticket anyway.

#include <nlohmann/json.hpp>

#include <string>
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

/// "2026-11-23 02:10:49Z" (UTC); "" for 0.
std::string format_time(std::int64_t unix_seconds);

}  // namespace ticketd::tickets
