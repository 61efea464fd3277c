// A ticket's SLA clocks from its history: targets, states, reminders and escalations still to
// fire, recomputed the same after a restart; pause and resume across a weekend, a priority raise
// that switches policy, a ticket opened Friday evening, reopen after resolution, 24x7.
#include <gtest/gtest.h>

#include "config/sla_loader.h"
#include "sla/clocks.h"

namespace ticketd::sla {
namespace {

using namespace std::chrono_literals;

Time utc(int y, unsigned m, unsigned d, int hh, int mm = 0) {
    return Time{date::sys_days{date::year{y} / date::month{m} / date::day{d}}} + std::chrono::hours(hh) +
           std::chrono::minutes(mm);
}

// Berlin is UTC+1 in January: 09:00 CET is 08:00 UTC.
const char* kPolicies = R"(
calendars:
  office:
    time_zone: Europe/Berlin
    hours: {mon-fri: [09:00-12:30, 13:30-17:30]}
  always:
    time_zone: Europe/Berlin
    hours: 24x7
policies:
  - name: urgent
    match: {priority: urgent}
    calendar: always
    first_response: 1h
    resolution: 4h
    reminders:
      - {at: 75%, to: assignee}
      - {at: breach, to: [assignee, lead@example.com]}
    escalate: {notify: lead@example.com, targets: resolution}
  - name: normal
    calendar: office
    first_response: 4h
    next_response: 2h
    resolution: 16h
    pause_while_pending: true
    reminders:
      - {at: 50%, to: assignee}
      - {at: breach, to: queue}
)";

class Clocks : public ::testing::Test {
protected:
    void SetUp() override {
        std::vector<config::ConfigError> errors;
        config::load_sla_text(kPolicies, "sla.yaml", policies, errors);
        ASSERT_TRUE(errors.empty()) << errors.front().to_string();
    }

    const TargetClock* target(const ClockState& s, Target t) {
        for (const auto& c : s.targets)
            if (c.target == t) return &c;
        return nullptr;
    }

    std::vector<std::string> keys(const ClockState& s) {
        std::vector<std::string> out;
        for (const auto& a : s.alarms) out.push_back(a.key);
        return out;
    }

    static std::string epoch(Time t) { return std::to_string(t.time_since_epoch().count()); }

    Policies policies;
};

TEST_F(Clocks, NewTicketRunsItsTargetsWithRemindersStillToFire) {
    const Time opened = utc(2026, 1, 19, 8);  // Mon 09:00 CET
    auto s = compute_clocks(policies, {Event::created(opened, "normal", "billing")}, utc(2026, 1, 19, 9));
    EXPECT_EQ(s.policy, "normal");
    ASSERT_EQ(s.targets.size(), 2u);  // no next_response before a requester writes again
    auto fr = target(s, Target::first_response);
    ASSERT_TRUE(fr);
    EXPECT_EQ(fr->state, State::running);
    EXPECT_EQ(fr->due, utc(2026, 1, 19, 13));  // 09:00-12:30, 13:30-14:00 CET
    EXPECT_EQ(fr->elapsed, 1h);
    auto res = target(s, Target::resolution);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->due, utc(2026, 1, 21, 9));  // 7.5h Mon, 7.5h Tue, Wed 09:00-10:00 CET
    const std::string o = epoch(opened);
    EXPECT_EQ(keys(s), (std::vector<std::string>{"first_response/" + o + "/50%", "first_response/" + o + "/breach",
                                                "resolution/" + o + "/50%", "resolution/" + o + "/breach"}));
    EXPECT_EQ(s.alarms[0].at, utc(2026, 1, 19, 10));  // 2h in: 11:00 CET
    EXPECT_EQ(s.alarms[0].kind, Alarm::Kind::reminder);
    EXPECT_EQ(s.alarms[0].reminder, 0u);
    EXPECT_EQ(s.alarms[2].at, utc(2026, 1, 20, 8, 30));  // 8h in: 7.5h Monday, Tue 09:30 CET
    EXPECT_EQ(s.next_wakeup, utc(2026, 1, 19, 10));
}

TEST_F(Clocks, TicketOpenedFridayEveningIsDueMonday) {
    auto s = compute_clocks(policies, {Event::created(utc(2026, 1, 16, 18), "normal")}, utc(2026, 1, 17, 12));
    auto fr = target(s, Target::first_response);
    ASSERT_TRUE(fr);
    EXPECT_EQ(fr->state, State::running);
    EXPECT_EQ(fr->elapsed, 0s);
    EXPECT_EQ(fr->due, utc(2026, 1, 19, 13));  // Mon 14:00 CET
    EXPECT_EQ(s.next_wakeup, utc(2026, 1, 19, 10));
}

TEST_F(Clocks, AgentReplyMeetsFirstResponseAndRequesterMessageStartsNextResponse) {
    const Time opened = utc(2026, 1, 19, 8);
    std::vector<Event> h{Event::created(opened, "normal"), Event::agent_reply(utc(2026, 1, 19, 9, 30)),
                         Event::requester_message(utc(2026, 1, 19, 10)),
                         Event::requester_message(utc(2026, 1, 19, 10, 20))};
    auto s = compute_clocks(policies, h, utc(2026, 1, 19, 11));
    auto fr = target(s, Target::first_response);
    EXPECT_EQ(fr->state, State::met);
    EXPECT_EQ(fr->stopped, utc(2026, 1, 19, 9, 30));
    EXPECT_EQ(fr->elapsed, 90min);
    auto nr = target(s, Target::next_response);
    ASSERT_TRUE(nr);
    EXPECT_EQ(nr->state, State::running);
    EXPECT_EQ(nr->started, utc(2026, 1, 19, 10));  // the first unanswered message
    EXPECT_EQ(nr->due, utc(2026, 1, 19, 13));       // 11:00-12:30 CET, 13:30-14:00 CET
    // No alarm for the met first response.
    for (const auto& a : s.alarms) EXPECT_NE(a.target, Target::first_response) << a.key;

    h.push_back(Event::agent_reply(utc(2026, 1, 19, 14)));  // late: due was 13:00 UTC
    s = compute_clocks(policies, h, utc(2026, 1, 19, 15));
    nr = target(s, Target::next_response);
    EXPECT_EQ(nr->state, State::breached);
    EXPECT_EQ(nr->stopped, utc(2026, 1, 19, 14));
}

TEST_F(Clocks, PauseAndResumeAcrossAWeekend) {
    // Fri 15:00 CET opened, answered 15:30, pending 16:00 to Mon 10:00 CET (the requester replied).
    std::vector<Event> h{Event::created(utc(2026, 1, 16, 14), "normal"), Event::agent_reply(utc(2026, 1, 16, 14, 30)),
                         Event::status_changed(utc(2026, 1, 16, 15), "pending")};
    auto paused = compute_clocks(policies, h, utc(2026, 1, 17, 12));
    auto res = target(paused, Target::resolution);
    EXPECT_EQ(res->state, State::paused);
    EXPECT_EQ(res->due, std::nullopt);
    EXPECT_EQ(res->elapsed, 1h);
    EXPECT_TRUE(paused.alarms.empty());
    EXPECT_EQ(paused.next_wakeup, std::nullopt);  // nothing to wake for while pending

    h.push_back(Event::requester_message(utc(2026, 1, 19, 9)));
    h.push_back(Event::status_changed(utc(2026, 1, 19, 9), "open"));
    auto resumed = compute_clocks(policies, h, utc(2026, 1, 19, 10));
    res = target(resumed, Target::resolution);
    EXPECT_EQ(res->state, State::running);
    // 1h Friday; Mon 10:00-12:30 + 13:30-17:30 = 6.5h; Tue 7.5h; Wed 09:00-10:00 CET.
    EXPECT_EQ(res->due, utc(2026, 1, 21, 9));
    EXPECT_EQ(res->elapsed, 2h);
    auto nr = target(resumed, Target::next_response);
    ASSERT_TRUE(nr);
    EXPECT_EQ(nr->due, utc(2026, 1, 19, 11));  // Mon 10:00 CET + 2h, before lunch
}

TEST_F(Clocks, PriorityRaiseMidFlightSwitchesPolicyAndRecomputes) {
    const Time opened = utc(2026, 1, 19, 8);  // Mon 09:00 CET
    const Time raised = utc(2026, 1, 19, 11);  // 12:00 CET
    std::vector<Event> h{Event::created(opened, "normal"), Event::priority_changed(raised, "urgent")};
    auto before = compute_clocks(policies, {h[0]}, raised - 1s);
    EXPECT_EQ(before.policy, "normal");
    EXPECT_EQ(target(before, Target::first_response)->state, State::running);

    auto s = compute_clocks(policies, h, raised);
    EXPECT_EQ(s.policy, "urgent");
    EXPECT_EQ(s.policy_since, raised);
    EXPECT_EQ(s.facts.priority, "urgent");
    auto fr = target(s, Target::first_response);
    EXPECT_EQ(fr->due, opened + 1h);  // 24x7 from the original start: already late
    EXPECT_EQ(fr->state, State::breached);
    auto res = target(s, Target::resolution);
    EXPECT_EQ(res->due, opened + 4h);
    EXPECT_EQ(res->state, State::running);
    const std::string o = epoch(opened);
    // The first response's 75% moment (09:45 CET) belongs to the old schedule: not sent. Its
    // breach is overdue: sent at once. The resolution's 75% falls exactly at the raise: kept.
    EXPECT_EQ(keys(s), (std::vector<std::string>{"first_response/" + o + "/breach", "resolution/" + o + "/75%",
                                                "resolution/" + o + "/breach", "resolution/" + o + "/escalate"}));
    EXPECT_EQ(s.alarms[0].at, opened + 1h);
    EXPECT_EQ(s.alarms[3].kind, Alarm::Kind::escalation);
    EXPECT_EQ(s.next_wakeup, opened + 1h);  // in the past: fire now
}

TEST_F(Clocks, FiredAlarmsAreNotRepeatedAndARestartRecomputesTheSame) {
    const Time opened = utc(2026, 1, 19, 8);
    std::vector<Event> h{Event::created(opened, "normal")};
    const Time reminder = utc(2026, 1, 19, 10);
    // Just before the 50% reminder, and again after a restart at the same moment: identical.
    auto a = compute_clocks(policies, h, reminder - 1s);
    auto b = compute_clocks(policies, h, reminder - 1s);
    EXPECT_EQ(keys(a), keys(b));
    EXPECT_EQ(a.next_wakeup, reminder);
    // The daemon was down through the reminder's moment: still due, at once.
    auto late = compute_clocks(policies, h, reminder + 20min);
    ASSERT_FALSE(late.alarms.empty());
    EXPECT_EQ(late.alarms[0].key, "first_response/" + epoch(opened) + "/50%");
    EXPECT_LE(late.alarms[0].at, reminder + 20min);
    // Once recorded as fired it never comes back, before or after a crash.
    auto after = compute_clocks(policies, h, reminder + 20min, {late.alarms[0].key});
    EXPECT_NE(after.alarms.front().key, late.alarms[0].key);
    EXPECT_EQ(after.next_wakeup, utc(2026, 1, 19, 13));  // the first response's breach
}

TEST_F(Clocks, ResolvedTicketHasNoRemindersAndReopenResumesResolution) {
    const Time opened = utc(2026, 1, 19, 8);
    std::vector<Event> h{Event::created(opened, "normal"), Event::status_changed(utc(2026, 1, 19, 9), "resolved")};
    auto s = compute_clocks(policies, h, utc(2026, 1, 19, 12));
    EXPECT_TRUE(s.alarms.empty());
    EXPECT_EQ(s.next_wakeup, std::nullopt);
    EXPECT_EQ(target(s, Target::resolution)->state, State::met);
    // Resolving without a reply stops the first response clock (in time: met).
    EXPECT_EQ(target(s, Target::first_response)->state, State::met);
    EXPECT_EQ(target(s, Target::first_response)->stopped, utc(2026, 1, 19, 9));

    // Reopened Tue 09:00 CET: the time resolved does not count; 1h used, 15h left.
    h.push_back(Event::status_changed(utc(2026, 1, 20, 8), "open"));
    s = compute_clocks(policies, h, utc(2026, 1, 20, 9));
    auto res = target(s, Target::resolution);
    EXPECT_EQ(res->state, State::running);
    EXPECT_EQ(res->elapsed, 2h);
    EXPECT_EQ(res->due, utc(2026, 1, 21, 16, 30));  // Tue 7.5h, Wed 7.5h: Wed 17:30 CET
}

TEST_F(Clocks, AroundTheClockForUrgent) {
    const Time opened = utc(2026, 1, 17, 22);  // a Saturday night: 24x7 does not care
    auto s = compute_clocks(policies, {Event::created(opened, "urgent")}, opened + 50min);
    EXPECT_EQ(s.policy, "urgent");
    auto fr = target(s, Target::first_response);
    EXPECT_EQ(fr->due, opened + 1h);
    EXPECT_EQ(fr->state, State::running);
    EXPECT_EQ(s.next_wakeup, opened + 45min);  // the 75% reminder, due and not yet fired
    s = compute_clocks(policies, {Event::created(opened, "urgent")}, opened + 2h);
    EXPECT_EQ(target(s, Target::first_response)->state, State::breached);
}

TEST_F(Clocks, EventsAfterNowAndWithoutCreationAreIgnored) {
    const Time opened = utc(2026, 1, 19, 8);
    auto s = compute_clocks(policies, {Event::created(opened, "normal"), Event::priority_changed(opened + 2h, "urgent")},
                            opened + 1h);
    EXPECT_EQ(s.policy, "normal");
    EXPECT_TRUE(compute_clocks(policies, {Event::agent_reply(opened)}, opened + 1h).targets.empty());
    // History in any order gives the same answer.
    auto sorted = compute_clocks(policies, {Event::created(opened, "normal"), Event::agent_reply(opened + 1h)}, opened + 3h);
    auto shuffled = compute_clocks(policies, {Event::agent_reply(opened + 1h), Event::created(opened, "normal")}, opened + 3h);
    EXPECT_EQ(keys(sorted), keys(shuffled));
    EXPECT_EQ(target(shuffled, Target::first_response)->state, State::met);
}

TEST_F(Clocks, TagsAndQueueSelectPolicies) {
    Policies p = policies;
    Policy vip = p.policies.back();
    vip.name = "vip";
    vip.match.tags = {"vip"};
    vip.match.queues = {"billing"};
    p.policies.insert(p.policies.begin(), vip);
    const Time opened = utc(2026, 1, 19, 8);
    EXPECT_EQ(compute_clocks(p, {Event::created(opened, "normal", "billing", {"vip"})}, opened).policy, "vip");
    EXPECT_EQ(compute_clocks(p, {Event::created(opened, "normal", "sales", {"vip"})}, opened).policy, "normal");
    auto s = compute_clocks(p, {Event::created(opened, "normal", "sales", {"vip"}), Event::queue_changed(opened + 1h, "billing")},
                            opened + 2h);
    EXPECT_EQ(s.policy, "vip");
    EXPECT_EQ(s.policy_since, opened + 1h);
    s = compute_clocks(p, {Event::created(opened, "normal", "billing", {"vip"}), Event::tags_changed(opened + 1h, {})},
                       opened + 2h);
    EXPECT_EQ(s.policy, "normal");
}

}  // namespace
}  // namespace ticketd::sla
