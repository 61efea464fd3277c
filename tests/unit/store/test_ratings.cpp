#include "store/ratings.h"

#include <gtest/gtest.h>

#include "store/database.h"
#include "store/tickets.h"

namespace ticketd::store {
namespace {

class RatingsTest : public ::testing::Test {
protected:
    Database db{":memory:"};
    Ratings ratings{db};
    std::int64_t ticket = 0;

    void SetUp() override {
        NewTicket n;
        n.token = "0123456789";
        n.requester_address = "ann@example.org";
        n.created_at = 100;
        ticket = Tickets(db).create(n).id;
    }
    std::int64_t ask(std::int64_t resolved_at, std::int64_t asked_at) {
        CsatRequest r;
        r.ticket = ticket;
        r.resolved_at = resolved_at;
        r.recipient = "ann@example.org";
        r.agent = "bob@acme.example";
        r.queue = "support";
        r.asked_at = asked_at;
        return ratings.add_request(r);
    }
};

TEST_F(RatingsTest, OneRequestPerResolution) {
    const auto id = ask(200, 201);
    auto got = ratings.request_for(ticket, 200);
    ASSERT_TRUE(got);
    EXPECT_EQ(got->id, id);
    EXPECT_EQ(got->agent, "bob@acme.example");
    EXPECT_FALSE(ratings.request_for(ticket, 300));
    // The UNIQUE key refuses a second request for the same resolution.
    EXPECT_THROW(ask(200, 250), Error);
    ask(300, 301);
    EXPECT_EQ(ratings.last_request(ticket)->resolved_at, 300);
    EXPECT_EQ(ratings.requests_for_ticket(ticket).size(), 2u);
}

TEST_F(RatingsTest, ASecondRatingReplacesTheFirst) {
    const auto req = ask(200, 201);
    Rating r;
    r.request = req;
    r.ticket = ticket;
    r.score = 1;
    r.word = "bad";
    r.comment = "slow";
    r.rated_at = 300;
    EXPECT_FALSE(ratings.rate(r));
    r.score = 5;
    r.word = "good";
    r.comment = "sorted now";
    r.rated_at = 400;
    EXPECT_TRUE(ratings.rate(r));
    const auto all = ratings.for_ticket(ticket);
    ASSERT_EQ(all.size(), 1u);
    EXPECT_EQ(all[0].score, 5);
    EXPECT_EQ(all[0].word, "good");
    EXPECT_EQ(all[0].comment, "sorted now");
    EXPECT_EQ(all[0].rated_at, 400);
}

TEST_F(RatingsTest, ScoreOutsideOneToFiveIsRefused) {
    Rating r;
    r.request = ask(200, 201);
    r.ticket = ticket;
    r.score = 6;
    r.rated_at = 300;
    EXPECT_THROW(ratings.rate(r), Error);
}

}  // namespace
}  // namespace ticketd::store
