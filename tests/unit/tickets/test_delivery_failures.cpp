// Bounces of our own mail: matched to the outbox row they report on, recorded on the ticket as a
// delivery failure (or delay), never a new ticket and never answered.

#include "tickets/delivery_failures.h"

#include <gtest/gtest.h>

#include "tests/unit/tickets/acme_desk.h"

#include <set>

#include "config/templates.h"
#include "parsers/parse.h"
#include "store/bounces.h"
#include "store/database.h"
#include "store/outbox.h"
#include "store/tickets.h"
#include "tests/support/paths.h"
#include "tickets/ids.h"
#include "tickets/pipeline.h"

namespace ticketd::tickets {
namespace {

store::SentMail sent(std::int64_t id, std::string mid, std::vector<std::string> rcpt) {
    store::SentMail m;
    m.id = id;
    m.kind = "relay";
    m.message_id = std::move(mid);
    m.recipients = std::move(rcpt);
    return m;
}

TEST(MatchBounce, OriginalMessageIdWinsAndKeepsOnlyRecipientsOfThatMail) {
    parsers::BounceInfo b;
    b.original_message_id = "7.abc.r2@tickets.example";
    b.failed_recipients = {"rfc822; Ann@Example.org", "someone@else.example"};
    const auto m = match_bounce(b, sent(4, b.original_message_id, {"ann@example.org", "bob@example.org"}),
                                {sent(9, "other@x", {"ann@example.org"})});
    ASSERT_TRUE(m);
    EXPECT_EQ(m->mail.id, 4);
    EXPECT_EQ(m->how, "Message-ID");
    EXPECT_EQ(m->recipients, std::vector<std::string>{"ann@example.org"});
}

TEST(MatchBounce, ByMessageIdWithoutRecipientsReportsOnTheMailsRecipients) {
    parsers::BounceInfo b;
    b.original_message_id = "m@x";
    const auto m = match_bounce(b, sent(4, "m@x", {"<Ann@Example.org>"}), {});
    ASSERT_TRUE(m);
    EXPECT_EQ(m->recipients, std::vector<std::string>{"ann@example.org"});
}

TEST(MatchBounce, WithoutTheOriginalTheNewestMailToAFailedRecipient) {
    parsers::BounceInfo b;
    b.failed_recipients = {"bob@example.org"};
    const auto m = match_bounce(b, std::nullopt,
                                {sent(9, "n@x", {"ann@example.org"}), sent(8, "o@x", {"bob@example.org"}),
                                 sent(3, "p@x", {"bob@example.org"})});
    ASSERT_TRUE(m);
    EXPECT_EQ(m->mail.id, 8);
    EXPECT_EQ(m->how, "failed recipient");
}

TEST(MatchBounce, NothingMatchesAStrangersBounce) {
    parsers::BounceInfo b;
    b.failed_recipients = {"eve@example.net"};
    EXPECT_FALSE(match_bounce(b, std::nullopt, {sent(9, "n@x", {"ann@example.org"})}));
    EXPECT_FALSE(match_bounce(parsers::BounceInfo{}, std::nullopt, {sent(9, "n@x", {"ann@example.org"})}));
}

class DeliveryFailureTest : public testing::AcmeDesk {
protected:

    ProcessOutcome ingest(const std::string& raw) { return ingest_raw(db, cfg, "test", raw); }

    // A requester's mail: a ticket and its acknowledgement, which the relay then took.
    store::OutboxMail open_ticket_and_send_ack() {
        const auto out = ingest(
            "From: Ann <ann@example.org>\r\nTo: support@acme.example\r\nSubject: Printer on fire\r\n"
            "Message-ID: <m1@example.org>\r\nDate: Tue, 01 Dec 2026 10:00:00 +0000\r\n\r\nHelp.\r\n");
        EXPECT_EQ(out.outcome, Outcome::created);
        store::Outbox outbox(db);
        std::optional<store::OutboxMail> ack;
        for (const auto& r : outbox.for_ticket(*out.ticket_id))
            if (r.kind == "acknowledgement") ack = r;
        EXPECT_TRUE(ack);
        outbox.mark_sent(ack->id, now);
        return *outbox.get(ack->id);
    }

    std::vector<store::OutboxMail> outbox_of_kind(std::int64_t ticket, const std::string& kind) {
        std::vector<store::OutboxMail> out;
        for (const auto& r : store::Outbox(db).for_ticket(ticket))
            if (r.kind == kind) out.push_back(*store::Outbox(db).get(r.id));
        return out;
    }

    // An RFC 3464 delivery status notification about `original_id` to `rcpt`.
    static std::string dsn(const std::string& original_id, const std::string& rcpt,
                           const std::string& action = "failed", const std::string& status = "5.1.1",
                           const std::string& subject = "Undelivered Mail Returned to Sender") {
        std::string headers_part = "From: ACME Support <support@acme.example>\r\nTo: " + rcpt +
                                   "\r\nSubject: [ACME #1] Printer on fire\r\n";
        if (!original_id.empty()) headers_part += "Message-ID: <" + original_id + ">\r\n";
        return "From: MAILER-DAEMON@mx.example.org (Mail Delivery System)\r\n"
               "To: support@acme.example\r\nSubject: " + subject + "\r\n"
               "Message-ID: <dsn-" + action + "-" + status + "@mx.example.org>\r\n"
               "Date: Tue, 01 Dec 2026 10:05:00 +0000\r\nAuto-Submitted: auto-replied\r\n"
               "MIME-Version: 1.0\r\n"
               "Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\r\n"
               "--B\r\nContent-Type: text/plain\r\n\r\nI could not deliver your message.\r\n"
               "--B\r\nContent-Type: message/delivery-status\r\n\r\n"
               "Reporting-MTA: dns; mx.example.org\r\n\r\n"
               "Final-Recipient: rfc822; " + rcpt + "\r\nAction: " + action + "\r\nStatus: " + status +
               "\r\nDiagnostic-Code: smtp; 550 " + status + " no such mailbox\r\n\r\n"
               "--B\r\nContent-Type: text/rfc822-headers\r\n\r\n" + headers_part +
               "\r\n--B--\r\n";
    }

};

TEST_F(DeliveryFailureTest, ABounceOfTheAcknowledgementIsRecordedOnItsOutboxRow) {
    const auto ack = open_ticket_and_send_ack();
    now += 300;
    const auto out = ingest(dsn(ack.message_id, "ann@example.org"));
    ASSERT_TRUE(out.ticket_id) << out.detail;
    EXPECT_EQ(*out.ticket_id, *ack.ticket);
    EXPECT_EQ(out.outcome, Outcome::appended);

    const auto failures = store::Bounces(db).for_outbox(ack.id);
    ASSERT_EQ(failures.size(), 1u);
    EXPECT_EQ(failures[0].recipient, "ann@example.org");
    EXPECT_EQ(failures[0].status, "5.1.1");
    EXPECT_TRUE(failures[0].permanent);
    EXPECT_EQ(failures[0].message, out.message);
    EXPECT_EQ(store::Bounces(db).count_bounced_outbox(), 1);

    const auto ev = events_of(*ack.ticket, "delivery.failed");
    ASSERT_EQ(ev.size(), 1u);
    EXPECT_NE(ev[0].detail.find("acknowledgement <" + ack.message_id + ">"), std::string::npos) << ev[0].detail;
    EXPECT_NE(ev[0].detail.find("matched by Message-ID"), std::string::npos) << ev[0].detail;
    // Never answered, never a second ticket; without agents nobody else is told.
    EXPECT_EQ(store::Outbox(db).for_ticket(*ack.ticket).size(), 1u);
    EXPECT_EQ(store::Tickets(db).list({}).size(), 1u);
}

TEST_F(DeliveryFailureTest, ADelayWarningIsRecordedAsDelayedNotFailed) {
    const auto ack = open_ticket_and_send_ack();
    const auto out = ingest(dsn(ack.message_id, "ann@example.org", "delayed", "4.4.7",
                                "Delayed Mail (still being retried)"));
    ASSERT_TRUE(out.ticket_id) << out.detail;
    const auto failures = store::Bounces(db).for_outbox(ack.id);
    ASSERT_EQ(failures.size(), 1u);
    EXPECT_FALSE(failures[0].permanent);
    EXPECT_EQ(events_of(*ack.ticket, "delivery.delayed").size(), 1u);
    EXPECT_TRUE(events_of(*ack.ticket, "delivery.failed").empty());
    EXPECT_EQ(store::Bounces(db).count_bounced_outbox(), 0);
}

TEST_F(DeliveryFailureTest, ABounceOfSomeoneElsesMailOnTheTicketIsNotPinnedOnOurs) {
    const auto ack = open_ticket_and_send_ack();
    store::Ticket t = *store::Tickets(db).get(*ack.ticket);
    // Threads by the tag in its subject, but reports on mail we never sent, to an address we
    // never wrote to.
    const std::string tag = format_subject_tag("ACME", t.number, t.token);
    const auto out = ingest(dsn("not-ours@elsewhere.example", "carol@example.net", "failed", "5.1.1",
                                "Undeliverable: " + tag + " Printer on fire"));
    ASSERT_TRUE(out.ticket_id) << out.detail;
    EXPECT_TRUE(store::Bounces(db).for_ticket(*ack.ticket).empty());
    EXPECT_EQ(events_of(*ack.ticket, "delivery.unmatched").size(), 1u);
}

TEST_F(DeliveryFailureTest, TheAgentsAreToldWhenTheRequesterDidNotGetOurMail) {
    cfg->agents = {{"alice@acme.example", "Alice Agent", {}}};
    const auto ack = open_ticket_and_send_ack();
    ASSERT_EQ(outbox_of_kind(*ack.ticket, "notification").size(), 1u);  // the new ticket itself
    ingest(dsn(ack.message_id, "ann@example.org"));
    const auto told = outbox_of_kind(*ack.ticket, "delivery_failure");
    ASSERT_EQ(told.size(), 1u);
    EXPECT_EQ(told[0].recipients, std::vector<std::string>{"alice@acme.example"});
    EXPECT_EQ(told[0].auto_to, "");
    const auto parsed = parsers::parse(told[0].raw);
    ASSERT_TRUE(std::holds_alternative<parsers::Message>(parsed));
    const auto& m = std::get<parsers::Message>(parsed);
    EXPECT_EQ(m.in_reply_to, std::vector<std::string>{ack.message_id});
    EXPECT_NE(m.subject.find("Not delivered to ann@example.org"), std::string::npos) << m.subject;
    EXPECT_NE(m.body.find("5.1.1"), std::string::npos) << m.body;
    EXPECT_NE(m.body.find("acknowledgement"), std::string::npos) << m.body;
    // Its Message-ID is the ticket's next one, never one already used.
    std::set<std::string> ids;
    for (const auto& r : store::Outbox(db).for_ticket(*ack.ticket)) EXPECT_TRUE(ids.insert(r.message_id).second);
}

TEST_F(DeliveryFailureTest, NeitherADelayNorABounceOfMailToAnAgentIsReportedToAgents) {
    cfg->agents = {{"alice@acme.example", "Alice Agent", {}}};
    const auto ack = open_ticket_and_send_ack();
    ingest(dsn(ack.message_id, "ann@example.org", "delayed", "4.4.7", "Delayed Mail (still being retried)"));
    // Alice's own notification bounces (a typo in agents:): recorded, not reported to agents.
    const auto note = outbox_of_kind(*ack.ticket, "notification").at(0);
    store::Outbox(db).mark_sent(note.id, now);
    ingest(dsn(note.message_id, "alice@acme.example"));
    EXPECT_EQ(store::Bounces(db).for_outbox(note.id).size(), 1u);
    EXPECT_TRUE(outbox_of_kind(*ack.ticket, "delivery_failure").empty());
}

}  // namespace
}  // namespace ticketd::tickets
