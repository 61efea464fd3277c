// A status a rule sets is on the trail (`ticket.status ... : rules`), so the report counts the
// resolution at the moment it happened (issue 9).
#include <gtest/gtest.h>

#include "config/rules_loader.h"
#include "reports/report.h"
#include "store/database.h"
#include "store/report_rows.h"
#include "store/tickets.h"
#include "tests/unit/reports/history.h"
#include "tickets/pipeline.h"

namespace ticketd::reports {
namespace {

TEST(ReportPipeline, ARulesStatusChangeIsRecordedAndCounted) {
    auto c = std::make_shared<config::Config>();
    c->desk.addresses = {"support@acme.example"};
    c->desk.hostname = "acme.example";
    std::vector<config::ConfigError> errors;
    config::load_rule_text("rules:\n  - name: Thanks closes\n    when: { subject: { contains: thanks } }\n"
                           "    then: { status: resolved }\n",
                           "rules.yaml", c->rules, errors);
    ASSERT_TRUE(errors.empty());
    store::Database db(":memory:");
    std::int64_t now = testing::at(2026, 3, 3, 10);
    db.set_clock([&] { return now; });
    auto out = tickets::ingest_raw(db, c, "pipe",
                                   "From: Ann <ann@customer.example>\nTo: support@acme.example\n"
                                   "Subject: thanks, all good\nMessage-ID: <t1@customer.example>\n\nBye\n");
    ASSERT_EQ(out.outcome, tickets::Outcome::created) << out.detail;
    std::vector<std::string> trail;
    for (const auto& e : store::Events(db).for_ticket(*out.ticket_id))
        if (e.kind == "ticket.status") trail.push_back(e.detail);
    EXPECT_EQ(trail, std::vector<std::string>{"open -> resolved: rules"});

    Options o;
    o.since = testing::at(2026, 3, 2);
    o.until = testing::at(2026, 3, 9);
    store::ReportQuery q;
    q.since = o.since;
    q.until = o.until;
    const auto r = compute(store::load_report_rows(db, q), o);
    EXPECT_EQ(r.total.opened, 1);
    EXPECT_EQ(r.total.resolved, 1);
    EXPECT_EQ(r.total.backlog, 0);
    EXPECT_EQ(r.total.resolution.median, 0);
}

}  // namespace
}  // namespace ticketd::reports
