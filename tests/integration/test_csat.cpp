// Satisfaction ratings by email (CSAT, issue 9) with the real binary, a real dovecot and an SMTP
// sink on 127.0.0.1: an agent resolves a ticket by mail -> the rating request reaches the sink
// once -> the requester answers "good, thanks" -> the rating is stored, the ticket stays
// resolved, and the report counts it.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <filesystem>

#include "store/database.h"
#include "store/ratings.h"
#include "store/tickets.h"
#include "tests/support/live_desk.h"
#include "tests/support/process.h"
#include "tickets/ids.h"

using namespace ticketd;
namespace support = ticketd::testing;

namespace {

class Csat : public support::LiveDesk {
protected:
    void SetUp() override {
        start({"", "agents:\n"
                   "  - {address: alice@agents.example, name: Alice Agent, queues: [hardware]}\n"
                   "trusted_authserv_ids: [mx.acme.example]\n"
                   "csat: {enabled: true, queues: [hardware]}\n"});
    }
};

TEST_F(Csat, ResolvedByAnAgentRatedByTheRequester) {
    imap_->deliver(
        "From: Zoe <zoe@customer.example>\r\nTo: ACME Support <support@acme.example>\r\n"
        "Subject: Printer on fire\r\nMessage-ID: <first@customer.example>\r\n"
        "Date: Tue, 01 Dec 2026 10:00:00 +0100\r\n\r\nIt burns.\r\n");
    run_once();
    auto notes = sent_to("alice@agents.example");
    ASSERT_EQ(notes.size(), 1u);

    // Alice puts the ticket in her queue and resolves it, from her mail client.
    imap_->deliver(
        "Authentication-Results: mx.acme.example; dkim=pass header.d=agents.example\r\n"
        "From: Alice Agent <alice@agents.example>\r\nTo: ACME Support <support@acme.example>\r\n"
        "Subject: Re: " + notes[0].subject + "\r\nMessage-ID: <a1@agents.example>\r\n"
        "In-Reply-To: <" + notes[0].message_id + ">\r\n\r\n"
        "#queue hardware\r\n#status resolved\r\n\r\nUnplug it and plug it in again, Zoe.\r\n");
    run_once();
    auto asked = sent_to("zoe@customer.example", "How did we do?");
    ASSERT_EQ(asked.size(), 1u);
    const auto& q = asked[0];
    EXPECT_EQ(header(q, "Auto-Submitted"), "auto-generated");
    EXPECT_NE(q.body.find("good    or    bad"), std::string::npos) << q.body;
    EXPECT_EQ(q.reply_to.at(0).address, "support@acme.example");

    // Nothing new: a further cycle sends no second request.
    run_once();
    EXPECT_EQ(sent_to("zoe@customer.example", "How did we do?").size(), 1u);

    // Zoe answers the request from her mail client.
    const std::size_t before = sink_->messages().size();
    imap_->deliver(
        "From: Zoe <zoe@customer.example>\r\nTo: ACME Support <support@acme.example>\r\n"
        "Subject: Re: " + q.subject + "\r\nMessage-ID: <rating@customer.example>\r\n"
        "In-Reply-To: <" + q.message_id + ">\r\nReferences: <" + q.message_id + ">\r\n"
        "Date: Wed, 02 Dec 2026 10:00:00 +0100\r\n\r\n"
        "good, thanks\r\n\r\nOn Tue, ACME Support wrote:\r\n> How did we do?\r\n");
    run_once();

    {
        store::Database db((dir_ / "desk.db").string());
        const auto t = *store::Tickets(db).by_number(1001);
        EXPECT_EQ(t.status, store::Status::resolved);
        const auto ratings = store::Ratings(db).for_ticket(t.id);
        ASSERT_EQ(ratings.size(), 1u);
        EXPECT_EQ(ratings[0].score, 5);
        EXPECT_EQ(ratings[0].word, "good");
        EXPECT_EQ(ratings[0].comment, "thanks");
        EXPECT_EQ(ratings[0].message_id, "rating@customer.example");
        const auto reqs = store::Ratings(db).requests_for_ticket(t.id);
        ASSERT_EQ(reqs.size(), 1u);
        EXPECT_EQ(reqs[0].agent, "alice@agents.example");
        EXPECT_EQ(reqs[0].queue, "hardware");
    }
    // No notification of the rating to the agents, no acknowledgement: nothing was sent.
    EXPECT_EQ(sink_->messages().size(), before);

    // On the trail, and in the report.
    auto show = ticketd({"tickets", "show", "1001"});
    ASSERT_EQ(show.exit_code, 0) << show.err;
    EXPECT_NE(show.out.find("csat.rated"), std::string::npos) << show.out;
    auto report = ticketd({"report", "--since", "2000-01-01", "--until", "2100-01-01", "--by", "month",
                           "--format", "json"});
    ASSERT_EQ(report.exit_code, 0) << report.err;
    const auto j = nlohmann::json::parse(report.out);
    EXPECT_EQ(j["total"]["csat_responses"], 1);
    EXPECT_EQ(j["total"]["csat_score"], 5.0);
    EXPECT_EQ(j["csat_by_agent"][0]["agent"], "alice@agents.example");
}

}  // namespace
