// Guessed tokens (issue 8): the pure verdict, and the pipeline counting wrong-token attempts per
// sender, reporting a guesser once per window and not acknowledging it, while its mail is filed.

#include "tickets/token_guessing.h"

#include <gtest/gtest.h>

#include "tests/unit/tickets/acme_desk.h"

#include "metrics/metrics.h"
#include "store/database.h"
#include "store/outbox.h"
#include "store/tickets.h"
#include "store/wrong_tokens.h"
#include "tickets/ids.h"
#include "tickets/pipeline.h"

namespace ticketd::tickets {
namespace {

config::SecurityConfig policy(int limit, std::chrono::seconds window = std::chrono::hours(24)) {
    config::SecurityConfig p;
    p.token_guessing_limit = limit;
    p.token_guessing_window = window;
    return p;
}

TEST(TokenGuessingVerdict, BelowTheLimitIsNothing) {
    auto v = judge_token_guessing(policy(5), 4, std::nullopt, 1000);
    EXPECT_FALSE(v.guessing);
    EXPECT_FALSE(v.report);
}

TEST(TokenGuessingVerdict, AtTheLimitIsReportedOncePerWindow) {
    const std::int64_t day = 24 * 3600;
    auto first = judge_token_guessing(policy(5), 5, std::nullopt, 10 * day);
    EXPECT_TRUE(first.guessing);
    EXPECT_TRUE(first.report);
    auto again = judge_token_guessing(policy(5), 9, 10 * day, 10 * day + day - 1);
    EXPECT_TRUE(again.guessing);
    EXPECT_FALSE(again.report) << "reported within the window already";
    auto next_window = judge_token_guessing(policy(5), 6, 10 * day, 11 * day);
    EXPECT_TRUE(next_window.report);
    auto clock_put_back = judge_token_guessing(policy(5), 5, 12 * day, 11 * day);
    EXPECT_TRUE(clock_put_back.report) << "a report stamped in the future is stale";
}

TEST(TokenGuessingVerdict, ALimitOfZeroTurnsItOff) {
    auto v = judge_token_guessing(policy(0), 1000, std::nullopt, 1000);
    EXPECT_FALSE(v.guessing);
    EXPECT_FALSE(v.report);
}

class TokenGuessing : public testing::AcmeDesk {
protected:
    TokenGuessing() {
        cfg->auto_reply.max_per_sender_per_hour = 1000;  // the hourly limit is not under test
        cfg->security = policy(3, std::chrono::hours(24));
    }

    ProcessOutcome ingest(const std::string& from, const std::string& subject) {
        now += 60;
        return ingest_raw(db, cfg, "test",
                          "From: " + from + "\r\nTo: support@acme.example\r\nSubject: " + subject +
                              "\r\nMessage-ID: <m" + std::to_string(++seq_) +
                              "@example.org>\r\nDate: Tue, 01 Dec 2026 10:00:00 +0000\r\n\r\nHello.\r\n");
    }

    /// Acknowledgements queued to `address`.
    int acks_to(const std::string& address) {
        auto st = db.prepare("SELECT count(*) FROM outbox WHERE kind = 'acknowledgement' AND auto_to = ?");
        st.bind_all(address);
        st.step();
        return static_cast<int>(st.int64(0));
    }

    int events_anywhere(const std::string& kind) {
        auto st = db.prepare("SELECT count(*) FROM events WHERE kind = ?");
        st.bind_all(kind);
        st.step();
        return static_cast<int>(st.int64(0));
    }

    /// A counter of the process's registry (the same family the daemon serves on /metrics).
    static double counter(const std::string& name, const std::vector<std::string>& label_names = {},
                          const metrics::LabelValues& labels = {}) {
        return metrics::registry().counter(name, "", label_names).with(labels).value();
    }

    int seq_ = 0;
};

TEST_F(TokenGuessing, AGuesserIsReportedOnceAndNotAcknowledgedButItsMailIsFiled) {
    auto victim = ingest("ann@customer.example", "Printer on fire");
    ASSERT_EQ(victim.outcome, Outcome::created);
    const auto victim_ticket = *store::Tickets(db).get(*victim.ticket_id);
    const std::string guess = "Re: [ACME #" + std::to_string(victim_ticket.number) + " 0000000000] hi";
    metrics::register_all();
    const double reported_before = counter("ticketd_token_guessing_total");
    const double suppressed_before =
        counter("ticketd_auto_replies_suppressed_total", {"reason"}, {"token_guessing"});

    // Below the limit: each guess is refused by threading, filed as a new ticket, acknowledged.
    for (int i = 0; i < 2; ++i) {
        auto out = ingest("Mallory <MALLORY@evil.example>", guess);
        EXPECT_EQ(out.outcome, Outcome::created);
        EXPECT_NE(out.ticket_id, victim.ticket_id);
    }
    EXPECT_EQ(acks_to("mallory@evil.example"), 2);
    EXPECT_EQ(events_anywhere("threading.token_guessing"), 0);

    // The third within the window: reported on its ticket, and no acknowledgement.
    auto third = ingest("mallory@evil.example", guess);
    ASSERT_EQ(third.outcome, Outcome::created);
    auto reported = events_of(*third.ticket_id, "threading.token_guessing");
    ASSERT_EQ(reported.size(), 1u);
    EXPECT_NE(reported[0].detail.find("mallory@evil.example named tickets with a wrong token 3 times"),
              std::string::npos)
        << reported[0].detail;
    EXPECT_EQ(acks_to("mallory@evil.example"), 2);
    auto suppressed = events_of(*third.ticket_id, "auto_reply.suppressed");
    ASSERT_EQ(suppressed.size(), 1u);
    EXPECT_NE(suppressed[0].detail.find("wrong token"), std::string::npos) << suppressed[0].detail;

    // More guesses: filed, not answered, not reported again within the window. Mail from them
    // without a guess is not answered either while it lasts.
    EXPECT_EQ(ingest("mallory@evil.example", guess).outcome, Outcome::created);
    EXPECT_EQ(ingest("mallory@evil.example", "A new question").outcome, Outcome::created);
    EXPECT_EQ(acks_to("mallory@evil.example"), 2);
    EXPECT_EQ(events_anywhere("threading.token_guessing"), 1);
    EXPECT_EQ(counter("ticketd_token_guessing_total") - reported_before, 1);
    EXPECT_EQ(counter("ticketd_auto_replies_suppressed_total", {"reason"}, {"token_guessing"}) - suppressed_before, 3);

    // Nobody else is affected, and nothing reached the victim's ticket.
    EXPECT_EQ(ingest("bob@customer.example", "Another problem").outcome, Outcome::created);
    EXPECT_EQ(acks_to("bob@customer.example"), 1);
    EXPECT_EQ(store::Messages(db).for_ticket(victim_ticket.id).size(), 2u);  // ann's mail and its ack
    EXPECT_EQ(store::WrongTokens(db).attempts_since("mallory@evil.example", 0), 4);

    // A window later the old attempts have aged out: answered again.
    now += 24 * 3600;
    EXPECT_EQ(ingest("mallory@evil.example", guess).outcome, Outcome::created);
    EXPECT_EQ(acks_to("mallory@evil.example"), 3);
}

TEST_F(TokenGuessing, ATagWithoutTokenOrTheRightTokenIsNoGuess) {
    auto victim = ingest("ann@customer.example", "Printer on fire");
    const auto t = *store::Tickets(db).get(*victim.ticket_id);
    for (int i = 0; i < 5; ++i) ingest("carol@other.example", "[ACME #" + std::to_string(t.number) + "] hello");
    EXPECT_EQ(store::WrongTokens(db).attempts_since("carol@other.example", 0), 0);
    EXPECT_EQ(acks_to("carol@other.example"), 5);
    auto right = ingest("dave@other.example", "Re: " + format_subject_tag("ACME", t.number, t.token) + " hi");
    EXPECT_EQ(right.ticket_id, victim.ticket_id);
    EXPECT_EQ(store::WrongTokens(db).attempts_since("dave@other.example", 0), 0);
}

TEST_F(TokenGuessing, ALimitOfZeroCountsNothing) {
    cfg->security.token_guessing_limit = 0;
    auto victim = ingest("ann@customer.example", "Printer on fire");
    const auto t = *store::Tickets(db).get(*victim.ticket_id);
    for (int i = 0; i < 5; ++i) ingest("mallory@evil.example", "[ACME #" + std::to_string(t.number) + " 0000000000] x");
    EXPECT_EQ(store::WrongTokens(db).attempts_since("mallory@evil.example", 0), 0);
    EXPECT_EQ(acks_to("mallory@evil.example"), 5);
}

}  // namespace
}  // namespace ticketd::tickets
