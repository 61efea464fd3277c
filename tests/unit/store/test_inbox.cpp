#include "store/inbox.h"

#include <gtest/gtest.h>

#include "store/database.h"
#include "store/hash.h"
#include "tests/support/paths.h"

namespace ticketd::store {
namespace {

using ticketd::testing::TempDir;

std::int64_t count_rows(Database& db, const std::string& table) {
    auto st = db.prepare("SELECT count(*) FROM " + table);
    st.step();
    return st.int64(0);
}

class InboxTest : public ::testing::Test {
protected:
    TempDir dir;
    std::string path = (dir / "t.db").string();
    Database db{path};
    Inbox inbox{db};
};

TEST_F(InboxTest, ImapBatchIsStoredAndAdvancesTheCursor) {
    auto ids = inbox.add_imap_batch("support", "INBOX", 7, {{10, "a"}, {12, "b"}, {11, "c"}});
    ASSERT_EQ(ids.size(), 3u);
    EXPECT_LT(ids[0], ids[1]);
    auto c = inbox.cursor("support", "INBOX");
    EXPECT_EQ(c.uidvalidity, 7u);
    EXPECT_EQ(c.last_uid, 12u);
    auto e = inbox.get(ids[2]);
    ASSERT_TRUE(e);
    EXPECT_EQ(e->source, "imap:support/INBOX");
    EXPECT_EQ(e->uid, 11u);
    EXPECT_EQ(e->uidvalidity, 7u);
    EXPECT_EQ(e->state, InboxState::pending);
    EXPECT_FALSE(e->acknowledged);
    EXPECT_EQ(e->sha256.size(), 64u);
    EXPECT_EQ(inbox.raw(ids[2]), "c");
    EXPECT_EQ(inbox.pending(), ids);
}

TEST_F(InboxTest, SameUidIsNotStoredTwice) {
    auto first = inbox.add_imap_batch("support", "INBOX", 7, {{10, "a"}, {11, "b"}});
    // A failed \Seen makes the poller fetch the same UIDs again (zammad#1662).
    auto again = inbox.add_imap_batch("support", "INBOX", 7, {{11, "b"}, {12, "c"}});
    EXPECT_EQ(again[0], first[1]);
    EXPECT_EQ(count_rows(db, "inbox"), 3);
    EXPECT_EQ(inbox.cursor("support", "INBOX").last_uid, 12u);
    // The cursor never moves backwards.
    inbox.add_imap_batch("support", "INBOX", 7, {{5, "old"}});
    EXPECT_EQ(inbox.cursor("support", "INBOX").last_uid, 12u);
}

TEST_F(InboxTest, MailboxesAreIndependent) {
    inbox.add_imap_batch("support", "INBOX", 7, {{10, "a"}});
    inbox.add_imap_batch("sales", "INBOX", 7, {{10, "a"}});
    EXPECT_EQ(count_rows(db, "inbox"), 2);
    EXPECT_EQ(inbox.cursor("sales", "INBOX").last_uid, 10u);
    EXPECT_EQ(inbox.cursor("other", "INBOX").uidvalidity, 0u);
}

TEST_F(InboxTest, FailedBatchStoresNothingAndKeepsTheCursor) {
    inbox.add_imap_batch("support", "INBOX", 7, {{1, "a"}});
    auto pages = [&] {
        auto st = db.prepare("PRAGMA page_count");
        st.step();
        return st.int64(0);
    }();
    db.exec("PRAGMA max_page_count=" + std::to_string(pages + 2));
    std::string huge(256 * 1024, 'x');
    try {
        inbox.add_imap_batch("support", "INBOX", 7, {{2, "small"}, {3, huge}});
        FAIL() << "disk full not reported";
    } catch (const Error& e) {
        EXPECT_TRUE(e.temporary()) << e.what();
    }
    EXPECT_EQ(count_rows(db, "inbox"), 1);
    EXPECT_EQ(inbox.cursor("support", "INBOX").last_uid, 1u);
}

TEST_F(InboxTest, UidValidityChangeRestartsTheCursor) {
    auto old_ids = inbox.add_imap_batch("support", "INBOX", 7, {{10, "a"}, {11, "b"}});
    inbox.reset_cursor("support", "INBOX", 8);
    auto c = inbox.cursor("support", "INBOX");
    EXPECT_EQ(c.uidvalidity, 8u);
    EXPECT_EQ(c.last_uid, 0u);
    auto new_ids = inbox.add_imap_batch("support", "INBOX", 8, {{1, "a"}});
    EXPECT_NE(new_ids[0], old_ids[0]);
    // Old UIDs mean nothing on the server now: only the new validity needs acknowledging.
    auto un = inbox.unacknowledged("support", "INBOX");
    ASSERT_EQ(un.size(), 1u);
    EXPECT_EQ(un[0].id, new_ids[0]);
}

TEST_F(InboxTest, UnacknowledgedUntilMarked) {
    auto ids = inbox.add_imap_batch("support", "INBOX", 7, {{10, "a"}, {11, "b"}});
    EXPECT_EQ(inbox.unacknowledged("support", "INBOX").size(), 2u);
    inbox.mark_acknowledged({ids[0]});
    auto un = inbox.unacknowledged("support", "INBOX");
    ASSERT_EQ(un.size(), 1u);
    EXPECT_EQ(un[0].uid, 11u);
    EXPECT_TRUE(inbox.get(ids[0])->acknowledged);
}

TEST_F(InboxTest, CommittedBatchSurvivesReopen) {
    auto ids = inbox.add_imap_batch("support", "INBOX", 7, {{10, "hello"}});
    Database other(path);
    Inbox again(other);
    EXPECT_EQ(again.raw(ids[0]), "hello");
    EXPECT_EQ(again.cursor("support", "INBOX").last_uid, 10u);
}

TEST_F(InboxTest, RawIdenticalBytesReturnTheSameId) {
    auto a = inbox.add_raw("file:/tmp/a.eml", "bytes");
    auto b = inbox.add_raw("pipe", "bytes");
    auto c = inbox.add_raw("pipe", "other bytes");
    EXPECT_EQ(a, b);
    EXPECT_NE(a, c);
    auto e = inbox.get(a);
    ASSERT_TRUE(e);
    EXPECT_EQ(e->source, "file:/tmp/a.eml");
    EXPECT_FALSE(e->uid);
    EXPECT_TRUE(e->acknowledged);
    EXPECT_EQ(e->size, 5u);
}

TEST_F(InboxTest, QuarantineAndRelease) {
    auto a = inbox.add_raw("pipe", "one");
    auto b = inbox.add_raw("pipe", "two");
    inbox.quarantine(a, "parse: too_deep");
    EXPECT_EQ(inbox.pending(), std::vector<std::int64_t>{b});
    auto q = inbox.quarantined();
    ASSERT_EQ(q.size(), 1u);
    EXPECT_EQ(q[0].error, "parse: too_deep");
    EXPECT_EQ(q[0].attempts, 1);
    EXPECT_EQ(q[0].outcome, "quarantined");
    EXPECT_EQ(inbox.count(InboxState::quarantined), 1);
    EXPECT_TRUE(inbox.release(a));
    EXPECT_FALSE(inbox.release(a));  // already pending
    EXPECT_FALSE(inbox.release(b));
    EXPECT_EQ(inbox.pending(), (std::vector<std::int64_t>{a, b}));
    EXPECT_EQ(inbox.get(a)->error, "");
}

TEST_F(InboxTest, FinishRecordsOutcome) {
    auto a = inbox.add_raw("pipe", "one");
    {
        Transaction tx(db);
        inbox.finish(a, "unmatched_automatic", std::nullopt);
        tx.commit();
    }
    auto e = inbox.get(a);
    EXPECT_EQ(e->state, InboxState::done);
    EXPECT_EQ(e->outcome, "unmatched_automatic");
    EXPECT_TRUE(e->processed_at);
    EXPECT_EQ(inbox.with_outcome("unmatched_automatic").size(), 1u);
    EXPECT_TRUE(inbox.pending().empty());
}

TEST_F(InboxTest, FetchFailuresCountPerUid) {
    EXPECT_EQ(inbox.record_fetch_failure("support", "INBOX", 7, 42, "NO [SERVERBUG]"), 1);
    EXPECT_EQ(inbox.record_fetch_failure("support", "INBOX", 7, 42, "NO again"), 2);
    EXPECT_EQ(inbox.record_fetch_failure("support", "INBOX", 7, 43, "other"), 1);
    EXPECT_EQ(inbox.record_fetch_failure("support", "INBOX", 8, 42, "new validity"), 1);
    auto f = inbox.fetch_failures("support", "INBOX", 7);
    ASSERT_EQ(f.size(), 2u);
    EXPECT_EQ(f[0].uid, 42u);
    EXPECT_EQ(f[0].attempts, 2);
    EXPECT_EQ(f[0].last_error, "NO again");
    EXPECT_FALSE(f[0].given_up);
}

TEST_F(InboxTest, StoringAUidForgetsItsFailures) {
    inbox.record_fetch_failure("support", "INBOX", 7, 42, "timeout");
    inbox.add_imap_batch("support", "INBOX", 7, {{42, "bytes"}});
    EXPECT_TRUE(inbox.fetch_failures("support", "INBOX", 7).empty());
}

TEST_F(InboxTest, UnfetchableBecomesAQuarantinedPlaceholderAndMovesTheCursor) {
    auto poison = FetchedMessage::given_up(42, "fetch_failed", "fetch failed 3 times: NO");
    auto ids = inbox.add_imap_batch("support", "INBOX", 7, {poison, {43, "fine"}});
    ASSERT_EQ(ids.size(), 2u);
    EXPECT_EQ(inbox.cursor("support", "INBOX").last_uid, 43u);
    auto e = inbox.get(ids[0]);
    ASSERT_TRUE(e);
    EXPECT_EQ(e->state, InboxState::quarantined);
    EXPECT_EQ(e->outcome, "fetch_failed");
    EXPECT_EQ(e->error, "fetch failed 3 times: NO");
    EXPECT_EQ(e->size, 0u);
    EXPECT_TRUE(e->acknowledged);  // nothing to do on the server: it stays there untouched
    EXPECT_EQ(inbox.pending(), std::vector<std::int64_t>{ids[1]});
    // Not offered for acknowledge, and visible among the quarantined.
    auto unack = inbox.unacknowledged("support", "INBOX");
    ASSERT_EQ(unack.size(), 1u);
    EXPECT_EQ(unack[0].uid, 43u);
    EXPECT_EQ(inbox.quarantined().size(), 1u);
    auto f = inbox.fetch_failures("support", "INBOX", 7);
    ASSERT_EQ(f.size(), 1u);
    EXPECT_TRUE(f[0].given_up);
    EXPECT_TRUE(inbox.released_uids("support", "INBOX", 7).empty());
}

TEST_F(InboxTest, ReleasedPlaceholderIsFetchedAgainAndFilledIn) {
    auto ids = inbox.add_imap_batch("support", "INBOX", 7,
                                    {FetchedMessage::given_up(42, "too_large", "larger than 1024 bytes"), {43, "x"}});
    EXPECT_TRUE(inbox.release(ids[0]));
    EXPECT_FALSE(inbox.release(ids[0]));  // already waiting to be fetched again
    auto e = inbox.get(ids[0]);
    EXPECT_EQ(e->state, InboxState::quarantined);  // no bytes yet: nothing to process
    EXPECT_NE(e->error.find("released"), std::string::npos);
    EXPECT_EQ(inbox.released_uids("support", "INBOX", 7), std::vector<std::uint64_t>{42});

    // The next cycle fetches it: the same row, now an ordinary pending message.
    auto again = inbox.add_imap_batch("support", "INBOX", 7, {{42, "the bytes at last"}});
    ASSERT_EQ(again.size(), 1u);
    EXPECT_EQ(again[0], ids[0]);
    e = inbox.get(ids[0]);
    EXPECT_EQ(e->state, InboxState::pending);
    EXPECT_EQ(e->outcome, "");
    EXPECT_EQ(e->size, 17u);
    EXPECT_FALSE(e->acknowledged);
    EXPECT_EQ(inbox.raw(ids[0]), "the bytes at last");
    EXPECT_TRUE(inbox.released_uids("support", "INBOX", 7).empty());
    EXPECT_TRUE(inbox.fetch_failures("support", "INBOX", 7).empty());
    EXPECT_EQ(inbox.cursor("support", "INBOX").last_uid, 43u);
}

TEST_F(InboxTest, PlaceholderFailingAgainStaysOnePlaceholder) {
    auto ids = inbox.add_imap_batch("support", "INBOX", 7,
                                    {FetchedMessage::given_up(42, "fetch_failed", "first")});
    ASSERT_TRUE(inbox.release(ids[0]));
    auto again =
        inbox.add_imap_batch("support", "INBOX", 7,
                             {FetchedMessage::given_up(42, "fetch_failed", "second")});
    EXPECT_EQ(again[0], ids[0]);
    EXPECT_EQ(inbox.get(ids[0])->error, "second");
    EXPECT_EQ(count_rows(db, "inbox"), 1);
    EXPECT_TRUE(inbox.fetch_failures("support", "INBOX", 7)[0].given_up);
}

TEST_F(InboxTest, ListNewestFirstByState) {
    auto a = inbox.add_raw("file:a", "a");
    auto b = inbox.add_raw("file:b", "b");
    inbox.quarantine(a, "broken");
    auto all = inbox.list(std::nullopt, 10);
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(all[0].id, b);
    auto q = inbox.list(InboxState::quarantined, 10);
    ASSERT_EQ(q.size(), 1u);
    EXPECT_EQ(q[0].id, a);
    EXPECT_EQ(inbox.list(std::nullopt, 1).size(), 1u);
}

TEST_F(InboxTest, PruneRawDropsOnlyMailOfLongClosedTickets) {
    db.exec("INSERT INTO tickets (id, number, token, status, created_at, updated_at, closed_at) VALUES "
            "(1, 1001, 't1', 'closed', 0, 100, 100), (2, 1002, 't2', 'closed', 0, 900, 900), "
            "(3, 1003, 't3', 'open', 0, 50, NULL), (4, 1004, 't4', 'resolved', 0, 50, 50)");
    std::vector<std::int64_t> ids;
    for (int t = 1; t <= 4; ++t) {
        auto id = inbox.add_raw("file:" + std::to_string(t), "mail " + std::to_string(t));
        inbox.finish(id, "created", t);
        ids.push_back(id);
    }
    auto old_one = inbox.add_raw("file:5", "second mail of ticket 1");
    inbox.finish(old_one, "appended", 1);

    EXPECT_EQ(inbox.prune_raw(500, 1), 1);  // the limit is honoured
    EXPECT_EQ(inbox.prune_raw(500), 1);     // the rest of ticket 1, nothing else
    EXPECT_EQ(inbox.prune_raw(500), 0);
    auto e = inbox.get(ids[0]);
    EXPECT_TRUE(e->pruned);
    EXPECT_EQ(e->size, 6u);
    EXPECT_EQ(e->sha256, sha256_hex("mail 1"));
    EXPECT_EQ(inbox.raw(ids[0]), "");
    EXPECT_TRUE(inbox.get(old_one)->pruned);
    for (int t = 2; t <= 4; ++t) {  // closed too recently, open, resolved (not closed)
        EXPECT_FALSE(inbox.get(ids[t - 1])->pruned) << t;
        EXPECT_EQ(inbox.raw(ids[t - 1]), "mail " + std::to_string(t));
    }
    // Identical bytes arriving again are still recognised.
    EXPECT_EQ(inbox.add_raw("pipe", "mail 1"), ids[0]);
}

TEST_F(InboxTest, MissingEntry) {
    EXPECT_FALSE(inbox.get(42));
    EXPECT_THROW(inbox.raw(42), Error);
}

}  // namespace
}  // namespace ticketd::store
