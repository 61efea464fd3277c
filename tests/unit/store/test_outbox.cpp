// The outbox repository: enqueue, due order, retry with backoff, permanent failure recorded on
// the ticket, the hourly per-sender count, and `retry`.

#include "store/outbox.h"

#include <gtest/gtest.h>

#include "store/database.h"
#include "store/tickets.h"

namespace ticketd::store {
namespace {

class OutboxTest : public ::testing::Test {
protected:
    Database db{":memory:"};
    std::int64_t now = 1'000'000;
    Outbox outbox{db};

    void SetUp() override { db.set_clock([this] { return now; }); }

    std::int64_t ticket() {
        NewTicket n;
        n.token = "0123456789";
        n.subject = "s";
        n.created_at = now;
        return Tickets(db).create(n).id;
    }

    OutboxMail mail(std::optional<std::int64_t> t, const std::string& id, const std::string& auto_to = "") {
        OutboxMail m;
        m.ticket = t;
        m.kind = "acknowledgement";
        m.mail_from = "support@example.com";
        m.recipients = {"ann@example.org"};
        m.auto_to = auto_to;
        m.message_id = id;
        m.raw = std::string("Subject: x\r\n\r\nbody\0with nul\r\n", 30);
        return m;
    }
};

TEST_F(OutboxTest, EnqueuedRowsAreDueAtOnceOldestFirst) {
    auto t = ticket();
    auto a = outbox.enqueue(mail(t, "a@x"));
    now += 5;
    auto b = outbox.enqueue(mail(t, "b@x"));
    auto due = outbox.due(now);
    ASSERT_EQ(due.size(), 2u);
    EXPECT_EQ(due[0].id, a);
    EXPECT_EQ(due[1].id, b);
    EXPECT_EQ(due[0].raw, std::string("Subject: x\r\n\r\nbody\0with nul\r\n", 30));  // bytes, not text
    EXPECT_EQ(due[0].recipients, std::vector<std::string>{"ann@example.org"});
    EXPECT_EQ(due[0].state, OutboxState::queued);
    EXPECT_EQ(outbox.next_due_at(), now - 5);
}

TEST_F(OutboxTest, MessageIdIsUnique) {
    outbox.enqueue(mail(std::nullopt, "same@x"));
    EXPECT_THROW(outbox.enqueue(mail(std::nullopt, "same@x")), Error);
}

TEST_F(OutboxTest, RetryLaterMovesTheRowOutOfTheDueSet) {
    auto id = outbox.enqueue(mail(std::nullopt, "a@x"));
    outbox.retry_later(id, "451 try later", now + 60);
    EXPECT_TRUE(outbox.due(now).empty());
    EXPECT_EQ(outbox.next_due_at(), now + 60);
    auto m = outbox.get(id);
    EXPECT_EQ(m->attempts, 1);
    EXPECT_EQ(m->last_error, "451 try later");
    EXPECT_EQ(outbox.due(now + 60).size(), 1u);
}

TEST_F(OutboxTest, SentRowsAreNeverDueAgain) {
    auto id = outbox.enqueue(mail(std::nullopt, "a@x"));
    outbox.mark_sent(id, now + 1);
    EXPECT_TRUE(outbox.due(now + 100000).empty());
    EXPECT_FALSE(outbox.next_due_at());
    EXPECT_EQ(outbox.get(id)->sent_at, now + 1);
    EXPECT_FALSE(outbox.retry_now(id, now));  // sent is final
}

std::int64_t synchronous(Database& db) {
    auto st = db.prepare("PRAGMA synchronous");
    EXPECT_TRUE(st.step());
    return st.int64(0);
}

TEST_F(OutboxTest, ASentMarkThatDoesNotWaitForTheDiskPutsTheLevelBack) {
    // The sender lowers synchronous for one `sent` commit at a time; the connection's other
    // writes (inbox rows before \Seen) must stay FULL, and a non-durable database stays OFF.
    ASSERT_EQ(synchronous(db), 2);
    auto a = outbox.enqueue(mail(std::nullopt, "a@x"));
    outbox.mark_sent(a, now + 1, false);
    EXPECT_EQ(outbox.get(a)->state, OutboxState::sent);
    EXPECT_EQ(synchronous(db), 2);
    {
        Transaction tx(db);  // inside a transaction the level is not touched at all
        auto b = outbox.enqueue(mail(std::nullopt, "b@x"));
        outbox.mark_sent(b, now + 1, false);
        tx.commit();
        EXPECT_EQ(outbox.get(b)->state, OutboxState::sent);
    }
    EXPECT_EQ(synchronous(db), 2);

    OpenOptions fast;
    fast.durable = false;
    Database off(":memory:", fast);
    Outbox other(off);
    auto c = other.enqueue(mail(std::nullopt, "c@x"));
    other.mark_sent(c, now, false);
    EXPECT_EQ(other.get(c)->state, OutboxState::sent);
    EXPECT_EQ(synchronous(off), 0);
}

TEST_F(OutboxTest, PermanentFailureIsAnEventOnTheTicketAndCanBeRetried) {
    auto t = ticket();
    auto id = outbox.enqueue(mail(t, "a@x"));
    outbox.mark_failed(id, "550 5.1.1 no such user", now);
    EXPECT_EQ(outbox.get(id)->state, OutboxState::failed);
    EXPECT_TRUE(outbox.due(now + 100000).empty());
    auto evs = Events(db).for_ticket(t);
    ASSERT_FALSE(evs.empty());
    EXPECT_EQ(evs.back().kind, "outbox.failed");
    EXPECT_NE(evs.back().detail.find("550 5.1.1 no such user"), std::string::npos);
    EXPECT_NE(evs.back().detail.find("ann@example.org"), std::string::npos);
    EXPECT_TRUE(outbox.retry_now(id, now + 10));
    EXPECT_EQ(outbox.due(now + 10).size(), 1u);
    EXPECT_FALSE(outbox.retry_now(9999, now));
}

TEST_F(OutboxTest, AutomaticMailsPerAddressAreCountedCaseInsensitively) {
    outbox.enqueue(mail(std::nullopt, "1@x", "ann@example.org"));
    now += 10;
    outbox.enqueue(mail(std::nullopt, "2@x", "Ann@Example.org"));
    outbox.enqueue(mail(std::nullopt, "3@x", ""));  // written by a person: not counted
    outbox.enqueue(mail(std::nullopt, "4@x", "bob@example.org"));
    EXPECT_EQ(outbox.automatic_to_since("ann@example.org", now - 3600), 2);
    EXPECT_EQ(outbox.automatic_to_since("ann@example.org", now - 5), 1);
    EXPECT_EQ(outbox.automatic_to_since("", 0), 0);
}

TEST_F(OutboxTest, AClockPutBackDoesNotStrandMailScheduledUnderTheWrongTime) {
    // Queued and deferred while the clock was a year ahead (a bad RTC before NTP).
    const std::int64_t real = now;
    now = real + 365 * 86400;
    auto id = outbox.enqueue(mail(std::nullopt, "late@x", "ann@example.org"));
    outbox.retry_later(id, "421 try later", now + 120);
    // The clock is put right: the row is due now, not in a year, and the timer says so.
    now = real;
    ASSERT_EQ(outbox.due(now).size(), 1u);
    EXPECT_EQ(outbox.next_due_at(), now);
    // An ordinary backoff is still respected.
    outbox.retry_later(id, "421 try later", now + retry_delay(7, 0.99));
    EXPECT_TRUE(outbox.due(now).empty());
    EXPECT_EQ(outbox.next_due_at(), now + retry_delay(7, 0.99));
    EXPECT_LE(retry_delay(100, 1.0), kMaxRetryDelay);
}

TEST_F(OutboxTest, MailStampedInTheFutureDoesNotCountTowardsTheHourlyLimit) {
    const std::int64_t real = now;
    now = real + 365 * 86400;
    outbox.enqueue(mail(std::nullopt, "f1@x", "ann@example.org"));
    outbox.enqueue(mail(std::nullopt, "f2@x", "ann@example.org"));
    now = real;
    outbox.enqueue(mail(std::nullopt, "n1@x", "ann@example.org"));
    EXPECT_EQ(outbox.automatic_to_since("ann@example.org", now - 3600), 1);
}

TEST_F(OutboxTest, ListNewestFirstByState) {
    auto a = outbox.enqueue(mail(std::nullopt, "a@x"));
    auto b = outbox.enqueue(mail(std::nullopt, "b@x"));
    outbox.mark_sent(a, now);
    auto all = outbox.list();
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(all[0].id, b);
    EXPECT_TRUE(all[0].raw.empty());
    EXPECT_EQ(outbox.list(OutboxState::sent).size(), 1u);
    EXPECT_EQ(outbox.count(OutboxState::queued), 1);
}

TEST(RetryDelay, DoublesFromAMinuteToAnHourWithJitter) {
    EXPECT_EQ(retry_delay(1, 0.5), 60);
    EXPECT_EQ(retry_delay(2, 0.5), 120);
    EXPECT_EQ(retry_delay(3, 0.5), 240);
    EXPECT_EQ(retry_delay(7, 0.5), 3600);
    EXPECT_EQ(retry_delay(50, 0.5), 3600);
    EXPECT_EQ(retry_delay(1, 0.0), 48);
    EXPECT_EQ(retry_delay(1, 0.999999), 71);
    EXPECT_EQ(retry_delay(0, 0.5), 60);
}

}  // namespace
}  // namespace ticketd::store
