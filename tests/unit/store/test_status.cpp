// mailbox_polls (what the daemon records after each poll) and the counts `ticketd status` reads.

#include "store/status.h"

#include <gtest/gtest.h>

#include "store/database.h"
#include "store/inbox.h"
#include "tests/support/paths.h"

namespace ticketd::store {
namespace {

using ticketd::testing::TempDir;

class StatusTest : public ::testing::Test {
protected:
    TempDir dir;
    Database db{(dir / "t.db").string()};
    std::int64_t now = 1'800'000'000;
    void SetUp() override { db.set_clock([this] { return now; }); }

    const MailboxStatus* box(const DeskStatus& s, const std::string& account) {
        for (const auto& m : s.mailboxes)
            if (m.account == account) return &m;
        return nullptr;
    }
};

TEST_F(StatusTest, AnEmptyDeskHasZeroCountsForEveryState) {
    auto s = read_status(db);
    EXPECT_GE(s.schema_version, 5);
    EXPECT_EQ(s.now, now);
    EXPECT_TRUE(s.mailboxes.empty());
    EXPECT_EQ(s.inbox, (std::map<std::string, std::int64_t>{{"done", 0}, {"pending", 0}, {"quarantined", 0}}));
    EXPECT_EQ(s.tickets,
              (std::map<std::string, std::int64_t>{{"closed", 0}, {"open", 0}, {"pending", 0}, {"resolved", 0}}));
    EXPECT_FALSE(s.oldest_pending_at);
    // The outbox is reported exactly when its table exists (issue 5 adds it).
    auto st = db.prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'outbox'");
    st.step();
    EXPECT_EQ(s.outbox.has_value(), st.int64(0) == 1);
}

TEST_F(StatusTest, PollsTrackTheLastSuccessAndTheCurrentOutage) {
    record_poll(db, "support", true, 100, "");
    record_poll(db, "sales", false, 100, "LOGIN failed");
    record_poll(db, "sales", false, 160, "LOGIN failed again");
    auto s = read_status(db);
    ASSERT_EQ(s.mailboxes.size(), 2u);
    const auto* support = box(s, "support");
    ASSERT_TRUE(support);
    EXPECT_EQ(support->last_poll_at, 100);
    EXPECT_EQ(support->last_ok_at, 100);
    EXPECT_FALSE(support->failing_since);
    EXPECT_EQ(support->failures, 0);
    const auto* sales = box(s, "sales");
    ASSERT_TRUE(sales);
    EXPECT_EQ(sales->last_poll_at, 160);
    EXPECT_FALSE(sales->last_ok_at);
    EXPECT_EQ(sales->failing_since, 100);  // the outage began at the first failure
    EXPECT_EQ(sales->failures, 2);
    EXPECT_EQ(sales->last_error, "LOGIN failed again");

    record_poll(db, "sales", true, 220, "");
    record_poll(db, "support", false, 230, "timeout");
    s = read_status(db);
    sales = box(s, "sales");
    EXPECT_EQ(sales->last_ok_at, 220);
    EXPECT_FALSE(sales->failing_since);
    EXPECT_EQ(sales->failures, 0);
    EXPECT_EQ(sales->last_error, "");
    support = box(s, "support");
    EXPECT_EQ(support->last_ok_at, 100);  // kept through the new outage
    EXPECT_EQ(support->failing_since, 230);
    EXPECT_EQ(support->failures, 1);
}

TEST_F(StatusTest, InboxCursorAndTicketsAreCounted) {
    Inbox inbox(db);
    auto ids = inbox.add_imap_batch("support", "INBOX", 7, {{10, "a"}, {11, "b"}, {12, "c"}});
    ASSERT_EQ(ids.size(), 3u);
    inbox.quarantine(ids[0], "broken");
    db.exec("INSERT INTO tickets (number, token, status, created_at, updated_at) VALUES "
            "(1, 't1', 'open', 1, 1), (2, 't2', 'open', 1, 1), (3, 't3', 'closed', 1, 1)");
    auto s = read_status(db);
    EXPECT_EQ(s.inbox["pending"], 2);
    EXPECT_EQ(s.inbox["quarantined"], 1);
    EXPECT_EQ(s.inbox["done"], 0);
    EXPECT_EQ(s.unacknowledged, 3);
    EXPECT_EQ(s.oldest_pending_at, now);
    EXPECT_EQ(s.tickets["open"], 2);
    EXPECT_EQ(s.tickets["closed"], 1);
    EXPECT_EQ(s.tickets["resolved"], 0);
    // A mailbox known only by its cursor (polled before mailbox_polls existed) is listed too.
    const auto* support = box(s, "support");
    ASSERT_TRUE(support);
    EXPECT_EQ(support->mailbox, "INBOX");
    EXPECT_EQ(support->uidvalidity, 7);
    EXPECT_EQ(support->last_uid, 12);
    EXPECT_FALSE(support->last_poll_at);
}

}  // namespace
}  // namespace ticketd::store
