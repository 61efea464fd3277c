#include "sla/policy.h"

#include <algorithm>

namespace ticketd::sla {

namespace {

bool contains(const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
}

bool watches(const std::vector<Target>& targets, Target t) {
    return targets.empty() || std::find(targets.begin(), targets.end(), t) != targets.end();
}

}  // namespace

const char* to_string(Target t) {
    switch (t) {
        case Target::first_response: return "first_response";
        case Target::next_response: return "next_response";
        case Target::resolution: return "resolution";
    }
    return "?";
}

bool Match::matches(const Facts& facts) const {
    if (!priorities.empty() && !contains(priorities, facts.priority)) return false;
    if (!queues.empty() && !contains(queues, facts.queue)) return false;
    if (!tags.empty() &&
        std::none_of(tags.begin(), tags.end(), [&](const std::string& t) { return contains(facts.tags, t); }))
        return false;
    return true;
}

bool Reminder::watches(Target t) const { return sla::watches(targets, t); }

std::string Reminder::label() const { return percent ? std::to_string(*percent) + "%" : "breach"; }

bool Escalation::watches(Target t) const { return sla::watches(targets, t); }

std::optional<Duration> Policy::goal(Target t) const {
    switch (t) {
        case Target::first_response: return first_response;
        case Target::next_response: return next_response;
        case Target::resolution: return resolution;
    }
    return std::nullopt;
}

const Policy* Policies::select(const Facts& facts) const {
    for (const auto& p : policies)
        if (p.match.matches(facts)) return &p;
    return nullptr;
}

const Calendar& Policies::calendar_of(const Policy& policy) const { return calendars.at(policy.calendar); }

}  // namespace ticketd::sla
