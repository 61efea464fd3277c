#include "sla/clocks.h"

#include <algorithm>

namespace ticketd::sla {

Event Event::created(Time at, std::string priority, std::string queue, std::vector<std::string> tags) {
    Event e;
    e.kind = Kind::created;
    e.at = at;
    e.value = std::move(priority);
    e.queue = std::move(queue);
    e.tags = std::move(tags);
    return e;
}

Event Event::agent_reply(Time at) { return {Kind::agent_reply, at, {}, {}, {}}; }
Event Event::requester_message(Time at) { return {Kind::requester_message, at, {}, {}, {}}; }
Event Event::status_changed(Time at, std::string status) { return {Kind::status, at, std::move(status), {}, {}}; }
Event Event::priority_changed(Time at, std::string priority) { return {Kind::priority, at, std::move(priority), {}, {}}; }
Event Event::queue_changed(Time at, std::string queue) { return {Kind::queue, at, std::move(queue), {}, {}}; }
Event Event::tags_changed(Time at, std::vector<std::string> tags) { return {Kind::tags, at, {}, {}, std::move(tags)}; }

const char* to_string(State s) {
    switch (s) {
        case State::running: return "running";
        case State::paused: return "paused";
        case State::met: return "met";
        case State::breached: return "breached";
    }
    return "?";
}

namespace {

bool is_done(const std::string& status) { return status == "resolved" || status == "closed"; }

/// [from, to) stretches during which `pred(status)` held; the last one open when it still holds.
template <typename Pred>
std::vector<Span> spans_where(const std::vector<std::pair<Time, std::string>>& statuses, Pred pred) {
    std::vector<Span> out;
    for (std::size_t i = 0; i < statuses.size(); ++i) {
        if (!pred(statuses[i].second)) continue;
        Time to = i + 1 < statuses.size() ? statuses[i + 1].first : Span::open();
        if (!out.empty() && out.back().to == statuses[i].first) out.back().to = to;
        else out.push_back({statuses[i].first, to});
    }
    return out;
}

std::string policy_name(const Policies& policies, const Facts& facts) {
    const Policy* p = policies.select(facts);
    return p ? p->name : std::string();
}

}  // namespace

ClockState compute_clocks(const Policies& policies, std::vector<Event> history, Time now,
                          const std::set<std::string>& fired) {
    ClockState out;
    std::stable_sort(history.begin(), history.end(), [](const Event& a, const Event& b) { return a.at < b.at; });
    auto created = std::find_if(history.begin(), history.end(), [&](const Event& e) {
        return e.kind == Event::Kind::created && e.at <= now;
    });
    if (created == history.end()) return out;

    // Replay the history: the facts as they evolve, when the policy changed, the status timeline,
    // and the response cycles.
    const Time opened = created->at;
    Facts& facts = out.facts;
    facts.priority = created->value;
    facts.queue = created->queue;
    facts.tags = created->tags;
    std::string current_policy = policy_name(policies, facts);
    out.policy_since = opened;

    std::vector<std::pair<Time, std::string>> statuses{{opened, "open"}};
    std::optional<Time> first_reply, first_done;
    std::optional<Time> waiting;                        // start of an unanswered next_response cycle
    // The latest answered (or stopped) cycle. Plain fields: GCC 12 warns about optional<pair>.
    bool have_cycle = false;
    Time cycle_start{}, cycle_stop{};
    auto close_cycle = [&](Time at) {
        have_cycle = true, cycle_start = *waiting, cycle_stop = at;
        waiting.reset();
    };
    for (auto it = created + 1; it != history.end() && it->at <= now; ++it) {
        const Event& e = *it;
        switch (e.kind) {
            case Event::Kind::created: continue;  // a second creation is noise; the first counts
            case Event::Kind::agent_reply:
                if (!first_reply) first_reply = e.at;
                else if (waiting) close_cycle(e.at);
                break;
            case Event::Kind::requester_message:
                if (first_reply && !waiting) waiting = e.at;
                break;
            case Event::Kind::status:
                if (e.value == facts.status) break;
                facts.status = e.value;
                statuses.push_back({e.at, e.value});
                if (is_done(e.value)) {
                    if (!first_done) first_done = e.at;
                    if (waiting) close_cycle(e.at);
                }
                break;
            case Event::Kind::priority: facts.priority = e.value; break;
            case Event::Kind::queue: facts.queue = e.value; break;
            case Event::Kind::tags: facts.tags = e.tags; break;
        }
        std::string name = policy_name(policies, facts);
        if (name != current_policy) current_policy = name, out.policy_since = e.at;
    }

    const Policy* policy = policies.select(facts);
    if (!policy) return out;
    out.policy = policy->name;
    const Calendar& cal = policies.calendar_of(*policy);
    const bool done = is_done(facts.status);

    std::vector<Span> response_pauses;
    if (policy->pause_while_pending)
        response_pauses = spans_where(statuses, [](const std::string& s) { return s == "pending"; });
    std::vector<Span> resolution_pauses = spans_where(statuses, [&](const std::string& s) {
        return is_done(s) || (policy->pause_while_pending && s == "pending");
    });
    auto paused_now = [&](const std::vector<Span>& pauses) {
        return !pauses.empty() && pauses.back().to == Span::open() && pauses.back().from <= now;
    };

    auto make = [&](Target target, Duration goal, Time start, std::optional<Time> stop,
                    const std::vector<Span>& pauses) {
        TargetClock c;
        c.target = target;
        c.goal = goal;
        c.started = start;
        c.stopped = stop;
        c.due = add_business_time(cal, start, goal, pauses);
        c.elapsed = business_time_between(cal, start, stop.value_or(now), pauses);
        if (stop) c.state = c.due && *c.due < *stop ? State::breached : State::met;
        else if (c.due && *c.due <= now) c.state = State::breached;
        else if (paused_now(pauses)) c.state = State::paused;
        else c.state = State::running;
        return c;
    };

    std::vector<std::pair<TargetClock, const std::vector<Span>*>> clocks;
    if (policy->first_response) {
        std::optional<Time> stop = first_reply;
        if (first_done && (!stop || *first_done < *stop)) stop = first_done;
        clocks.push_back({make(Target::first_response, *policy->first_response, opened, stop, response_pauses),
                          &response_pauses});
    }
    if (policy->next_response && (waiting || have_cycle)) {
        Time start = waiting ? *waiting : cycle_start;
        std::optional<Time> stop = waiting ? std::nullopt : std::optional<Time>(cycle_stop);
        clocks.push_back({make(Target::next_response, *policy->next_response, start, stop, response_pauses),
                          &response_pauses});
    }
    if (policy->resolution) {
        std::optional<Time> stop;
        if (done) stop = statuses.back().first;
        clocks.push_back({make(Target::resolution, *policy->resolution, opened, stop, resolution_pauses),
                          &resolution_pauses});
    }

    for (auto& [clock, pauses] : clocks) {
        out.targets.push_back(clock);
        // No reminder for a ticket already resolved, nor for a target that stopped.
        if (done || clock.stopped) continue;
        const std::string stem =
            std::string(to_string(clock.target)) + "/" + std::to_string(clock.started.time_since_epoch().count()) + "/";
        const bool overdue = clock.due && *clock.due <= now;
        for (std::size_t i = 0; i < policy->reminders.size(); ++i) {
            const Reminder& r = policy->reminders[i];
            if (!r.watches(clock.target)) continue;
            std::optional<Time> at;
            if (r.percent) {
                // A percentage reminder is pointless once the target is breached, and one whose
                // moment came before this policy applied belonged to another policy's schedule.
                if (overdue) continue;
                at = add_business_time(cal, clock.started, clock.goal * *r.percent / 100, *pauses);
                if (at && *at < out.policy_since) continue;
            } else {
                at = clock.due;
            }
            if (!at) continue;
            std::string key = stem + r.label();
            if (fired.count(key)) continue;
            out.alarms.push_back({Alarm::Kind::reminder, clock.target, *at, std::move(key), i});
        }
        if (policy->escalate && policy->escalate->watches(clock.target) && clock.due) {
            std::string key = stem + "escalate";
            if (!fired.count(key)) out.alarms.push_back({Alarm::Kind::escalation, clock.target, *clock.due, key, 0});
        }
    }
    std::sort(out.alarms.begin(), out.alarms.end(),
              [](const Alarm& a, const Alarm& b) { return a.at != b.at ? a.at < b.at : a.key < b.key; });

    if (!out.alarms.empty()) out.next_wakeup = out.alarms.front().at;
    for (const auto& c : out.targets)
        if (c.state == State::running && c.due && *c.due > now && (!out.next_wakeup || *c.due < *out.next_wakeup))
            out.next_wakeup = c.due;
    return out;
}

}  // namespace ticketd::sla
