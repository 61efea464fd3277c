// Satisfaction ratings by email (CSAT, issue 9): the rating parser, and through the pipeline over
// an in-memory store: the request when an agent resolves a ticket, who never gets one, and the
// requester's answer recorded as a rating that does not reopen the ticket.

#include "tickets/csat.h"

#include <gtest/gtest.h>

#include "tests/unit/tickets/acme_desk.h"

#include "parsers/parse.h"
#include "store/database.h"
#include "store/outbox.h"
#include "store/ratings.h"
#include "store/tickets.h"
#include "tickets/ids.h"
#include "tickets/pipeline.h"

namespace ticketd::tickets {
namespace {

// ---- parse_rating: pure ----

struct Case {
    const char* text;
    int score;
    const char* word;
    const char* comment;
};

TEST(ParseRating, WordsNumbersStarsAndThumbs) {
    const Case cases[] = {
        {"good", 5, "good", ""},
        {"Good, thanks!", 5, "Good", "thanks!"},
        {"  GREAT\n\nYou fixed it fast.", 5, "GREAT", "You fixed it fast."},
        {"bad - nobody answered for a week", 1, "bad", "nobody answered for a week"},
        {"Very good: quick and friendly", 5, "Very good", "quick and friendly"},
        {"not bad", 4, "not bad", ""},
        {"ok", 3, "ok", ""},
        {"Okay.", 3, "Okay", ""},
        {"poor", 2, "poor", ""},
        {"terrible!!", 1, "terrible", ""},
        {"5", 5, "5", ""},
        {"1", 1, "1", ""},
        {"4.", 4, "4", ""},
        {"3\nthe second agent was better than the first", 3, "3", "the second agent was better than the first"},
        {"4/5", 4, "4/5", ""},
        {"4 / 5 - fine", 4, "4 / 5", "fine"},
        {"2 out of 5", 2, "2 out of 5", ""},
        {"5 stars", 5, "5 stars", ""},
        {"1 star, never again", 1, "1 star", "never again"},
        {"\xF0\x9F\x91\x8D", 5, "\xF0\x9F\x91\x8D", ""},
        {"\xF0\x9F\x91\x8E\xF0\x9F\x8F\xBD slow", 1, "\xF0\x9F\x91\x8E\xF0\x9F\x8F\xBD", "slow"},
        {"\xE2\xAD\x90\xE2\xAD\x90\xE2\xAD\x90", 3, "\xE2\xAD\x90\xE2\xAD\x90\xE2\xAD\x90", ""},
        {"\xE2\x98\x85 \xE2\x98\x85 \xE2\x98\x85 \xE2\x98\x85 great", 4, "\xE2\x98\x85 \xE2\x98\x85 \xE2\x98\x85 \xE2\x98\x85",
         "great"},
        {"\xC2\xA0good \xE2\x80\x94 thanks", 5, "good", "thanks"},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.text);
        auto r = parse_rating(c.text);
        ASSERT_TRUE(r);
        EXPECT_EQ(r->score, c.score);
        EXPECT_EQ(r->word, c.word);
        EXPECT_EQ(r->comment, c.comment);
    }
}

TEST(ParseRating, OrdinaryRepliesAreNotRatings) {
    for (const char* text : {"", "   \n ", "Thanks, but it is broken again.", "goodbye", "Goods were never delivered",
                             "1 more question: where is my invoice?", "3 printers are down now", "0", "6", "10/10",
                             "4/10", "2/3", "12", "5pm works for me", "okey dokey", "badly broken again",
                             "\xE2\xAD\x90\xE2\xAD\x90\xE2\xAD\x90\xE2\xAD\x90\xE2\xAD\x90\xE2\xAD\x90",
                             "Hello, good news", "Bad news, it broke again",
                             "Good morning, the printer is down again", "OK so it happened again",
                             "great job but the VPN is still down", "not bad at all"}) {
        SCOPED_TRACE(text);
        EXPECT_FALSE(parse_rating(text));
    }
}

TEST(ParseRating, LongCommentIsCutAtACharacterBoundary) {
    std::string text = "bad ";
    for (int i = 0; i < 1500; ++i) text += "\xC3\xA9";  // é, two bytes each
    auto r = parse_rating(text);
    ASSERT_TRUE(r);
    EXPECT_LE(r->comment.size(), 2000u);
    EXPECT_EQ(r->comment.size() % 2, 0u);
}

// ---- through the pipeline ----

class CsatTest : public testing::AcmeDesk {
protected:
    CsatTest() {
        cfg->agents = {{"alice@agents.example", "Alice Agent", {}}};
        cfg->trusted_authserv_ids = {"mx.acme.example"};
        cfg->csat.enabled = true;
    }

    ProcessOutcome ingest(const std::string& raw) { return ingest_raw(db, cfg, "test", raw); }

    static std::string mail(const std::string& from, const std::string& subject, const std::string& id,
                            const std::string& extra, const std::string& body) {
        return extra + "From: " + from + "\r\nTo: support@acme.example\r\nSubject: " + subject +
               "\r\nMessage-ID: <" + id + ">\r\nDate: Tue, 01 Dec 2026 10:00:00 +0000\r\n\r\n" + body;
    }
    std::string tag(const store::Ticket& t) const { return format_subject_tag("ACME", t.number, t.token); }

    store::Ticket open(const std::string& from = "Ann <ann@example.org>", const std::string& extra = "",
                       const std::string& id = "m1@example.org") {
        auto out = ingest(mail(from, "Printer on fire", id, extra, "It burns.\r\n"));
        EXPECT_EQ(out.outcome, Outcome::created);
        return *store::Tickets(db).get(*out.ticket_id);
    }
    ProcessOutcome agent_says(const store::Ticket& t, const std::string& id, const std::string& body) {
        now += 600;
        return ingest(mail("Alice Agent <alice@agents.example>", "Re: " + tag(t) + " Printer on fire", id,
                           "Authentication-Results: mx.acme.example; dkim=pass header.d=agents.example\r\n", body));
    }
    ProcessOutcome requester_says(const store::Ticket& t, const std::string& id, const std::string& body,
                                  const std::string& from = "Ann <ann@example.org>") {
        now += 600;
        std::string extra;
        if (auto reqs = store::Ratings(db).requests_for_ticket(t.id); !reqs.empty())
            extra = "In-Reply-To: <" + reqs.back().message_id + ">\r\n";
        return ingest(mail(from, "Re: " + tag(t) + " How did we do?", id, extra,
                           body + "\r\n\r\nOn Tue, ACME Support wrote:\r\n> How did we do?\r\n"));
    }
    std::vector<store::OutboxMail> rows(std::int64_t ticket, const std::string& kind) {
        std::vector<store::OutboxMail> out;
        for (auto& r : store::Outbox(db).for_ticket(ticket))
            if (r.kind == kind) out.push_back(*store::Outbox(db).get(r.id));
        return out;
    }
    store::Status status(std::int64_t ticket) { return store::Tickets(db).get(ticket)->status; }
};

TEST_F(CsatTest, ResolvingQueuesExactlyOneRequest) {
    auto t = open();
    agent_says(t, "a1@agents.example", "#status resolved\r\n\r\nUnplug it, Ann.\r\n");
    ASSERT_EQ(status(t.id), store::Status::resolved);
    auto req = rows(t.id, "csat_request");
    ASSERT_EQ(req.size(), 1u);
    EXPECT_EQ(req[0].recipients, std::vector<std::string>{"ann@example.org"});
    EXPECT_EQ(req[0].auto_to, "ann@example.org");
    auto m = std::get<parsers::Message>(parsers::parse(req[0].raw));
    EXPECT_NE(m.subject.find(tag(t)), std::string::npos);
    EXPECT_NE(m.body.find("good    or    bad"), std::string::npos);
    EXPECT_EQ(m.body.find("from 1 (poor)"), std::string::npos);
    EXPECT_EQ(m.header("Auto-Submitted")->value, "auto-generated");
    EXPECT_EQ(m.in_reply_to, std::vector<std::string>{"m1@example.org"});

    auto reqs = store::Ratings(db).requests_for_ticket(t.id);
    ASSERT_EQ(reqs.size(), 1u);
    EXPECT_EQ(reqs[0].agent, "alice@agents.example");
    EXPECT_EQ(reqs[0].message_id, req[0].message_id);
    EXPECT_EQ(reqs[0].outbox, req[0].id);
    EXPECT_EQ(events_of(t.id, "csat.requested").size(), 1u);

    // More agent mail on the resolved ticket: the same resolution, no second request.
    agent_says(t, "a2@agents.example", "#note checked the fuse too\r\n");
    agent_says(t, "a3@agents.example", "#status resolved\r\n\r\nStill resolved.\r\n");
    EXPECT_EQ(rows(t.id, "csat_request").size(), 1u);
}

TEST_F(CsatTest, OneToFiveScaleAsksForANumber) {
    cfg->csat.scale = config::CsatConfig::Scale::one_to_five;
    auto t = open();
    agent_says(t, "a1@agents.example", "#status resolved\r\n\r\nDone.\r\n");
    auto req = rows(t.id, "csat_request");
    ASSERT_EQ(req.size(), 1u);
    auto m = std::get<parsers::Message>(parsers::parse(req[0].raw));
    EXPECT_NE(m.body.find("from 1 (poor) to 5"), std::string::npos);
    EXPECT_EQ(m.body.find("good    or    bad"), std::string::npos);
}

TEST_F(CsatTest, NoRequestWhenDisabledOrWithoutSmtp) {
    cfg->csat.enabled = false;
    auto t = open();
    agent_says(t, "a1@agents.example", "#status resolved\r\n\r\nDone.\r\n");
    EXPECT_TRUE(rows(t.id, "csat_request").empty());
    EXPECT_TRUE(events_of(t.id, "csat.not_asked").empty());
}

TEST_F(CsatTest, AutomaticSendersListsAndMachinesGetNone) {
    struct Sender {
        std::string from, extra, why;
    };
    const Sender senders[] = {
        {"Ann <ann@example.org>", "Authentication-Results: mx.acme.example; dmarc=fail header.from=example.org\r\n",
         "did not authenticate"},
        {"Ann <ann@example.org>", "List-Id: <printers.lists.example.org>\r\n", "automatic mail (list"},
        {"Ann <ann@example.org>", "X-Auto-Response-Suppress: All\r\n", "X-Auto-Response-Suppress"},
    };
    int n = 0;
    for (const auto& s : senders) {
        SCOPED_TRACE(s.extra);
        auto t = open(s.from, s.extra, "m-" + std::to_string(++n) + "@example.org");
        agent_says(t, "a-" + std::to_string(t.number) + "@agents.example", "#status resolved\r\n\r\nDone.\r\n");
        EXPECT_EQ(status(t.id), store::Status::resolved);
        EXPECT_TRUE(rows(t.id, "csat_request").empty());
        EXPECT_TRUE(store::Ratings(db).requests_for_ticket(t.id).empty());
        auto why = events_of(t.id, "csat.not_asked");
        ASSERT_EQ(why.size(), 1u);
        EXPECT_NE(why[0].detail.find(s.why), std::string::npos) << why[0].detail;
    }
}

TEST_F(CsatTest, OnlyTheConfiguredQueues) {
    cfg->csat.queues = {"billing"};
    cfg->queues = {"billing"};
    auto t = open();
    agent_says(t, "a1@agents.example", "#status resolved\r\n\r\nDone.\r\n");
    EXPECT_TRUE(rows(t.id, "csat_request").empty());
    auto why = events_of(t.id, "csat.not_asked");
    ASSERT_EQ(why.size(), 1u);
    EXPECT_NE(why[0].detail.find("csat.queues"), std::string::npos);

    auto u = store::Tickets(db).get(t.id);
    store::Tickets(db).set_status(t.id, store::Status::open, now);
    agent_says(*u, "a2@agents.example", "#queue billing\r\n#status resolved\r\n\r\nDone.\r\n");
    EXPECT_EQ(rows(t.id, "csat_request").size(), 1u);
}

TEST_F(CsatTest, RatingReplyIsRecordedAndDoesNotReopen) {
    auto t = open();
    agent_says(t, "a1@agents.example", "#status resolved\r\n\r\nDone.\r\n");
    const auto outbox_before = store::Outbox(db).for_ticket(t.id).size();
    auto out = requester_says(t, "r1@example.org", "good, thanks");
    EXPECT_EQ(out.outcome, Outcome::rated);
    EXPECT_EQ(out.ticket_id, t.id);
    EXPECT_EQ(status(t.id), store::Status::resolved);
    auto ratings = store::Ratings(db).for_ticket(t.id);
    ASSERT_EQ(ratings.size(), 1u);
    EXPECT_EQ(ratings[0].score, 5);
    EXPECT_EQ(ratings[0].word, "good");
    EXPECT_EQ(ratings[0].comment, "thanks");
    EXPECT_EQ(ratings[0].message_id, "r1@example.org");
    EXPECT_TRUE(events_of(t.id, "ticket.reopened").empty());
    ASSERT_EQ(events_of(t.id, "csat.rated").size(), 1u);
    // No hook ran: no notification to the agents, no acknowledgement, nothing in the outbox.
    EXPECT_EQ(store::Outbox(db).for_ticket(t.id).size(), outbox_before);
}

TEST_F(CsatTest, ABadRatingIsPassedOnToTheAgentWhoResolved) {
    auto t = open();
    agent_says(t, "a1@agents.example", "#status resolved\r\n\r\nDone.\r\n");
    auto out = requester_says(t, "r1@example.org", "bad - it took a week");
    EXPECT_EQ(out.outcome, Outcome::rated);
    auto told = rows(t.id, "csat_bad_rating");
    ASSERT_EQ(told.size(), 1u);
    EXPECT_EQ(told[0].recipients, std::vector<std::string>{"alice@agents.example"});
    auto m = std::get<parsers::Message>(parsers::parse(told[0].raw));
    EXPECT_NE(m.body.find("bad - it took a week"), std::string::npos) << m.body;
    EXPECT_EQ(m.in_reply_to, std::vector<std::string>{"r1@example.org"});
    EXPECT_EQ(status(t.id), store::Status::resolved);
    // A middling one is not passed on.
    requester_says(t, "r2@example.org", "3");
    EXPECT_EQ(rows(t.id, "csat_bad_rating").size(), 1u);
}

TEST_F(CsatTest, ReplyThatIsNotARatingReopensAsToday) {
    auto t = open();
    agent_says(t, "a1@agents.example", "#status resolved\r\n\r\nDone.\r\n");
    auto out = requester_says(t, "r1@example.org", "It is burning again!");
    EXPECT_EQ(out.outcome, Outcome::reopened);
    EXPECT_EQ(status(t.id), store::Status::open);
    EXPECT_TRUE(store::Ratings(db).for_ticket(t.id).empty());
    // Reopened: a later "good" is an ordinary reply, there is no request for an open ticket.
    auto again = requester_says(t, "r2@example.org", "good news, it works");
    EXPECT_EQ(again.outcome, Outcome::appended);
    EXPECT_TRUE(store::Ratings(db).for_ticket(t.id).empty());
}

TEST_F(CsatTest, ASecondRatingReplacesTheFirstAndBothAreOnTheTrail) {
    auto t = open();
    agent_says(t, "a1@agents.example", "#status resolved\r\n\r\nDone.\r\n");
    requester_says(t, "r1@example.org", "bad\r\nslow");
    auto out = requester_says(t, "r2@example.org", "4/5 - on second thought it was fine");
    EXPECT_EQ(out.outcome, Outcome::rated);
    auto ratings = store::Ratings(db).for_ticket(t.id);
    ASSERT_EQ(ratings.size(), 1u);
    EXPECT_EQ(ratings[0].score, 4);
    EXPECT_EQ(ratings[0].comment, "on second thought it was fine");
    auto trail = events_of(t.id, "csat.rated");
    ASSERT_EQ(trail.size(), 2u);
    EXPECT_NE(trail[1].detail.find("replaces the earlier rating 1/5"), std::string::npos);
    EXPECT_EQ(status(t.id), store::Status::resolved);
}

TEST_F(CsatTest, OnlyTheAskedAddressRates) {
    auto t = open();
    agent_says(t, "a1@agents.example", "#status resolved\r\n\r\nDone.\r\n");
    auto out = requester_says(t, "c1@example.org", "good", "Carl <carl@example.org>");
    EXPECT_NE(out.outcome, Outcome::rated);
    EXPECT_TRUE(store::Ratings(db).for_ticket(t.id).empty());
}

TEST_F(CsatTest, ReopenedAndResolvedAgainAsksOncePerMinInterval) {
    auto t = open();
    agent_says(t, "a1@agents.example", "#status resolved\r\n\r\nDone.\r\n");
    requester_says(t, "r1@example.org", "Not fixed.");
    ASSERT_EQ(status(t.id), store::Status::open);
    agent_says(t, "a2@agents.example", "#status resolved\r\n\r\nNow it is.\r\n");
    EXPECT_EQ(rows(t.id, "csat_request").size(), 1u);
    auto why = events_of(t.id, "csat.not_asked");
    ASSERT_EQ(why.size(), 1u);
    EXPECT_NE(why[0].detail.find("csat.min_interval"), std::string::npos);

    now += 8 * 24 * 3600;
    requester_says(t, "r2@example.org", "Broken once more.");
    ASSERT_EQ(status(t.id), store::Status::open);
    agent_says(t, "a3@agents.example", "#status resolved\r\n\r\nReplaced the printer.\r\n");
    EXPECT_EQ(rows(t.id, "csat_request").size(), 2u);
    // The answer rates the newest resolution.
    auto out = requester_says(t, "r3@example.org", "5");
    EXPECT_EQ(out.outcome, Outcome::rated);
    auto reqs = store::Ratings(db).requests_for_ticket(t.id);
    ASSERT_EQ(store::Ratings(db).for_ticket(t.id).size(), 1u);
    EXPECT_EQ(store::Ratings(db).for_ticket(t.id)[0].request, reqs.back().id);
}

TEST_F(CsatTest, RulesThatResolveAskToo) {
    // Whatever sets `resolved` inside the pipeline: here the admins' rule, with no agent.
    auto t = open();
    store::Tickets(db).set_assignee(t.id, "alice@agents.example", now);
    now += 60;
    store::Ticket current = *store::Tickets(db).get(t.id);
    store::Tickets(db).set_status(t.id, store::Status::resolved, now);
    current = *store::Tickets(db).get(t.id);
    {
        store::Transaction tx(db);
        ask_for_rating(db, *cfg, current, "", std::nullopt, 0, now);
        tx.commit();
    }
    auto reqs = store::Ratings(db).requests_for_ticket(t.id);
    ASSERT_EQ(reqs.size(), 1u);
    EXPECT_EQ(reqs[0].agent, "alice@agents.example");  // the assignee when no agent resolved it
    EXPECT_EQ(rows(t.id, "csat_request").size(), 1u);
}

}  // namespace
}  // namespace ticketd::tickets
