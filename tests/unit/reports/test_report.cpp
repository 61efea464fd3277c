// Reports over a seeded history with hand-checked answers (issue 9): the desk of history.h over
// two ISO weeks, with a reopened ticket, a pending pause, a ticket spanning the period's start
// and end, one resolved by a rule, one closed before the trail existed; and a DST change.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "reports/render.h"
#include "reports/report.h"
#include "store/report_rows.h"
#include "tests/unit/reports/history.h"

namespace ticketd::reports {
namespace {

using testing::at;
using testing::History;

constexpr std::int64_t H = 3600, D = 86400;

Report run(store::Database& db, Options o, const std::string& queue = "", const std::string& tag = "") {
    o.queue = queue;
    o.tag = tag;
    store::ReportQuery q;
    q.since = o.since;
    q.previous_since = previous_since(o);
    q.until = o.until;
    q.queue = queue;
    q.tag = tag;
    return compute(store::load_report_rows(db, q), o);
}

class ReportTest : public ::testing::Test {
protected:
    ReportTest() {
        using S = store::Status;
        History h(db);
        // A: answered once, resolved the same morning: first-contact resolution.
        a = h.ticket(at(2026, 3, 2, 9), "alice@x.example", {"billing"});
        h.agent(a, at(2026, 3, 2, 10));
        h.status(a, at(2026, 3, 2, 12), S::resolved);
        // B: answered once and resolved, reopened in week 2 and resolved again: not FCR.
        b = h.ticket(at(2026, 3, 3, 14), "Alice@X.example", {"billing", "vpn"});
        h.agent(b, at(2026, 3, 3, 16));
        h.status(b, at(2026, 3, 4, 14), S::resolved);
        h.requester(b, at(2026, 3, 10, 9));
        h.reopen(b, at(2026, 3, 10, 9));
        h.agent(b, at(2026, 3, 10, 10));
        h.status(b, at(2026, 3, 10, 11), S::resolved);
        // C: pending from Thursday 09:00 to Monday 08:00, two answers, resolved in week 2.
        c = h.ticket(at(2026, 3, 5, 8), "bob@y.example", {"vpn"});
        h.agent(c, at(2026, 3, 5, 9));
        h.status(c, at(2026, 3, 5, 9), S::pending);
        h.requester(c, at(2026, 3, 9, 8));
        h.status(c, at(2026, 3, 9, 8), S::open);
        h.agent(c, at(2026, 3, 9, 9));
        h.status(c, at(2026, 3, 9, 10), S::resolved);
        // D: opened the Sunday before the period, never answered: backlog all along.
        d = h.ticket(at(2026, 3, 1, 20), "carol@z.example", {"vpn"});
        // E: opened late in week 2, answered after the period: no first response in it.
        e = h.ticket(at(2026, 3, 12, 23, 30), "bob@y.example", {"vpn"});
        h.agent(e, at(2026, 3, 16, 1));
        // F: the previous period only.
        f = h.ticket(at(2026, 2, 20, 10), "dave@w.example", {"billing"});
        h.agent(f, at(2026, 2, 20, 11));
        h.status(f, at(2026, 2, 21, 10), S::closed);
        // G: closed by a rule as it arrived, no agent answer.
        g = h.ticket(at(2026, 3, 6, 12), "erin@v.example");
        h.status(g, at(2026, 3, 6, 12), S::closed);
        // H: opened before the period, closed in week 1 with no status event (older desk).
        hh = h.ticket(at(2026, 2, 25, 10), "frank@u.example");
        h.closed_without_trail(hh, at(2026, 3, 3, 10));
        // I: another queue, open.
        i = h.ticket(at(2026, 3, 4, 10), "grace@u.example", {}, "sales");
        // J: resolved long before the period and untouched: not even read.
        j = h.ticket(at(2026, 1, 5, 10), "alice@x.example", {"billing"});
        h.status(j, at(2026, 1, 6, 10), S::resolved);

        o.since = at(2026, 3, 2);
        o.until = at(2026, 3, 16);
        o.by = Bucket::week;
    }

    store::Database db{":memory:"};
    std::int64_t a, b, c, d, e, f, g, hh, i, j;
    Options o;
};

TEST_F(ReportTest, WeeklyFiguresMatchTheHandWorkedAnswers) {
    const auto r = run(db, o);
    ASSERT_EQ(r.periods.size(), 2u);
    const auto& w1 = r.periods[0];
    const auto& w2 = r.periods[1];
    EXPECT_EQ(w1.label, "2026-03-02");
    EXPECT_EQ(w1.start, at(2026, 3, 2));
    EXPECT_EQ(w1.end, at(2026, 3, 9));
    EXPECT_EQ(w2.label, "2026-03-09");

    EXPECT_EQ(w1.opened, 5);    // A B C G I
    EXPECT_EQ(w1.resolved, 4);  // A, B (first time), G by the rule, H from closed_at
    EXPECT_EQ(w1.reopened, 0);
    EXPECT_EQ(w1.backlog, 3);   // C pending, D, I
    EXPECT_EQ(w1.fcr_candidates, 2);  // A and B; G and H had no agent answer
    EXPECT_EQ(w1.fcr, 1);             // B was reopened
    ASSERT_TRUE(w1.fcr_rate);
    EXPECT_DOUBLE_EQ(*w1.fcr_rate, 0.5);
    EXPECT_EQ(w1.first_response.count, 3u);  // A 1h, B 2h, C 1h
    EXPECT_EQ(w1.first_response.median, 1 * H);
    EXPECT_EQ(w1.first_response.p90, 2 * H);
    EXPECT_FALSE(w1.first_response.business_median);  // no SLA calendars given
    EXPECT_EQ(w1.resolution.count, 4u);  // G 0, A 3h, B 24h, H 6d
    EXPECT_EQ(w1.resolution.median, 3 * H);
    EXPECT_EQ(w1.resolution.p90, 6 * D);
    ASSERT_TRUE(w1.messages_per_ticket);
    EXPECT_DOUBLE_EQ(*w1.messages_per_ticket, 12.0 / 5);  // A 2, B 4, C 4, G 1, I 1

    EXPECT_EQ(w2.opened, 1);    // E
    EXPECT_EQ(w2.resolved, 2);  // C, B again
    EXPECT_EQ(w2.reopened, 1);  // B
    EXPECT_EQ(w2.backlog, 3);   // D, E, I
    EXPECT_EQ(w2.fcr_candidates, 1);  // C, two answers before it was resolved
    EXPECT_EQ(w2.fcr, 0);
    EXPECT_EQ(w2.first_response.count, 0u);  // E's answer came after the period
    EXPECT_EQ(w2.resolution.median, 4 * D + 2 * H);   // C: Thu 08:00 to Mon 10:00
    EXPECT_EQ(w2.resolution.p90, 6 * D + 21 * H);     // B: Tue 14:00 to next Tue 11:00
    EXPECT_DOUBLE_EQ(*w2.messages_per_ticket, 1.0);

    const auto& t = r.total;
    EXPECT_EQ(t.label, "total");
    EXPECT_EQ(t.opened, 6);
    EXPECT_EQ(t.resolved, 6);
    EXPECT_EQ(t.reopened, 1);
    EXPECT_EQ(t.backlog, 3);
    EXPECT_EQ(t.fcr_candidates, 3);
    EXPECT_EQ(t.fcr, 1);
    EXPECT_EQ(t.resolution.median, 1 * D);  // 0, 3h, 24h, 98h, 6d, 165h: the third
    EXPECT_EQ(t.resolution.p90, 6 * D + 21 * H);
    EXPECT_NEAR(*t.messages_per_ticket, 13.0 / 6, 1e-9);
}

TEST_F(ReportTest, TagTrendsRepeatRequestersAndBusiestHours) {
    const auto r = run(db, o);
    ASSERT_EQ(r.top_tags.size(), 2u);
    EXPECT_EQ(r.top_tags[0].tag, "vpn");
    EXPECT_EQ(r.top_tags[0].count, 3);     // B C E
    EXPECT_EQ(r.top_tags[0].previous, 1);  // D, the Sunday before
    EXPECT_EQ(r.top_tags[1].tag, "billing");
    EXPECT_EQ(r.top_tags[1].count, 2);     // A B
    EXPECT_EQ(r.top_tags[1].previous, 1);  // F (J is older than the previous period)

    ASSERT_EQ(r.repeat_requesters.size(), 2u);
    EXPECT_EQ(r.repeat_requesters[0].address, "alice@x.example");  // case does not split her
    EXPECT_EQ(r.repeat_requesters[0].tickets, 2);
    EXPECT_EQ(r.repeat_requesters[0].shared_tags, std::vector<std::string>{"billing"});
    EXPECT_EQ(r.repeat_requesters[1].address, "bob@y.example");
    EXPECT_EQ(r.repeat_requesters[1].shared_tags, std::vector<std::string>{"vpn"});

    std::int64_t sum = 0;
    for (const auto& day : r.busiest_hours)
        for (auto n : day) sum += n;
    EXPECT_EQ(sum, 6);
    EXPECT_EQ(r.busiest_hours[0][9], 1);   // A, Monday 09
    EXPECT_EQ(r.busiest_hours[1][14], 1);  // B, Tuesday 14
    EXPECT_EQ(r.busiest_hours[2][10], 1);  // I, Wednesday 10
    EXPECT_EQ(r.busiest_hours[3][8], 1);   // C, Thursday 08
    EXPECT_EQ(r.busiest_hours[3][23], 1);  // E, Thursday 23:30
    EXPECT_EQ(r.busiest_hours[4][12], 1);  // G, Friday 12
}

TEST_F(ReportTest, QueueAndTagFilters) {
    auto r = run(db, o, "sales");
    EXPECT_EQ(r.total.opened, 1);  // I
    EXPECT_EQ(r.total.backlog, 1);
    EXPECT_EQ(r.total.resolved, 0);
    r = run(db, o, "", "billing");
    EXPECT_EQ(r.total.opened, 2);    // A B
    EXPECT_EQ(r.total.resolved, 3);  // A, B twice
    EXPECT_EQ(r.total.fcr, 1);
}

TEST_F(ReportTest, TicketsResolvedBeforeThePeriodAreNotRead) {
    store::ReportQuery q;
    q.since = o.since;
    q.until = o.until;
    const auto rows = store::load_report_rows(db, q);
    std::vector<std::int64_t> ids;
    for (const auto& t : rows.tickets) ids.push_back(t.id);
    // F closed Feb 21 and J in January; H was closed in the period, D is open.
    EXPECT_EQ(ids, (std::vector<std::int64_t>{a, b, c, d, e, g, hh, i}));
    // Nothing recorded after `until` is read: E's answer on the 16th is not there.
    for (const auto& t : rows.tickets) {
        if (t.id == e) {
            EXPECT_TRUE(t.agent_answers.empty());
        }
    }
}

TEST_F(ReportTest, DailyBucketsCountTheBoundaryTicketsOnce) {
    o.by = Bucket::day;
    const auto r = run(db, o);
    ASSERT_EQ(r.periods.size(), 14u);
    std::int64_t opened = 0, resolved = 0;
    for (const auto& p : r.periods) {
        opened += p.opened;
        resolved += p.resolved;
    }
    EXPECT_EQ(opened, r.total.opened);
    EXPECT_EQ(resolved, r.total.resolved);
    EXPECT_EQ(r.periods[0].backlog, 2);   // Monday night: D, and H (closed on the 3rd); A resolved
    EXPECT_EQ(r.periods[10].opened, 1);   // E on Thursday the 12th, 23:30
    EXPECT_EQ(r.periods[13].backlog, 3);  // the end of the period
}

// Business time: Mon-Fri 09:00-17:00 UTC; C's pending pause counts only under pause_while_pending.
sla::Policies office(bool pause_pending) {
    sla::Policies p;
    sla::Calendar cal;
    cal.name = "office";
    cal.zone = date::locate_zone("UTC");
    for (int wd = 1; wd <= 5; ++wd) cal.week[wd] = {{std::chrono::hours(9), std::chrono::hours(17)}};
    p.calendars.emplace("office", cal);
    sla::Policy pol;
    pol.name = "default";
    pol.calendar = "office";
    pol.pause_while_pending = pause_pending;
    p.policies.push_back(pol);
    return p;
}

TEST_F(ReportTest, BusinessTimeByTheTicketsCalendarWithPendingPauses) {
    const auto paused = office(true);
    o.sla = &paused;
    auto r = run(db, o);
    ASSERT_TRUE(r.business_time);
    const auto& w2 = r.periods[1];
    // C: Thu 08:00-09:00 is before hours, pending until Mon 08:00, then Mon 09:00-10:00: 1h.
    // B: Tue 14-17 (3h) + Wed 09-14 (5h), resolved until the reopen, Tue 09-11 (2h): 10h.
    EXPECT_EQ(w2.resolution.business_median, 1 * H);
    EXPECT_EQ(w2.resolution.business_p90, 10 * H);
    // First responses: A Mon 09-10 1h, B Tue 14-16 2h, C before hours 0.
    EXPECT_EQ(r.periods[0].first_response.business_median, 1 * H);
    EXPECT_EQ(r.periods[0].first_response.business_p90, 2 * H);

    const auto running = office(false);
    o.sla = &running;
    r = run(db, o);
    // C without the pause: Thu 09-17, Fri 09-17, Mon 09-10: 17h.
    EXPECT_EQ(r.periods[1].resolution.business_median, 10 * H);
    EXPECT_EQ(r.periods[1].resolution.business_p90, 17 * H);
}

TEST_F(ReportTest, JsonAndCsvCarryTheDocumentedNames) {
    const auto r = run(db, o);
    const auto j = nlohmann::json::parse(render_json(r));
    EXPECT_EQ(j["since"], "2026-03-02T00:00:00Z");
    EXPECT_EQ(j["by"], "week");
    EXPECT_EQ(j["periods"].size(), 2u);
    EXPECT_EQ(j["periods"][0]["opened"], 5);
    EXPECT_EQ(j["periods"][0]["fcr_rate"], 0.5);
    EXPECT_EQ(j["periods"][0]["first_response"]["median_s"], 3600);
    EXPECT_TRUE(j["periods"][1]["first_response"]["median_s"].is_null());
    EXPECT_EQ(j["total"]["resolved"], 6);
    EXPECT_EQ(j["top_tags"][0]["change"], 2);
    EXPECT_EQ(j["repeat_requesters"][1]["shared_tags"][0], "vpn");
    EXPECT_EQ(j["busiest_hours"]["counts"][3][23], 1);

    const auto csv = render_csv(r);
    EXPECT_EQ(csv.substr(0, csv.find("\r\n")),
              "period,start,end,opened,resolved,reopened,backlog,fcr_candidates,fcr,fcr_rate,"
              "first_response_count,first_response_median_s,first_response_p90_s,"
              "first_response_business_median_s,first_response_business_p90_s,"
              "resolution_count,resolution_median_s,resolution_p90_s,"
              "resolution_business_median_s,resolution_business_p90_s,messages_per_ticket,"
              "csat_requests,csat_responses,csat_score,csat_good_ratio");
    EXPECT_NE(csv.find("\r\n2026-03-02,2026-03-02T00:00:00Z,2026-03-09T00:00:00Z,5,4,0,3,2,1,0.5000,3,3600,7200,,,"
                       "4,10800,518400,,,2.40,0,0,,\r\n"),
              std::string::npos)
        << csv;
    EXPECT_NE(csv.find("\r\ntotal,"), std::string::npos);

    const auto text = render_text(r);
    EXPECT_NE(text.find("2026-03-02       5        4"), std::string::npos) << text;
    EXPECT_NE(text.find("alice@x.example"), std::string::npos);
}

TEST(ReportTrail, AnAgentsStatusCommandAndOtherCommandsOnTheTrail) {
    store::Database db(":memory:");
    History h(db);
    const auto t = h.ticket(at(2026, 3, 2, 9), "a@x.example");
    h.agent(t, at(2026, 3, 2, 10));
    h.agent_status(t, at(2026, 3, 2, 10), store::Status::pending);
    h.agent_status(t, at(2026, 3, 3, 10), store::Status::resolved);
    store::Event other;  // a command that is not about status changes nothing
    other.ticket = t;
    other.at = at(2026, 3, 3, 11);
    other.kind = "agent.command";
    other.detail = "agent@acme.example: tag +vpn";
    store::Events(db).add(other);
    Options o;
    o.since = at(2026, 3, 2);
    o.until = at(2026, 3, 9);
    o.by = Bucket::day;
    const auto r = run(db, o);
    EXPECT_EQ(r.total.resolved, 1);
    EXPECT_EQ(r.periods[1].resolved, 1);
    EXPECT_EQ(r.periods[0].backlog, 1);  // pending still counts
    EXPECT_EQ(r.periods[1].backlog, 0);
    EXPECT_EQ(r.total.fcr, 1);
    EXPECT_EQ(r.total.resolution.median, 25 * H);
}

TEST(ReportBuckets, DstChangeMovesLocalMidnights) {
    const auto* berlin = date::locate_zone("Europe/Berlin");
    // 2026-03-29: clocks go from 02:00 CET to 03:00 CEST; that day has 23 hours.
    const auto since = *parse_date("2026-03-28", berlin);
    const auto until = *parse_date("2026-03-31", berlin);
    EXPECT_EQ(since, at(2026, 3, 27, 23));
    EXPECT_EQ(until, at(2026, 3, 30, 22));
    const auto b = boundaries(since, until, Bucket::day, berlin);
    EXPECT_EQ(b, (std::vector<std::int64_t>{at(2026, 3, 27, 23), at(2026, 3, 28, 23), at(2026, 3, 29, 22),
                                            at(2026, 3, 30, 22)}));

    store::Database db(":memory:");
    History h(db);
    h.ticket(at(2026, 3, 28, 23, 30), "a@x.example");  // Sunday 00:30 CET
    h.ticket(at(2026, 3, 29, 1, 30), "b@x.example");   // Sunday 03:30 CEST
    h.ticket(at(2026, 3, 29, 22, 30), "c@x.example");  // Monday 00:30 CEST (still Sunday in UTC)
    Options o;
    o.since = since;
    o.until = until;
    o.by = Bucket::day;
    o.zone = berlin;
    const auto r = run(db, o);
    ASSERT_EQ(r.periods.size(), 3u);
    EXPECT_EQ(r.periods[1].label, "2026-03-29");
    EXPECT_EQ(r.periods[1].end - r.periods[1].start, 23 * H);
    EXPECT_EQ(r.periods[0].opened, 0);
    EXPECT_EQ(r.periods[1].opened, 2);
    EXPECT_EQ(r.periods[2].opened, 1);
    EXPECT_EQ(r.time_zone, "Europe/Berlin");
    EXPECT_EQ(r.busiest_hours[6][0], 1);  // Sunday 00:30
    EXPECT_EQ(r.busiest_hours[6][3], 1);  // Sunday 03:30: there is no 02:xx that day
    EXPECT_EQ(r.busiest_hours[0][0], 1);  // Monday 00:30
}

TEST(ReportBuckets, WeeksAndMonthsAlignToTheCalendar) {
    // A period starting on a Wednesday: the first week is short, the next ones start on Mondays.
    EXPECT_EQ(boundaries(at(2026, 3, 4), at(2026, 3, 20), Bucket::week, nullptr),
              (std::vector<std::int64_t>{at(2026, 3, 4), at(2026, 3, 9), at(2026, 3, 16), at(2026, 3, 20)}));
    EXPECT_EQ(boundaries(at(2026, 1, 15), at(2026, 3, 10), Bucket::month, nullptr),
              (std::vector<std::int64_t>{at(2026, 1, 15), at(2026, 2, 1), at(2026, 3, 1), at(2026, 3, 10)}));
    EXPECT_TRUE(boundaries(at(2026, 3, 4), at(2026, 3, 4), Bucket::day, nullptr).empty());
    EXPECT_FALSE(parse_date("2026-02-30", nullptr));
    EXPECT_FALSE(parse_date("2026-3-1", nullptr));
}

TEST(ReportPercentiles, NearestRank) {
    EXPECT_FALSE(percentile({}, 50));
    EXPECT_EQ(percentile({5}, 90), 5);
    EXPECT_EQ(percentile({4, 1, 3, 2}, 50), 2);
    EXPECT_EQ(percentile({1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 90), 9);
    EXPECT_EQ(percentile({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, 90), 10);
}

}  // namespace
}  // namespace ticketd::reports
