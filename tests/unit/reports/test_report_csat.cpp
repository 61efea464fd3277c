// CSAT in the report (issue 9): ratings per period, per queue and per agent over a seeded history
// whose answers are worked out by hand below (docs/reports.md, "Satisfaction").
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "reports/render.h"
#include "reports/report.h"
#include "store/ratings.h"
#include "store/report_rows.h"
#include "tests/unit/reports/history.h"

namespace ticketd::reports {
namespace {

using testing::at;
using testing::History;

class CsatReportTest : public ::testing::Test {
protected:
    store::Database db{":memory:"};
    Options o;

    std::int64_t ask(std::int64_t ticket, std::int64_t when, const std::string& agent) {
        store::CsatRequest r;
        r.ticket = ticket;
        r.resolved_at = when;
        r.recipient = "r@x.example";
        r.agent = agent;
        r.asked_at = when;
        return store::Ratings(db).add_request(r);
    }
    void rate(std::int64_t request, std::int64_t ticket, std::int64_t when, int score) {
        store::Rating r;
        r.request = request;
        r.ticket = ticket;
        r.score = score;
        r.word = std::to_string(score);
        r.rated_at = when;
        store::Ratings(db).rate(r);
    }
    Report run(const std::string& queue = "") {
        Options opt = o;
        opt.queue = queue;
        store::ReportQuery q;
        q.since = opt.since;
        q.until = opt.until;
        q.queue = queue;
        return compute(store::load_report_rows(db, q), opt);
    }

    CsatReportTest() {
        History h(db);
        o.since = at(2026, 3, 2);
        o.until = at(2026, 3, 16);
        o.by = Bucket::week;
        const auto a = h.ticket(at(2026, 3, 1, 9), "a@x.example", {}, "support");
        const auto b = h.ticket(at(2026, 3, 1, 9), "b@x.example", {}, "billing");
        const auto c = h.ticket(at(2026, 3, 1, 9), "c@x.example", {}, "support");
        const auto d = h.ticket(at(2026, 3, 1, 9), "d@x.example", {}, "support");
        const auto e = h.ticket(at(2026, 2, 20, 9), "e@x.example", {}, "billing");
        const auto f = h.ticket(at(2026, 3, 1, 9), "f@x.example", {}, "support");
        // Week 1: A asked and rated 5; B asked, rated 1, then 4 in week 2 (the last word counts,
        // when it was given); E asked before the period, rated 5 in it.
        rate(ask(a, at(2026, 3, 2, 12), "alice@acme.example"), a, at(2026, 3, 3, 9), 5);
        const auto rb = ask(b, at(2026, 3, 4, 12), "bob@acme.example");
        rate(rb, b, at(2026, 3, 5, 9), 1);
        rate(ask(e, at(2026, 2, 25, 12), "bob@acme.example"), e, at(2026, 3, 2, 10), 5);
        // Week 2: B's second word 4; C asked and rated 2; D asked with no agent, not rated; F asked,
        // rated after the period.
        rate(rb, b, at(2026, 3, 10, 9), 4);
        rate(ask(c, at(2026, 3, 9, 12), "alice@acme.example"), c, at(2026, 3, 11, 9), 2);
        ask(d, at(2026, 3, 10, 12), "");
        rate(ask(f, at(2026, 3, 15, 12), "alice@acme.example"), f, at(2026, 3, 16, 10), 5);
    }
};

TEST_F(CsatReportTest, PerPeriodAndTotal) {
    const auto r = run();
    ASSERT_EQ(r.periods.size(), 2u);
    // Week 1: requests A, B; ratings A 5, E 5.
    EXPECT_EQ(r.periods[0].csat_requests, 2);
    EXPECT_EQ(r.periods[0].csat_responses, 2);
    EXPECT_DOUBLE_EQ(*r.periods[0].csat_score, 5.0);
    EXPECT_DOUBLE_EQ(*r.periods[0].csat_good_ratio, 1.0);
    // Week 2: requests C, D, F; ratings B 4, C 2.
    EXPECT_EQ(r.periods[1].csat_requests, 3);
    EXPECT_EQ(r.periods[1].csat_responses, 2);
    EXPECT_DOUBLE_EQ(*r.periods[1].csat_score, 3.0);
    EXPECT_DOUBLE_EQ(*r.periods[1].csat_good_ratio, 0.5);
    // Total: 5 requests, ratings 5 5 4 2.
    EXPECT_EQ(r.total.csat_requests, 5);
    EXPECT_EQ(r.total.csat_responses, 4);
    EXPECT_DOUBLE_EQ(*r.total.csat_score, 4.0);
    EXPECT_DOUBLE_EQ(*r.total.csat_good_ratio, 0.75);
}

TEST_F(CsatReportTest, PerQueueAndAgent) {
    const auto r = run();
    ASSERT_EQ(r.csat_by_queue.size(), 2u);
    // billing: asked B (E was asked before the period), rated E 5 and B 4.
    EXPECT_EQ(r.csat_by_queue[0].name, "billing");
    EXPECT_EQ(r.csat_by_queue[0].requests, 1);
    EXPECT_EQ(r.csat_by_queue[0].responses, 2);
    EXPECT_DOUBLE_EQ(*r.csat_by_queue[0].score, 4.5);
    EXPECT_DOUBLE_EQ(*r.csat_by_queue[0].good_ratio, 1.0);
    // support: asked A, C, D, F; rated A 5, C 2.
    EXPECT_EQ(r.csat_by_queue[1].name, "support");
    EXPECT_EQ(r.csat_by_queue[1].requests, 4);
    EXPECT_EQ(r.csat_by_queue[1].responses, 2);
    EXPECT_DOUBLE_EQ(*r.csat_by_queue[1].score, 3.5);
    EXPECT_DOUBLE_EQ(*r.csat_by_queue[1].good_ratio, 0.5);

    ASSERT_EQ(r.csat_by_agent.size(), 3u);
    EXPECT_EQ(r.csat_by_agent[0].name, "alice@acme.example");
    EXPECT_EQ(r.csat_by_agent[0].requests, 3);
    EXPECT_EQ(r.csat_by_agent[0].responses, 2);
    EXPECT_DOUBLE_EQ(*r.csat_by_agent[0].score, 3.5);
    EXPECT_EQ(r.csat_by_agent[1].name, "bob@acme.example");
    EXPECT_EQ(r.csat_by_agent[1].requests, 1);
    EXPECT_DOUBLE_EQ(*r.csat_by_agent[1].score, 4.5);
    EXPECT_EQ(r.csat_by_agent[2].name, "");
    EXPECT_EQ(r.csat_by_agent[2].requests, 1);
    EXPECT_EQ(r.csat_by_agent[2].responses, 0);
    EXPECT_FALSE(r.csat_by_agent[2].score);
}

TEST_F(CsatReportTest, TheQueueFilterAppliesToRatingsToo) {
    const auto r = run("support");
    EXPECT_EQ(r.total.csat_requests, 4);
    EXPECT_EQ(r.total.csat_responses, 2);
    EXPECT_DOUBLE_EQ(*r.total.csat_score, 3.5);
    ASSERT_EQ(r.csat_by_queue.size(), 1u);
}

TEST_F(CsatReportTest, JsonCsvAndText) {
    const auto r = run();
    const auto j = nlohmann::json::parse(render_json(r));
    EXPECT_EQ(j["periods"][0]["csat_responses"], 2);
    EXPECT_EQ(j["periods"][1]["csat_score"], 3.0);
    EXPECT_EQ(j["total"]["csat_requests"], 5);
    EXPECT_EQ(j["total"]["csat_good_ratio"], 0.75);
    EXPECT_EQ(j["csat_by_queue"][0]["queue"], "billing");
    EXPECT_EQ(j["csat_by_agent"][0]["agent"], "alice@acme.example");
    EXPECT_EQ(j["csat_by_agent"][0]["csat_score"], 3.5);
    EXPECT_TRUE(j["csat_by_agent"][2]["csat_score"].is_null());

    const auto csv = render_csv(r);
    const auto header = csv.substr(0, csv.find("\r\n"));
    EXPECT_EQ(header.substr(header.rfind(",messages_per_ticket")),
              ",messages_per_ticket,csat_requests,csat_responses,csat_score,csat_good_ratio");
    EXPECT_NE(csv.find(",2,2,5.00,1.0000\r\n2026-03-09,"), std::string::npos) << csv;
    EXPECT_NE(csv.find(",5,4,4.00,0.7500\r\n"), std::string::npos) << csv;

    const auto text = render_text(r);
    EXPECT_NE(text.find("Satisfaction (CSAT): 4 rating(s), 5 request(s) sent in the period; mean 4.0 of 5, 75% good"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("alice@acme.example"), std::string::npos);
}

TEST(CsatReportOldDesk, ADeskWithoutMigration11HasNoRatings) {
    store::Database db(":memory:");
    db.exec("DROP TABLE ratings; DROP TABLE csat_requests;");
    store::ReportQuery q;
    q.since = at(2026, 3, 2);
    q.until = at(2026, 3, 9);
    const auto rows = store::load_report_rows(db, q);
    EXPECT_TRUE(rows.ratings.empty());
    EXPECT_TRUE(rows.csat_requests.empty());
}

}  // namespace
}  // namespace ticketd::reports
