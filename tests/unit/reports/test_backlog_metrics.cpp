// /metrics' backlog (issue 9): open and pending tickets and the oldest one's age, read from the
// database as the daemon does on each scrape.
#include <gtest/gtest.h>

#include "metrics/metrics.h"
#include "store/report_rows.h"
#include "tests/unit/reports/history.h"

namespace ticketd::reports {
namespace {

TEST(BacklogMetrics, OpenPendingAndTheOldestOpenTicket) {
    store::Database db(":memory:");
    testing::History h(db);
    const auto old = h.ticket(testing::at(2026, 3, 1, 8), "a@x.example");
    h.status(old, testing::at(2026, 3, 1, 9), store::Status::pending);
    h.ticket(testing::at(2026, 3, 2, 8), "b@x.example");
    h.ticket(testing::at(2026, 3, 3, 8), "c@x.example");
    const auto done = h.ticket(testing::at(2026, 2, 1, 8), "d@x.example");  // older, but resolved
    h.status(done, testing::at(2026, 2, 2, 8), store::Status::resolved);

    const auto b = store::read_backlog(db);
    EXPECT_EQ(b.open, 2);
    EXPECT_EQ(b.pending, 1);
    ASSERT_TRUE(b.oldest_created_at);
    EXPECT_EQ(*b.oldest_created_at, testing::at(2026, 3, 1, 8));

    metrics::register_all();
    const std::string before = metrics::registry().expose();
    EXPECT_NE(before.find("ticketd_tickets_backlog{status=\"pending\"} 0"), std::string::npos) << before;
    metrics::backlog(b.open, b.pending, double(testing::at(2026, 3, 3, 8) - *b.oldest_created_at));
    const std::string text = metrics::registry().expose();
    EXPECT_NE(text.find("ticketd_tickets_backlog{status=\"open\"} 2\n"), std::string::npos) << text;
    EXPECT_NE(text.find("ticketd_tickets_backlog{status=\"pending\"} 1\n"), std::string::npos) << text;
    EXPECT_NE(text.find("ticketd_oldest_open_ticket_age_seconds 172800\n"), std::string::npos) << text;

    store::Database empty(":memory:");
    const auto none = store::read_backlog(empty);
    EXPECT_EQ(none.open + none.pending, 0);
    EXPECT_FALSE(none.oldest_created_at);
}

}  // namespace
}  // namespace ticketd::reports
