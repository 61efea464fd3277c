#pragma once
// SLA policies (issue 6): which tickets a policy covers, its targets in business time on its
// calendar, and the reminders and escalation it asks for. The model `sla.yaml` loads into
// (config/sla_loader.h); pure data and matching.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sla/calendar.h"

namespace ticketd::sla {

/// The three clocks a policy can set.
enum class Target { first_response, next_response, resolution };
inline constexpr Target kTargets[] = {Target::first_response, Target::next_response, Target::resolution};
const char* to_string(Target t);  ///< "first_response", "next_response", "resolution"

/// What a policy is matched against: the ticket as it stands.
struct Facts {
    std::string priority = "normal";  ///< low, normal, high, urgent
    std::string queue;
    std::vector<std::string> tags;
    std::string status = "open";      ///< open, pending, resolved, closed
};

/// Every field given must match; within a field any listed value is enough (tags: the ticket
/// carries any one of them). An empty Match matches every ticket: the default policy.
struct Match {
    std::vector<std::string> priorities, queues, tags;
    bool empty() const { return priorities.empty() && queues.empty() && tags.empty(); }
    bool matches(const Facts& facts) const;
};

/// Who a reminder goes to: the ticket's assignee, the agents of its queue, fixed addresses.
struct Recipients {
    bool assignee = false;
    bool queue = false;
    std::vector<std::string> addresses;  ///< lower-case
};

/// `at: 75%` (percent 1..99 of the target's business time) or `at: breach` (percent nullopt).
struct Reminder {
    std::optional<int> percent;
    std::vector<Target> targets;  ///< the targets it watches; empty: all of them
    Recipients to;
    bool watches(Target t) const;
    std::string label() const;  ///< "75%" or "breach": part of an alarm's key
};

/// What happens once when a target breaches. Empty fields do nothing.
struct Escalation {
    std::string priority;                ///< raise to this priority (never lowers one)
    std::string assign;                  ///< reassign to this agent address
    std::vector<std::string> notify;     ///< addresses told of the breach (a lead)
    std::vector<Target> targets;         ///< the targets it watches; empty: all of them
    bool watches(Target t) const;
};

struct Policy {
    std::string name;
    Match match;
    std::string calendar;  ///< a key of Policies::calendars
    std::optional<Duration> first_response, next_response, resolution;  ///< business time
    /// While the ticket is `pending` (waiting on the requester) no clock counts.
    bool pause_while_pending = false;
    std::vector<Reminder> reminders;
    std::optional<Escalation> escalate;

    std::optional<Duration> goal(Target t) const;
};

/// A loaded `sla.yaml`: calendars by name, and policies in order, the last one a default
/// (the loader guarantees it: every ticket has exactly one policy).
struct Policies {
    std::map<std::string, Calendar> calendars;
    std::vector<Policy> policies;

    /// The first policy whose match fits; nullptr only when there are no policies at all.
    const Policy* select(const Facts& facts) const;
    const Calendar& calendar_of(const Policy& policy) const;  ///< throws std::out_of_range if unknown
};

}  // namespace ticketd::sla
