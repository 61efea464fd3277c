// Satisfaction ratings by email (CSAT, issue 9) with the real binary, a real dovecot and an SMTP
// sink on 127.0.0.1: an agent resolves a ticket by mail -> the rating request reaches the sink
// once -> the requester answers "good, thanks" -> the rating is stored, the ticket stays
// resolved, and the report counts it.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <filesystem>

#include "parsers/parse.h"
#include "store/database.h"
#include "store/ratings.h"
#include "store/tickets.h"
#include "tests/support/desk.h"
#include "tests/support/dovecot.h"
#include "tests/support/paths.h"
#include "tests/support/process.h"
#include "tests/support/smtp_sink.h"
#include "tickets/ids.h"

using namespace ticketd;
namespace support = ticketd::testing;
using support::DovecotServer;
using support::SmtpSink;
using support::TempDir;

namespace {

parsers::Message parse(const std::string& raw) {
    auto r = parsers::parse(raw);
    EXPECT_TRUE(std::holds_alternative<parsers::Message>(r));
    return std::get<parsers::Message>(r);
}

std::string header(const parsers::Message& m, const std::string& name) {
    auto* h = m.header(name);
    return h ? h->value : "";
}

class Csat : public ::testing::Test {
protected:
    void SetUp() override {
        if (!DovecotServer::available()) GTEST_SKIP() << DovecotServer::why_unavailable();
        if (!SmtpSink::available()) GTEST_SKIP() << SmtpSink::why_unavailable();
        imap_ = std::make_unique<DovecotServer>();
        sink_ = std::make_unique<SmtpSink>();
        support::write_desk(dir_.path(), imap_.get(), *sink_,
                            {"", "agents:\n"
                                 "  - {address: alice@agents.example, name: Alice Agent, queues: [hardware]}\n"
                                 "trusted_authserv_ids: [mx.acme.example]\n"
                                 "csat: {enabled: true, queues: [hardware]}\n"});
    }

    support::RunResult ticketd(std::vector<std::string> args) {
        args.insert(args.begin(), support::ticketd_binary().string());
        args.push_back("--config");
        args.push_back((dir_ / "ticketd.yaml").string());
        return support::run_program(args, "");
    }
    void run_once() {
        auto r = ticketd({"run", "--once"});
        ASSERT_EQ(r.exit_code, 0) << r.err;
    }
    /// What the sink received for one envelope recipient, and of which kind (by subject).
    std::vector<parsers::Message> sent_to(const std::string& rcpt, const std::string& subject_part = "") {
        std::vector<parsers::Message> out;
        for (const auto& raw : sink_->messages()) {
            auto m = parse(raw);
            if (header(m, "X-RcptTo").find(rcpt) != std::string::npos &&
                m.subject.find(subject_part) != std::string::npos)
                out.push_back(std::move(m));
        }
        return out;
    }

    TempDir dir_;
    std::unique_ptr<DovecotServer> imap_;
    std::unique_ptr<SmtpSink> sink_;
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
