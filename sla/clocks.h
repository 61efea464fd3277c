#pragma once
// A ticket's SLA clocks as a pure function of its history (issue 6): what the daemon stores and
// arms one timer for. No wall clock inside: `now` and the alarms already fired are parameters, so
// a restart recomputes exactly the same answer from the same events.
//
// The rules, in short (docs/sla.md has the long form):
// - The policy is the one matching the ticket as it stands at `now`. When a change of priority,
//   queue or tags switches policy, every target is recomputed under the new policy from its
//   original start (a raise to urgent can make a ticket breached at once).
// - first_response runs from creation to the first agent reply; next_response from the first
//   requester message left unanswered after that, to the next agent reply (the latest such cycle
//   is reported); resolution from creation to resolved/closed, and time spent resolved before a
//   reopen does not count. Resolving (or closing) a ticket also stops the response clocks.
// - With pause_while_pending, time in `pending` counts for no clock.
// - A stopped target is met when it stopped by its due time, else breached. A running one is
//   breached from its due time on; paused, while a pending status holds it.

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "sla/policy.h"

namespace ticketd::sla {

/// Something that happened to a ticket, in the daemon's words.
struct Event {
    enum class Kind {
        created,            ///< facts: priority, queue, tags (status open)
        agent_reply,        ///< an agent answered the requester
        requester_message,  ///< the requester wrote again (not the message that created it)
        status,             ///< value: open, pending, resolved, closed
        priority,           ///< value: the new priority
        queue,              ///< value: the new queue
        tags,               ///< tags: the ticket's tags from now on
    };
    Kind kind = Kind::created;
    Time at;
    std::string value;              ///< created: the priority; status, priority, queue: the new value
    std::string queue;              ///< created: the queue
    std::vector<std::string> tags;  ///< created, tags: the ticket's tags

    static Event created(Time at, std::string priority, std::string queue = {}, std::vector<std::string> tags = {});
    static Event agent_reply(Time at);
    static Event requester_message(Time at);
    static Event status_changed(Time at, std::string status);
    static Event priority_changed(Time at, std::string priority);
    static Event queue_changed(Time at, std::string queue);
    static Event tags_changed(Time at, std::vector<std::string> tags);
};

enum class State { running, paused, met, breached };
const char* to_string(State s);  ///< "running", "paused", "met", "breached"

struct TargetClock {
    Target target = Target::first_response;
    State state = State::running;
    Duration goal{0};              ///< the policy's target, business time
    Time started;                  ///< when this clock (or next_response cycle) began
    std::optional<Time> due;       ///< nullopt while paused short of its goal
    std::optional<Time> stopped;   ///< met or stopped by resolution: when
    Duration elapsed{0};           ///< business time counted, up to `stopped` or `now`
};

/// A reminder or escalation to carry out once. `key` names it for good: it does not change when
/// the clocks are recomputed, so the daemon records fired keys and passes them back.
struct Alarm {
    enum class Kind { reminder, escalation };
    Kind kind = Kind::reminder;
    Target target = Target::first_response;
    Time at;                       ///< may be <= now: overdue (the daemon was down), fire at once
    std::string key;               ///< "first_response/1764669600/75%", ".../breach", ".../escalate"
    std::size_t reminder = 0;      ///< Kind::reminder: index into the policy's reminders
};

struct ClockState {
    std::string policy;            ///< the matching policy's name ("" when no history or policies)
    Time policy_since;             ///< when that policy started to apply
    Facts facts;                   ///< the ticket as it stands at `now`
    std::vector<TargetClock> targets;  ///< one per target the policy sets (next_response once there is a cycle)
    std::vector<Alarm> alarms;     ///< not yet fired, in time order
    /// The one moment the daemon's timer should wake for: the earliest alarm, or the next due
    /// time of a running target (its state turns to breached). nullopt: nothing to wait for.
    std::optional<Time> next_wakeup;
};

/// Computes the clocks from `history` (any order; ties keep their order; events after `now`
/// are ignored). `fired` holds the keys of alarms already carried out. Without a `created`
/// event there are no clocks. Deterministic: same input, same output.
ClockState compute_clocks(const Policies& policies, std::vector<Event> history, Time now,
                          const std::set<std::string>& fired = {});

}  // namespace ticketd::sla
