// Agents working by mail (issue 5) with the real binary, a real dovecot and an SMTP sink on
// 127.0.0.1: a whole conversation (requester -> ticket, acknowledgement, agent notified -> the
// agent's reply through IMAP with a trusted Authentication-Results -> relayed, header by header
// -> the requester's answer threads), a spoofed agent, a guessed ticket number, two desks.

#include <gtest/gtest.h>

#include <filesystem>

#include "parsers/parse.h"
#include "store/database.h"
#include "store/outbox.h"
#include "store/tickets.h"
#include "tests/support/live_desk.h"
#include "tests/support/dovecot.h"
#include "tests/support/paths.h"
#include "tests/support/process.h"
#include "tests/support/smtp_sink.h"
#include "tickets/ids.h"

namespace fs = std::filesystem;
using namespace ticketd;
namespace support = ticketd::testing;
using support::DovecotServer;
using support::SmtpSink;
using support::TempDir;
using support::write_file;

namespace {

class Agents : public support::LiveDesk {
protected:
    void SetUp() override {
        start({"", "agents:\n"
                   "  - {address: alice@agents.example, name: Alice Agent, queues: [hardware]}\n"
                   "trusted_authserv_ids: [mx.acme.example]\n"});
    }

    void requester_writes() {
        imap_->deliver(
            "From: =?UTF-8?Q?Zo=C3=AB_M=C3=BCller?= <zoe@customer.example>\r\n"
            "To: ACME Support <support@acme.example>\r\nCc: Carl <carl@customer.example>\r\n"
            "Subject: Printer on fire\r\nMessage-ID: <first@customer.example>\r\n"
            "Date: Tue, 01 Dec 2026 10:00:00 +0100\r\n\r\nIt burns.\r\n");
    }

    store::Ticket ticket(std::int64_t number) {
        store::Database db((dir_ / "desk.db").string());
        return *store::Tickets(db).by_number(number);
    }
    std::vector<std::string> event_kinds(std::int64_t number) {
        store::Database db((dir_ / "desk.db").string());
        std::vector<std::string> out;
        for (const auto& e : store::Events(db).for_ticket(store::Tickets(db).by_number(number)->id))
            out.push_back(e.kind);
        return out;
    }
    static bool has(const std::vector<std::string>& v, const std::string& s) {
        return std::find(v.begin(), v.end(), s) != v.end();
    }
};

TEST_F(Agents, AWholeConversation) {
    requester_writes();
    run_once();
    auto t = ticket(1001);
    const std::string tag = tickets::format_subject_tag("ACME", t.number, t.token);
    ASSERT_EQ(sent_to("zoe@customer.example").size(), 1u);  // the acknowledgement
    auto notes = sent_to("alice@agents.example");
    ASSERT_EQ(notes.size(), 1u);
    const auto& n = notes[0];
    EXPECT_NE(n.subject.find(tag), std::string::npos) << n.subject;
    EXPECT_NE(n.body.find("It burns."), std::string::npos);
    EXPECT_EQ(n.reply_to.at(0).address, "support@acme.example");

    // Alice answers from her mail client; our MX vouches for her domain at the top.
    const std::size_t before = sink_->messages().size();
    imap_->deliver(
        "Authentication-Results: mx.acme.example; dkim=pass header.d=agents.example; spf=pass "
        "smtp.mailfrom=alice@agents.example\r\n"
        "Received: from mail.agents.example by mx.acme.example\r\n"
        "From: Alice Agent <alice@agents.example>\r\nTo: ACME Support <support@acme.example>\r\n"
        "Subject: Re: " + n.subject + "\r\nMessage-ID: <a1@agents.example>\r\n"
        "In-Reply-To: <" + n.message_id + ">\r\nReferences: <first@customer.example> <" + n.message_id + ">\r\n"
        "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b1\r\n\r\n"
        "--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        "#status pending\r\n#tag +hardware\r\n\r\nHello Zoë, please unplug it.\r\n\r\n"
        "On Tue, ACME Support wrote:\r\n> It burns.\r\n"
        "--b1\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=steps.pdf\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--b1--\r\n");
    run_once();

    auto relayed = sent_to("zoe@customer.example", before);
    ASSERT_EQ(relayed.size(), 1u);
    const auto& r = relayed[0];
    ASSERT_EQ(r.from.size(), 1u);
    EXPECT_EQ(r.from[0].name, "Alice Agent");
    EXPECT_EQ(r.from[0].address, "support@acme.example");
    EXPECT_EQ(r.to.at(0).address, "zoe@customer.example");
    EXPECT_EQ(r.to.at(0).name, "Zoë Müller");
    ASSERT_EQ(r.cc.size(), 1u);
    EXPECT_EQ(r.cc[0].address, "carl@customer.example");
    EXPECT_NE(header(r, "X-RcptTo").find("carl@customer.example"), std::string::npos);
    EXPECT_EQ(r.reply_to.at(0).address, "support@acme.example");
    EXPECT_NE(r.subject.find(tag), std::string::npos) << r.subject;
    EXPECT_EQ(r.in_reply_to, std::vector<std::string>{"first@customer.example"});
    ASSERT_FALSE(r.references.empty());
    EXPECT_EQ(r.references.front(), "first@customer.example");
    auto id = tickets::parse_message_id(r.message_id);
    ASSERT_TRUE(id) << r.message_id;
    EXPECT_EQ(id->number, t.number);
    EXPECT_EQ(id->token, t.token);
    EXPECT_EQ(r.header("Auto-Submitted"), nullptr);  // a person's answer
    EXPECT_NE(r.body.find("please unplug it"), std::string::npos) << r.body;
    EXPECT_EQ(r.body.find("#status"), std::string::npos) << r.body;
    EXPECT_EQ(r.body.find("#tag"), std::string::npos) << r.body;
    EXPECT_EQ(r.body.find("It burns."), std::string::npos);  // the quoted notification stays home
    ASSERT_EQ(r.attachments.size(), 1u);
    EXPECT_EQ(r.attachments[0].filename, "steps.pdf");
    EXPECT_TRUE(sent_to("alice@agents.example", before).empty());  // no notification of her own reply

    t = ticket(1001);
    EXPECT_EQ(t.status, store::Status::pending);
    EXPECT_EQ(t.tags, std::vector<std::string>{"hardware"});
    auto kinds = event_kinds(1001);
    EXPECT_TRUE(has(kinds, "agent.verified"));
    EXPECT_TRUE(has(kinds, "agent.command"));
    EXPECT_TRUE(has(kinds, "ticket.first_response"));

    // Zoë answers the relayed mail: it threads, the ticket is open again, Alice hears of it.
    const std::size_t before2 = sink_->messages().size();
    imap_->deliver("From: zoe@customer.example\r\nTo: support@acme.example\r\nSubject: Re: " + r.subject +
                   "\r\nMessage-ID: <second@customer.example>\r\nIn-Reply-To: <" + r.message_id +
                   ">\r\n\r\nUnplugged, thanks.\r\n");
    run_once();
    EXPECT_EQ(ticket(1001).status, store::Status::open);
    auto again = sent_to("alice@agents.example", before2);
    ASSERT_EQ(again.size(), 1u);
    EXPECT_NE(again[0].body.find("Unplugged, thanks."), std::string::npos);
    EXPECT_TRUE(sent_to("zoe@customer.example", before2).empty());  // no second acknowledgement
    store::Database db((dir_ / "desk.db").string());
    EXPECT_EQ(store::Tickets(db).count(), 1);
}

TEST_F(Agents, ASpoofedAgentChangesNothing) {
    requester_writes();
    run_once();
    auto n = sent_to("alice@agents.example").at(0);
    const std::size_t before = sink_->messages().size();
    // No Authentication-Results; then one from a server we do not trust; then a forged "pass"
    // with our id below our own server's "fail".
    const std::vector<std::string> auths = {
        "",
        "Authentication-Results: mx.evil.example; dkim=pass header.d=agents.example\r\n",
        "Authentication-Results: mx.acme.example; dkim=fail header.d=agents.example; spf=fail "
        "smtp.mailfrom=agents.example\r\nReceived: from evil\r\n"
        "Authentication-Results: mx.acme.example; dkim=pass header.d=agents.example\r\n",
    };
    int i = 0;
    for (const auto& auth : auths)
        imap_->deliver(auth + "From: Alice Agent <alice@agents.example>\r\nTo: support@acme.example\r\n"
                       "Subject: Re: " + n.subject + "\r\nMessage-ID: <spoof" + std::to_string(++i) +
                       "@evil.example>\r\nIn-Reply-To: <" + n.message_id + ">\r\n\r\n#status closed\r\nDone.\r\n");
    run_once();
    EXPECT_EQ(ticket(1001).status, store::Status::open);
    EXPECT_TRUE(sent_to("zoe@customer.example", before).empty());  // nothing relayed
    EXPECT_FALSE(sent_to("alice@agents.example", before).empty());  // the agents are warned
    auto kinds = event_kinds(1001);
    EXPECT_EQ(std::count(kinds.begin(), kinds.end(), "agent.unverified"), 3);
    EXPECT_FALSE(has(kinds, "agent.command"));
}

TEST_F(Agents, AGuessedTicketNumberWithoutTheTokenIsNoAgentCommand) {
    requester_writes();
    run_once();
    const std::size_t before = sink_->messages().size();
    imap_->deliver(
        "Authentication-Results: mx.acme.example; dkim=pass header.d=agents.example\r\n"
        "From: Alice Agent <alice@agents.example>\r\nTo: support@acme.example\r\n"
        "Subject: [ACME #1001] close this\r\nMessage-ID: <guess@agents.example>\r\n\r\n#status closed\r\n");
    run_once();
    EXPECT_EQ(ticket(1001).status, store::Status::open);
    EXPECT_FALSE(has(event_kinds(1001), "agent.command"));
    EXPECT_TRUE(sent_to("zoe@customer.example", before).empty());
}

TEST_F(Agents, TwoDesksWritingToEachOtherStopAtOnce) {
    // Desk B (with its own agent) writes to desk A; A acknowledges and notifies its agent; B files
    // A's acknowledgement as automatic: no acknowledgement, no notification, nothing back.
    TempDir b;
    fs::copy(support::source_dir() / "config/templates", b.path() / "templates");
    write_file(b.path() / "ticketd.yaml",
               "desk: {name: Other Desk, addresses: [help@other.example], subject_tag: OTHER, database: b.db}\n"
               "smtp: {url: '" + sink_->url() + "', require_starttls: false}\n"
               "agents: [{address: olga@other.example, name: Olga}]\n");
    imap_->deliver("From: Other Desk <help@other.example>\r\nTo: support@acme.example\r\n"
                   "Subject: [OTHER #1001 abcdef0123] Your order\r\nMessage-ID: <1001.abcdef0123.r1@other.example>\r\n"
                   "Auto-Submitted: auto-replied\r\n\r\nWe opened a ticket for you.\r\n");
    imap_->deliver("From: Other Desk <help@other.example>\r\nTo: support@acme.example\r\n"
                   "Subject: Your order, by a person\r\nMessage-ID: <person@other.example>\r\n\r\nHello.\r\n");
    run_once();
    auto to_b = sent_to("help@other.example");
    ASSERT_EQ(to_b.size(), 1u);  // the person's mail got one acknowledgement; the automatic one none
    const std::size_t before = sink_->messages().size();
    auto all = sink_->messages();
    std::string ack;
    for (const auto& raw : all)
        if (parse(raw).header("X-RcptTo")->value.find("help@other.example") != std::string::npos) ack = raw;
    auto in_b = support::run_program(
        {support::ticketd_binary().string(), "ingest", "-", "--config", (b.path() / "ticketd.yaml").string()}, ack);
    ASSERT_EQ(in_b.exit_code, 0) << in_b.err;
    auto run_b = support::run_program(
        {support::ticketd_binary().string(), "run", "--once", "--config", (b.path() / "ticketd.yaml").string()});
    ASSERT_EQ(run_b.exit_code, 0) << run_b.err;
    EXPECT_EQ(sink_->messages().size(), before);  // B sent nothing: no acknowledgement, no notification
    run_once();
    EXPECT_EQ(sink_->messages().size(), before);
}

}  // namespace
