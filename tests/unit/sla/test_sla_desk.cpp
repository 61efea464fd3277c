// The SLA clocks wired into the desk (issue 6): the pipeline hook, the recompute others call, the
// timer's firing with the outbox, exactly once across crashes and restarts.
#include <gtest/gtest.h>

#include "config/rules_loader.h"
#include "config/sla_loader.h"
#include "config/templates.h"
#include "store/database.h"
#include "store/outbox.h"
#include "store/sla.h"
#include "store/tickets.h"
#include "tests/support/paths.h"
#include "tickets/ids.h"
#include "tickets/pipeline.h"
#include "tickets/sla.h"

namespace ticketd::tickets {
namespace {

using ticketd::testing::TempDir;

const char* kSla = R"(calendars:
  always: {time_zone: UTC, hours: 24x7}
policies:
  - name: urgent
    match: {priority: urgent}
    calendar: always
    first_response: 1h
    resolution: 4h
    reminders:
      - {at: 50%, to: [assignee, lead@acme.example], targets: [first_response]}
      - {at: breach, to: [lead@acme.example], targets: [first_response]}
    escalate: {notify: [lead@acme.example], targets: [first_response]}
  - name: high
    match: {priority: high}
    calendar: always
    first_response: 2h
    reminders:
      - {at: 75%, to: [queue]}
    escalate: {priority: urgent, assign: bob@acme.example, notify: [lead@acme.example]}
  - name: normal
    calendar: always
    first_response: 8h
    next_response: 4h
    resolution: 2d
    pause_while_pending: true
    reminders:
      - {at: 50%, to: [lead@acme.example], targets: [first_response]}
)";

const char* kRules = R"(rules:
  - name: Outage
    on: reply
    when: { subject: { contains: outage } }
    then: { priority: urgent }
)";

constexpr std::int64_t kStart = 1'795'000'000;
constexpr std::int64_t H = 3600;

class SlaDeskTest : public ::testing::Test {
protected:
    SlaDeskTest() {
        auto c = std::make_shared<config::Config>();
        c->desk.name = "ACME Support";
        c->desk.addresses = {"support@acme.example"};
        c->desk.subject_tag = "ACME";
        c->desk.hostname = "acme.example";
        c->smtp.emplace();
        c->smtp->from = c->smtp->reply_to = "support@acme.example";
        c->auto_reply.enabled = false;  // only the SLA's mail in the outbox
        c->agents = {{"bob@acme.example", "Bob", {"billing"}}};
        std::vector<config::ConfigError> errors;
        c->templates = config::load_templates((ticketd::testing::source_dir() / "config" / "templates").string(), errors);
        config::load_sla_text(kSla, "sla.yaml", c->sla, errors);
        config::load_rule_text(kRules, "rules.yaml", c->rules, errors);
        for (const auto& e : errors) ADD_FAILURE() << e.to_string();
        cfg = c;
        open();
    }

    /// A daemon (re)start: a new connection to the same file.
    void open() {
        db = std::make_unique<store::Database>((dir / "desk.db").string());
        db->set_clock([this] { return now; });
    }

    ProcessOutcome ingest(const std::string& raw) { return ingest_raw(*db, cfg, "test", raw); }

    std::int64_t new_ticket(const std::string& subject = "Printer on fire", const std::string& id = "a1") {
        auto out = ingest("From: Ann <ann@example.org>\nTo: support@acme.example\nSubject: " + subject +
                          "\nMessage-ID: <" + id + "@example.org>\n\nHelp\n");
        EXPECT_EQ(out.outcome, Outcome::created) << out.detail;
        return out.ticket_id.value_or(0);
    }

    /// An agent's answer as the agents' pipeline stores it (messages.kind = 'agent').
    void agent_answers(std::int64_t ticket) {
        store::Transaction tx(*db);
        store::MessageRecord m;
        m.ticket = ticket;
        m.direction = store::Direction::in;
        m.kind = store::MessageKind::agent;
        m.from_address = "bob@acme.example";
        m.created_at = now;
        store::Messages(*db).add(m);
        recompute_sla(*db, *cfg, ticket, now);
        tx.commit();
    }

    void set_status(std::int64_t ticket, store::Status s) {
        store::Transaction tx(*db);
        store::Tickets(*db).set_status(ticket, s, now);
        recompute_sla(*db, *cfg, ticket, now);
        tx.commit();
    }

    std::map<std::string, store::SlaClockRow> clocks(std::int64_t ticket) {
        std::map<std::string, store::SlaClockRow> out;
        for (auto& c : store::SlaStore(*db).clocks(ticket)) out[c.target] = c;
        return out;
    }

    std::vector<store::OutboxMail> outbox(const std::string& kind) {
        std::vector<store::OutboxMail> out;
        store::Outbox o(*db);
        for (auto& m : o.list(std::nullopt, 1000))
            if (m.kind == kind) out.push_back(*o.get(m.id));
        return out;
    }

    int events(std::int64_t ticket, const std::string& kind) {
        int n = 0;
        for (const auto& e : store::Events(*db).for_ticket(ticket)) n += e.kind == kind;
        return n;
    }

    TempDir dir;
    std::unique_ptr<store::Database> db;
    std::shared_ptr<const config::Config> cfg;
    std::int64_t now = kStart;
};

TEST_F(SlaDeskTest, ANewTicketStartsItsClocksInTheMessagesTransaction) {
    const auto id = new_ticket();
    auto c = clocks(id);
    ASSERT_EQ(c.size(), 2u);  // normal: first_response and resolution; next_response needs a cycle
    EXPECT_EQ(c["first_response"].state, "running");
    EXPECT_EQ(c["first_response"].policy, "normal");
    EXPECT_EQ(c["first_response"].due_at, kStart + 8 * H);
    EXPECT_EQ(c["resolution"].due_at, kStart + 48 * H);
    // The 50% reminder of first_response is the next moment to wake for.
    EXPECT_EQ(next_sla_wakeup(*db), kStart + 4 * H);
    EXPECT_EQ(events(id, "sla.started"), 1);
}

TEST_F(SlaDeskTest, AnAgentsAnswerSatisfiesFirstResponseAndARequesterMessageStartsNextResponse) {
    const auto id = new_ticket();
    now += 2 * H;
    agent_answers(id);
    auto c = clocks(id);
    EXPECT_EQ(c["first_response"].state, "met");
    EXPECT_EQ(c["first_response"].satisfied_at, now);
    EXPECT_EQ(c.count("next_response"), 0u);

    now += H;
    auto out = ingest("From: Ann <ann@example.org>\nTo: support@acme.example\nSubject: Re: [ACME #1] Printer\n"
                      "In-Reply-To: <a1@example.org>\nMessage-ID: <a2@example.org>\n\nStill burning\n");
    ASSERT_EQ(out.ticket_id, id) << out.detail;
    c = clocks(id);
    ASSERT_EQ(c.count("next_response"), 1u);
    EXPECT_EQ(c["next_response"].state, "running");
    EXPECT_EQ(c["next_response"].started_at, now);
    EXPECT_EQ(c["next_response"].due_at, now + 4 * H);

    now += H;
    agent_answers(id);
    EXPECT_EQ(clocks(id)["next_response"].state, "met");
}

TEST_F(SlaDeskTest, AVerifiedAgentsReplyThroughThePipelineMeetsFirstResponseAndItsCommandPauses) {
    const auto id = new_ticket();
    const auto t = *store::Tickets(*db).get(id);
    now += 2 * H;
    // Bob answers by mail (a trusted transport: ingest --trusted-agents) and asks a question.
    auto out = ingest_raw(*db, cfg, "pipe",
                          "From: Bob <bob@acme.example>\r\nTo: support@acme.example\r\nSubject: Re: " +
                              format_subject_tag("ACME", t.number, t.token) +
                              " Printer on fire\r\nMessage-ID: <bob1@acme.example>\r\n\r\n#status pending\r\n"
                              "Which model is it?\r\n",
                          /*trusted_agents=*/true);
    ASSERT_EQ(out.ticket_id, id) << out.detail;
    ASSERT_EQ(store::Tickets(*db).get(id)->status, store::Status::pending);
    auto c = clocks(id);
    EXPECT_EQ(c["first_response"].state, "met");
    EXPECT_EQ(c["first_response"].satisfied_at, now);
    EXPECT_EQ(c["resolution"].state, "paused");  // normal pauses while pending
    EXPECT_EQ(c["resolution"].paused_since, now);
}

TEST_F(SlaDeskTest, PendingPausesOpenResumesResolvedStops) {
    const auto id = new_ticket();
    now += H;
    set_status(id, store::Status::pending);
    auto c = clocks(id);
    EXPECT_EQ(c["resolution"].state, "paused");
    EXPECT_EQ(c["resolution"].paused_since, now);
    EXPECT_FALSE(c["resolution"].due_at);
    const auto paused_at = now;
    now += 10 * H;
    set_status(id, store::Status::open);
    c = clocks(id);
    EXPECT_EQ(c["resolution"].state, "running");
    EXPECT_EQ(c["resolution"].paused_total, now - paused_at);
    EXPECT_EQ(c["resolution"].due_at, kStart + 48 * H + 10 * H);
    now += H;
    set_status(id, store::Status::resolved);
    c = clocks(id);
    EXPECT_EQ(c["resolution"].state, "met");
    EXPECT_EQ(c["resolution"].stopped_at, now);
    EXPECT_FALSE(store::SlaStore(*db).ticket(id)->next_wakeup);  // nothing left to wake for
}

TEST_F(SlaDeskTest, APriorityRaiseMidFlightThroughThePipelineSwitchesPolicy) {
    const auto id = new_ticket();
    now += 30 * 60;
    // The requester's reply trips a rule that raises the ticket to urgent: the targets are
    // recomputed under the urgent policy from the ticket's creation, in the same transaction.
    auto out = ingest("From: Ann <ann@example.org>\nTo: support@acme.example\nSubject: Re: now a total outage\n"
                      "In-Reply-To: <a1@example.org>\nMessage-ID: <a3@example.org>\n\nEverything is down\n");
    ASSERT_EQ(out.ticket_id, id) << out.detail;
    auto c = clocks(id);
    EXPECT_EQ(c["first_response"].policy, "urgent");
    EXPECT_EQ(c["first_response"].due_at, kStart + H);
    EXPECT_EQ(c["resolution"].due_at, kStart + 4 * H);
    EXPECT_EQ(events(id, "sla.policy_changed"), 1);
    // The urgent 50% reminder (at +30m) is due now, not the normal one at +4h.
    EXPECT_EQ(next_sla_wakeup(*db), kStart + 30 * 60);
    auto fired = fire_due_sla(*db, *cfg, now);
    EXPECT_EQ(fired.reminders, 1);
    ASSERT_EQ(outbox("sla_reminder").size(), 1u);
    EXPECT_EQ(outbox("sla_reminder")[0].recipients, (std::vector<std::string>{"lead@acme.example"}));
}

TEST_F(SlaDeskTest, AReminderIsSentOnceAndNoneForAResolvedTicket) {
    const auto first = new_ticket("Printer on fire", "a1");
    const auto second = new_ticket("Scanner jammed", "b1");
    set_status(second, store::Status::resolved);
    now = kStart + 4 * H - 1;
    EXPECT_EQ(fire_due_sla(*db, *cfg, now).reminders, 0);  // one second early: nothing
    now = kStart + 4 * H;
    auto fired = fire_due_sla(*db, *cfg, now);
    EXPECT_EQ(fired.tickets, 1);
    EXPECT_EQ(fired.reminders, 1);
    EXPECT_EQ(fire_due_sla(*db, *cfg, now).reminders, 0);
    now += H;
    EXPECT_EQ(fire_due_sla(*db, *cfg, now).reminders, 0);
    auto mails = outbox("sla_reminder");
    ASSERT_EQ(mails.size(), 1u);
    EXPECT_EQ(mails[0].ticket, first);
    EXPECT_NE(mails[0].raw.find("SLA first response due"), std::string::npos) << mails[0].raw;
    EXPECT_EQ(clocks(first)["first_response"].reminders_sent, 1);
    EXPECT_EQ(events(second, "sla.reminder"), 0);
}

TEST_F(SlaDeskTest, ARestartJustBeforeAReminderIsDue) {
    new_ticket();
    now = kStart + 4 * H - 5;
    EXPECT_EQ(fire_due_sla(*db, *cfg, now).reminders, 0);
    open();  // the daemon restarts five seconds before the reminder is due
    EXPECT_EQ(next_sla_wakeup(*db), kStart + 4 * H);  // what the new timer is armed for
    now = kStart + 4 * H + 2;  // it comes up a little late
    EXPECT_EQ(fire_due_sla(*db, *cfg, now).reminders, 1);
    EXPECT_EQ(outbox("sla_reminder").size(), 1u);
}

TEST_F(SlaDeskTest, AReminderDoesNotRepeatAfterACrash) {
    const auto id = new_ticket();
    now = kStart + 4 * H;
    {
        // A crash in the middle of firing: the transaction never commits, so neither the key nor
        // the outbox row exists, and the reminder is still due.
        store::Transaction tx(*db);
        fire_due_sla(*db, *cfg, now);  // its own transactions are savepoints inside this one
        EXPECT_EQ(outbox("sla_reminder").size(), 1u);
    }  // rolled back
    EXPECT_EQ(outbox("sla_reminder").size(), 0u);
    EXPECT_EQ(fire_due_sla(*db, *cfg, now).reminders, 1);
    // A crash after the commit: a restarted daemon finds the key and does nothing.
    open();
    now += 60;
    EXPECT_EQ(fire_due_sla(*db, *cfg, now).reminders, 0);
    // Recomputing (a new message, a reload) does not bring it back either.
    {
        store::Transaction tx(*db);
        recompute_sla(*db, *cfg, id, now);
        tx.commit();
    }
    EXPECT_EQ(fire_due_sla(*db, *cfg, now).reminders, 0);
    EXPECT_EQ(outbox("sla_reminder").size(), 1u);
    EXPECT_EQ(events(id, "sla.reminder"), 1);
}

TEST_F(SlaDeskTest, EscalationAtBreachRaisesReassignsAndNotifiesOnce) {
    const auto id = new_ticket();
    {
        store::Transaction tx(*db);
        store::Tickets(*db).set_priority(id, store::Priority::high, now);
        store::Tickets(*db).set_queue(id, "billing", now);
        recompute_sla(*db, *cfg, id, now);
        tx.commit();
    }
    EXPECT_EQ(clocks(id)["first_response"].policy, "high");
    now = kStart + 90 * 60;  // 75% of 2h
    EXPECT_EQ(fire_due_sla(*db, *cfg, now).reminders, 1);
    ASSERT_EQ(outbox("sla_reminder").size(), 1u);
    EXPECT_EQ(outbox("sla_reminder")[0].recipients, (std::vector<std::string>{"bob@acme.example"}));  // the queue

    now = kStart + 2 * H;
    auto fired = fire_due_sla(*db, *cfg, now);
    EXPECT_EQ(fired.escalations, 1);
    auto t = *store::Tickets(*db).get(id);
    EXPECT_EQ(t.priority, store::Priority::urgent);
    EXPECT_EQ(t.assignee, "bob@acme.example");
    ASSERT_EQ(outbox("sla_escalation").size(), 1u);
    EXPECT_NE(outbox("sla_escalation")[0].raw.find("breached"), std::string::npos);
    EXPECT_EQ(events(id, "sla.escalated"), 1);
    // Now urgent: that policy's first_response (1h) is long breached. Its breach reminder fires
    // once; the escalation does not again (one per target: its key is the target's, not the
    // policy's), and nothing more happens after that.
    EXPECT_EQ(clocks(id)["first_response"].policy, "urgent");
    EXPECT_EQ(clocks(id)["first_response"].state, "breached");
    for (int i = 0; i < 3; ++i) {
        now += 60;
        fire_due_sla(*db, *cfg, now);
    }
    EXPECT_EQ(outbox("sla_breach").size(), 1u);
    EXPECT_EQ(outbox("sla_escalation").size(), 1u);
    EXPECT_EQ(events(id, "sla.escalated"), 1);
    EXPECT_GE(events(id, "sla.breached"), 1);
}

TEST_F(SlaDeskTest, ShowCarriesEachTargetWithItsDueTimeInUtcAndLocalTime) {
    const auto id = new_ticket();
    auto j = sla_json(*db, *cfg, id, now);
    EXPECT_EQ(j["policy"], "normal");
    ASSERT_EQ(j["targets"].size(), 2u);
    EXPECT_EQ(j["targets"][0]["target"], "first_response");
    EXPECT_EQ(j["targets"][0]["state"], "running");
    EXPECT_EQ(j["targets"][0]["due_at"], kStart + 8 * H);
    EXPECT_EQ(j["targets"][0]["due_utc"], format_utc(kStart + 8 * H));
    EXPECT_EQ(j["targets"][0]["due_local"], format_utc(kStart + 8 * H));  // the calendar is in UTC
    const std::string text = render_sla(*db, *cfg, id, now);
    EXPECT_NE(text.find("SLA (policy normal)"), std::string::npos) << text;
    EXPECT_NE(text.find("resolution"), std::string::npos) << text;
    // Shown as breached once past due, even before a daemon recomputed it.
    now = kStart + 8 * H;
    EXPECT_EQ(sla_json(*db, *cfg, id, now)["targets"][0]["state"], "breached");
    EXPECT_TRUE(sla_json(*db, *cfg, new_ticket("Other", "c1"), now)["targets"].is_array());
    EXPECT_TRUE(sla_json(*db, *cfg, 999, now).is_null());
}

TEST_F(SlaDeskTest, LocalTimeFollowsTheCalendarsZone) {
    const auto zone = sla::find_zone("Europe/Berlin");
    ASSERT_TRUE(zone);
    const auto cal = sla::Calendar::always("berlin", zone);
    // 2026-07-01 10:00 UTC is 12:00 CEST; 2026-12-01 10:00 UTC is 11:00 CET.
    EXPECT_EQ(format_local(cal, 1'782'900'000 - 1'782'900'000 % 86400 + 10 * H), "2026-07-01 12:00 CEST");
    EXPECT_EQ(format_local(cal, 1'796'083'200 + 10 * H), "2026-12-01 11:00 CET");
    EXPECT_EQ(format_span(37 * H + 30 * 60), "1d 13h 30m");
    EXPECT_EQ(format_span(45 * 60), "45m");
}

TEST_F(SlaDeskTest, StatusCountsAtRiskAndBreached) {
    const auto a = new_ticket("A", "a1");
    new_ticket("B", "b1");
    EXPECT_EQ(store::SlaStore(*db).counts(now).at_risk, 0);
    now = kStart + 4 * H;  // both 50% reminders fire
    fire_due_sla(*db, *cfg, now);
    auto c = store::SlaStore(*db).counts(now);
    EXPECT_EQ(c.at_risk, 2);
    EXPECT_EQ(c.breached, 0);
    agent_answers(a);  // a's first response is met: no longer at risk
    EXPECT_EQ(store::SlaStore(*db).counts(now).at_risk, 1);
    now = kStart + 8 * H;  // b's first response is due: breached (even before the timer ran)
    c = store::SlaStore(*db).counts(now);
    EXPECT_EQ(c.at_risk, 0);
    EXPECT_EQ(c.breached, 1);
}

TEST(SlaReport, GroupsByPolicyAndQueueWithConformanceAndMedians) {
    std::vector<store::SlaReportRow> rows = {
        {1, "normal", "", "first_response", "met", 600},
        {1, "normal", "", "resolution", "met", 7200},
        {2, "normal", "", "first_response", "breached", 1800},
        {2, "normal", "", "resolution", "running", 100},
        {3, "normal", "", "first_response", "met", 1200},
        {4, "urgent", "billing", "first_response", "running", 60},
    };
    const auto groups = build_sla_report(rows);
    ASSERT_EQ(groups.size(), 2u);
    EXPECT_EQ(groups[0].policy, "normal");
    EXPECT_EQ(groups[0].tickets, 3);
    EXPECT_EQ(groups[0].met, 3);
    EXPECT_EQ(groups[0].breached, 1);
    EXPECT_DOUBLE_EQ(*groups[0].conformance, 75.0);
    EXPECT_EQ(groups[0].median_first_response, 1200);  // of 600, 1200, 1800
    EXPECT_EQ(groups[0].median_resolution, 7200);      // the running one has no final figure
    EXPECT_EQ(groups[1].queue, "billing");
    EXPECT_FALSE(groups[1].conformance);
    EXPECT_FALSE(groups[1].median_first_response);
    const auto j = sla_report_json(groups);
    EXPECT_EQ(j[0]["conformance_percent"], 75.0);
    EXPECT_TRUE(j[1]["conformance_percent"].is_null());
    EXPECT_NE(render_sla_report(groups).find("75.0%"), std::string::npos);
}

TEST_F(SlaDeskTest, NoPoliciesNoClocks) {
    auto c = std::make_shared<config::Config>(*cfg);
    c->sla = {};
    cfg = c;
    const auto id = new_ticket();
    EXPECT_TRUE(store::SlaStore(*db).clocks(id).empty());
    EXPECT_FALSE(next_sla_wakeup(*db));
}

}  // namespace
}  // namespace ticketd::tickets
