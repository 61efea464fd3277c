// The acknowledgement hook: a new ticket's requester gets one mail, queued in the message's own
// transaction; automatic mail, lists, bounces, our own addresses and floods get none, and the
// ticket says why.

#include "tickets/acknowledge.h"

#include <gtest/gtest.h>

#include "tests/unit/tickets/acme_desk.h"

#include "config/rules_loader.h"
#include "config/templates.h"
#include "parsers/parse.h"
#include "store/database.h"
#include "store/outbox.h"
#include "store/tickets.h"
#include "tests/support/paths.h"
#include "tickets/ids.h"
#include "tickets/pipeline.h"

namespace ticketd::tickets {
namespace {

class AckTest : public testing::AcmeDesk {
protected:
    AckTest() : AcmeDesk({"support@acme.example", "help@acme.example"}) {}

    ProcessOutcome ingest(const std::string& raw) { return ingest_raw(db, cfg, "test", raw); }

    static std::string mail(const std::string& from, const std::string& extra = "",
                            const std::string& id = "m1@example.org", const std::string& subject = "Printer on fire") {
        return "From: " + from + "\r\nTo: support@acme.example\r\nSubject: " + subject +
               "\r\nMessage-ID: <" + id + ">\r\nDate: Tue, 01 Dec 2026 10:00:00 +0000\r\n" + extra +
               "\r\nIt is on fire.\r\n";
    }

};

TEST_F(AckTest, NewTicketQueuesOneAcknowledgementInTheSameTransaction) {
    auto out = ingest(mail("Zoë Müller <zoe@example.org>"));
    ASSERT_EQ(out.outcome, Outcome::created);
    store::Outbox outbox(db);
    auto due = outbox.due(now);
    ASSERT_EQ(due.size(), 1u);
    const auto& row = due[0];
    EXPECT_EQ(row.kind, "acknowledgement");
    EXPECT_EQ(row.recipients, std::vector<std::string>{"zoe@example.org"});
    EXPECT_EQ(row.auto_to, "zoe@example.org");
    EXPECT_EQ(row.mail_from, "support@acme.example");
    auto t = *store::Tickets(db).get(*out.ticket_id);
    EXPECT_EQ(row.message_id, make_message_id(t.number, t.token, 1, "tickets.acme.example"));

    auto parsed = std::get<parsers::Message>(parsers::parse(row.raw));
    const std::string tag = format_subject_tag("ACME", t.number, t.token);
    EXPECT_NE(parsed.subject.find(tag), std::string::npos) << parsed.subject;
    EXPECT_NE(parsed.body.find("#" + std::to_string(t.number)), std::string::npos);
    EXPECT_NE(parsed.body.find("Zoë Müller"), std::string::npos);
    ASSERT_EQ(parsed.to.size(), 1u);
    EXPECT_EQ(parsed.to[0].name, "Zoë Müller");
    EXPECT_EQ(parsed.in_reply_to, std::vector<std::string>{"m1@example.org"});
    EXPECT_EQ(parsed.header("Auto-Submitted")->value, "auto-replied");
    EXPECT_EQ(parsed.header("X-Auto-Response-Suppress")->value, "All");
    ASSERT_EQ(parsed.reply_to.size(), 1u);
    EXPECT_EQ(parsed.reply_to[0].address, "support@acme.example");
    EXPECT_FALSE(parsed.body_html.empty());

    // The copy on the ticket threads a reply to it; the trail says it was queued.
    EXPECT_EQ(store::Messages(db).ticket_for_message_id(row.message_id), t.id);
    EXPECT_EQ(events_of(t.id, "outbox.queued").size(), 1u);

    // The requester's reply to the acknowledgement joins the ticket and gets no second one.
    auto reply = ingest(mail("zoe@example.org", "In-Reply-To: <" + row.message_id + ">\r\n", "m2@example.org",
                             "Re: " + parsed.subject));
    EXPECT_EQ(reply.outcome, Outcome::appended);
    EXPECT_EQ(reply.ticket_id, t.id);
    EXPECT_EQ(outbox.due(now).size(), 1u);
}

TEST_F(AckTest, NoAcknowledgementToMachinesListsOrOurselves) {
    struct Case {
        std::string from, extra, why;
    };
    const std::vector<Case> cases = {
        {"ann@example.org", "Auto-Submitted: auto-replied\r\n", "automatic mail"},
        {"ann@example.org", "X-Auto-Response-Suppress: All\r\n", "X-Auto-Response-Suppress"},
        {"ann@example.org", "List-Id: <dev.lists.example.org>\r\nPrecedence: list\r\n", "automatic mail (list"},
        {"ann@example.org", "Return-Path: <>\r\n", ""},
        {"Help Desk <help@acme.example>", "", "one of our own addresses"},
        {"support+1001.0123456789@acme.example", "", "one of our own addresses"},
        {"noreply@shop.example", "", "machine address"},
    };
    int n = 0, explained = 0;
    for (const auto& c : cases) {
        auto out = ingest(mail(c.from, c.extra, "case" + std::to_string(++n) + "@example.org"));
        if (out.outcome != Outcome::created) continue;  // automatic mail may not even open a ticket
        auto ev = events_of(*out.ticket_id, "auto_reply.suppressed");
        ASSERT_EQ(ev.size(), 1u) << c.from << " " << c.extra;
        EXPECT_NE(ev[0].detail.find(c.why), std::string::npos) << ev[0].detail;
        ++explained;
    }
    EXPECT_GE(explained, 4);  // suppression-header, own addresses, machines open tickets silently
    EXPECT_TRUE(store::Outbox(db).list().empty());
}

TEST_F(AckTest, NoAcknowledgementToAnAgent) {
    cfg->agents.push_back({"dana@acme.example", "Dana", {"billing"}});
    auto out = ingest(mail("Dana <Dana@ACME.example>"));
    ASSERT_EQ(out.outcome, Outcome::created);
    auto ev = events_of(*out.ticket_id, "auto_reply.suppressed");
    ASSERT_EQ(ev.size(), 1u);
    EXPECT_NE(ev[0].detail.find("is an agent"), std::string::npos) << ev[0].detail;
    // Unverified mail in an agent's name warns the agents (issue 5), but is never acknowledged.
    for (const auto& row : store::Outbox(db).list()) EXPECT_NE(row.kind, "acknowledgement");
}

TEST_F(AckTest, NoAcknowledgementToAFromDomainOurTrustedServerSawFail) {
    // Spam in the name of a real person: DMARC failed at our own MX. Answering it is backscatter.
    cfg->trusted_authserv_ids = {"mx.acme.example"};
    auto out = ingest(mail("victim@bank.example",
                           "Authentication-Results: mx.acme.example; dmarc=fail header.from=bank.example;\r\n"
                           " spf=fail smtp.mailfrom=bank.example\r\n"));
    ASSERT_EQ(out.outcome, Outcome::created);  // kept and visible, only not answered
    auto ev = events_of(*out.ticket_id, "auto_reply.suppressed");
    ASSERT_EQ(ev.size(), 1u);
    EXPECT_NE(ev[0].detail.find("dmarc=fail"), std::string::npos) << ev[0].detail;
    EXPECT_NE(ev[0].detail.find("backscatter"), std::string::npos) << ev[0].detail;
    EXPECT_EQ(store::Outbox(db).count(store::OutboxState::queued), 0);

    // The same header from a server we do not trust, or a softfail, changes nothing.
    auto other = ingest(mail("ann@bank.example",
                             "Authentication-Results: mx.elsewhere.example; dmarc=fail header.from=bank.example\r\n",
                             "m2@example.org", "Another"));
    EXPECT_TRUE(events_of(*other.ticket_id, "auto_reply.suppressed").empty());
    auto soft = ingest(mail("bob@bank.example",
                            "Authentication-Results: mx.acme.example; spf=softfail smtp.mailfrom=bank.example\r\n",
                            "m3@example.org", "Third"));
    EXPECT_TRUE(events_of(*soft.ticket_id, "auto_reply.suppressed").empty());
    EXPECT_EQ(store::Outbox(db).count(store::OutboxState::queued), 2);
}

TEST_F(AckTest, AtMostNPerSenderPerHour) {
    cfg->auto_reply.max_per_sender_per_hour = 2;
    for (int i = 0; i < 4; ++i)
        ingest(mail("flood@example.org", "", "f" + std::to_string(i) + "@example.org", "Issue " + std::to_string(i)));
    EXPECT_EQ(store::Outbox(db).count(store::OutboxState::queued), 2);
    now += 3601;  // an hour later the sender may hear from us again
    auto out = ingest(mail("flood@example.org", "", "f9@example.org", "Issue 9"));
    EXPECT_EQ(store::Outbox(db).count(store::OutboxState::queued), 3);
    EXPECT_TRUE(events_of(*out.ticket_id, "auto_reply.suppressed").empty());
}

TEST_F(AckTest, RulesCanSayNoOrChooseTheTemplateButNeverAnswerMachines) {
    std::vector<config::ConfigError> errors;
    config::load_rule_text(R"(rules:
  - name: No reply to partners
    when: { from: { domain: partner.example } }
    then: { auto_reply: false }
  - name: VIP template
    when: { from: { domain: vip.example } }
    then: { auto_reply: relayed_reply }
  - name: Answer everything
    when: { subject: { contains: ooo } }
    then: { auto_reply: acknowledgement }
)",
                           "rules.yaml", cfg->rules, errors);
    ASSERT_TRUE(errors.empty()) << errors[0].to_string();
    auto partner = ingest(mail("pat@partner.example", "", "p1@partner.example"));
    auto ev = events_of(*partner.ticket_id, "auto_reply.suppressed");
    ASSERT_EQ(ev.size(), 1u);
    EXPECT_NE(ev[0].detail.find("No reply to partners"), std::string::npos) << ev[0].detail;

    auto vip = ingest(mail("val@vip.example", "", "v1@vip.example"));
    auto rows = store::Outbox(db).for_ticket(*vip.ticket_id);
    ASSERT_EQ(rows.size(), 1u);
    auto parsed = std::get<parsers::Message>(parsers::parse(store::Outbox(db).get(rows[0].id)->raw));
    EXPECT_EQ(parsed.body.find("We have opened ticket"), std::string::npos);  // not the acknowledgement text

    auto machine = ingest(mail("ann@example.org", "X-Auto-Response-Suppress: OOF, AutoReply\r\n", "o1@example.org",
                               "ooo: away"));
    ASSERT_TRUE(machine.ticket_id);
    EXPECT_TRUE(store::Outbox(db).for_ticket(*machine.ticket_id).empty());
}

TEST_F(AckTest, NothingWithoutSmtpOrWhenDisabled) {
    cfg->auto_reply.enabled = false;
    ingest(mail("ann@example.org"));
    cfg->auto_reply.enabled = true;
    cfg->smtp.reset();
    ingest(mail("bob@example.org", "", "m2@example.org"));
    EXPECT_TRUE(store::Outbox(db).list().empty());
}

TEST_F(AckTest, OurOwnAcknowledgementComingBackIsRecordedNotAnswered) {
    // Two desks writing to each other: desk B's acknowledgement reaches desk A as new mail.
    auto first = ingest(mail("ann@example.org"));
    auto ack = store::Outbox(db).due(now)[0];
    std::string other_desk_ack =
        "From: Other Desk <support@other.example>\r\nTo: support@acme.example\r\n"
        "Subject: [OTHER #5 abcdef0123] Re: Printer on fire\r\nMessage-ID: <5.abcdef0123.r1@other.example>\r\n"
        "In-Reply-To: <nothing-we-know@example.org>\r\nAuto-Submitted: auto-replied\r\n"
        "X-Auto-Response-Suppress: All\r\n\r\nWe opened #5.\r\n";
    auto out = ingest(other_desk_ack);
    EXPECT_NE(out.outcome, Outcome::created);
    EXPECT_EQ(store::Outbox(db).list().size(), 1u);  // only the first acknowledgement
    (void)first;
    (void)ack;
}

}  // namespace
}  // namespace ticketd::tickets
