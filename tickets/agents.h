#pragma once
// Agents working by mail (issue 5). The pipeline asks three things here:
//   - is this mail from a configured agent, and is it verified (a trusted server's
//     Authentication-Results, or a mailbox the admin marked trusted_agents)?
//   - a verified agent's mail on a ticket: apply its #commands, relay its answer to the requester
//     and cc participants, or send the agent an error and change nothing (apply_agent_mail);
//   - an unverified one: record it and warn the agents (warn_unverified_agent_mail).
// And one hook notifies agents of new tickets and requester replies (notify_agents).
// Everything is written inside the message's transaction (DESIGN.md #3).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "mail/compose.h"
#include "parsers/message.h"
#include "store/tickets.h"
#include "tickets/agent_commands.h"
#include "tickets/pipeline.h"
#include "tickets/threading.h"

namespace ticketd::store {
class Database;
}

namespace ticketd::tickets {

struct AgentSender {
    const config::Agent* agent = nullptr;  ///< From is this configured agent's address
    bool verified = false;
    std::string evidence;                  ///< why (not) verified, for the trail
};

/// Mail that came through an inbox source the admin trusts for agents: an IMAP mailbox with
/// `trusted_agents: true`, or `ticketd ingest --trusted-agents` (`trusted_ingest`).
bool trusted_source(std::string_view inbox_source, const config::Config& cfg, bool trusted_ingest);

/// Who wrote `msg`, as far as agents are concerned. Automatic mail (auto-replies, bounces) is
/// never an agent's act: the result has no agent then. Pure.
AgentSender agent_sender(const parsers::Message& msg, const config::Config& cfg, bool trusted_source);

/// Signals that name a ticket by something only its mail carried (a Message-ID or the token):
/// the only ones an agent's commands act on. A bare number ("[TICKET #12]") could be a guess.
bool strong_signal(Signal s);

/// A verified agent's mail on a ticket, decided before the message row is written.
struct AgentWork {
    const config::Agent* agent = nullptr;
    AgentCommands commands;  ///< parsed and resolved; errors mean nothing is applied
    /// What the message is stored as: `note` for #note and for mail with invalid commands (kept,
    /// never relayed), `agent` otherwise.
    store::MessageKind kind() const {
        return commands.note || !commands.errors.empty() ? store::MessageKind::note : store::MessageKind::agent;
    }
};
AgentWork prepare_agent_work(const parsers::Message& msg, const config::Config& cfg, const config::Agent& agent);

/// After the agent's message row is stored: the commands (each an `agent.command` event), the
/// first response (`ticket.first_response`), the relay (`outbox` kind `relay`), or on invalid
/// commands the error mail (kind `agent_error`) and `agent.command_error`, nothing else.
void apply_agent_mail(store::Database& db, const AgentWork& work, const parsers::Message& msg,
                      const config::Config& cfg, std::int64_t ticket_id, std::int64_t message_row,
                      std::int64_t inbox_id, std::int64_t now);

/// An unverified mail from an agent's address: `agent.unverified` on the ticket and a warning
/// (kind `agent_warning`) to the agents the ticket would notify and to the address itself.
void warn_unverified_agent_mail(store::Database& db, const AgentSender& sender, const parsers::Message& msg,
                                const config::Config& cfg, std::int64_t ticket_id, std::int64_t message_row,
                                std::int64_t inbox_id, std::int64_t now);

/// Whom a ticket's news goes to: its assignee (if an agent), else the agents of its queue,
/// else every agent. Addresses, lower-case, no duplicates.
std::vector<std::string> agents_to_notify(const config::Config& cfg, const store::Ticket& t);

/// The rules' `notify:` list resolved to addresses: an agent's name or address, a queue (its
/// agents), or any address.
std::vector<std::string> resolve_notify(const config::Config& cfg, const std::vector<std::string>& notify);

/// The pipeline hook: a new ticket or a requester's reply (never automatic mail, never an
/// agent's own mail) notifies agents_to_notify() plus the rules' notify:, one outbox row
/// (kind `notification`) each, with the message text and the tag so an answer threads back.
void notify_agents(store::Database& db, const Ingested& ing);

}  // namespace ticketd::tickets
