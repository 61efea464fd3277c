// Agents working by mail (issue 5), through the pipeline over an in-memory store: verification,
// commands, relays, notes, errors, unverified mail and notifications, all decided in the
// message's transaction.

#include "tickets/agents.h"

#include <gtest/gtest.h>

#include "tests/unit/tickets/acme_desk.h"

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

class AgentsTest : public testing::AcmeDesk {
protected:
    AgentsTest() {
        cfg->agents = {{"alice@agents.example", "Alice Agent", {"billing"}}, {"bob@agents.example", "Bob", {}}};
        cfg->trusted_authserv_ids = {"mx.acme.example"};
    }

    ProcessOutcome ingest(const std::string& raw, bool trusted = false) {
        return ingest_raw(db, cfg, "test", raw, trusted);
    }

    static std::string mail(const std::string& from, const std::string& subject, const std::string& id,
                            const std::string& extra, const std::string& body) {
        return extra + "From: " + from + "\r\nTo: support@acme.example\r\nSubject: " + subject +
               "\r\nMessage-ID: <" + id + ">\r\nDate: Tue, 01 Dec 2026 10:00:00 +0000\r\n\r\n" + body;
    }
    static std::string pass(const std::string& domain = "agents.example") {
        return "Authentication-Results: mx.acme.example; dkim=pass header.d=" + domain + "; spf=none\r\n";
    }

    /// A requester's ticket with a cc, and the notification Alice would answer.
    struct Opened {
        store::Ticket ticket;
        std::string notification_id;
    };
    Opened open_ticket() {
        auto out = ingest("Cc: Carl <carl@example.org>, Alice <alice@agents.example>\r\n" +
                          mail("Ann <ann@example.org>", "Printer on fire", "m1@example.org", "", "It burns.\r\n"));
        EXPECT_EQ(out.outcome, Outcome::created);
        Opened o{*store::Tickets(db).get(*out.ticket_id), ""};
        for (const auto& r : store::Outbox(db).for_ticket(o.ticket.id))
            if (r.kind == "notification" && r.recipients[0] == "alice@agents.example") o.notification_id = r.message_id;
        return o;
    }
    std::string reply_from_alice(const Opened& o, const std::string& id, const std::string& body,
                                 const std::string& auth) {
        return mail("Alice Agent <alice@agents.example>",
                    "Re: " + format_subject_tag("ACME", o.ticket.number, o.ticket.token) + " Printer on fire", id,
                    auth + "In-Reply-To: <" + o.notification_id + ">\r\n", body);
    }
    std::vector<store::OutboxMail> rows(std::int64_t ticket, const std::string& kind) {
        std::vector<store::OutboxMail> out;
        for (auto& r : store::Outbox(db).for_ticket(ticket))
            if (r.kind == kind) out.push_back(*store::Outbox(db).get(r.id));
        return out;
    }
    store::MessageRecord last_message(std::int64_t ticket) { return store::Messages(db).for_ticket(ticket).back(); }
};

TEST_F(AgentsTest, NewTicketNotifiesAllAgentsButAgentsDoNotJoinIt) {
    auto o = open_ticket();
    auto n = rows(o.ticket.id, "notification");
    ASSERT_EQ(n.size(), 2u);  // no assignee, no queue: every agent
    auto parsed = std::get<parsers::Message>(parsers::parse(n[0].raw));
    EXPECT_NE(parsed.subject.find(format_subject_tag("ACME", o.ticket.number, o.ticket.token)), std::string::npos);
    EXPECT_NE(parsed.body.find("It burns."), std::string::npos);
    EXPECT_EQ(parsed.in_reply_to, std::vector<std::string>{"m1@example.org"});
    EXPECT_EQ(parsed.header("Auto-Submitted")->value, "auto-generated");
    EXPECT_EQ(parsed.reply_to.at(0).address, "support@acme.example");
    for (const auto& p : store::Tickets(db).participants(o.ticket.id)) EXPECT_NE(p.address, "alice@agents.example");
    EXPECT_EQ(rows(o.ticket.id, "acknowledgement").size(), 1u);
}

TEST_F(AgentsTest, NotificationsGoToTheAssigneeElseTheQueue) {
    store::Ticket t;
    t.queue = "billing";
    EXPECT_EQ(agents_to_notify(*cfg, t), std::vector<std::string>{"alice@agents.example"});
    t.assignee = "bob@agents.example";
    EXPECT_EQ(agents_to_notify(*cfg, t), std::vector<std::string>{"bob@agents.example"});
    t.assignee = "gone@agents.example";
    t.queue = "nobody-serves-this";
    EXPECT_EQ(agents_to_notify(*cfg, t).size(), 2u);
    EXPECT_EQ(resolve_notify(*cfg, {"Bob", "billing", "boss@example.org", "bob@agents.example"}),
              (std::vector<std::string>{"bob@agents.example", "alice@agents.example", "boss@example.org"}));
}

TEST_F(AgentsTest, NoNotificationForAutomaticMail) {
    auto o = open_ticket();
    const auto before = store::Outbox(db).for_ticket(o.ticket.id).size();
    auto out = ingest(mail("ann@example.org", "Out of office: " + format_subject_tag("ACME", o.ticket.number, o.ticket.token),
                           "ooo@example.org", "Auto-Submitted: auto-replied\r\n", "Away.\r\n"));
    EXPECT_EQ(out.ticket_id, o.ticket.id);
    EXPECT_EQ(store::Outbox(db).for_ticket(o.ticket.id).size(), before);
    // A person's reply does notify.
    ingest(mail("ann@example.org", "Re: " + format_subject_tag("ACME", o.ticket.number, o.ticket.token), "m3@example.org",
                "", "Still burning.\r\n"));
    EXPECT_EQ(rows(o.ticket.id, "notification").size(), 4u);
}

TEST_F(AgentsTest, VerifiedReplyAppliesCommandsAndIsRelayedWithoutThem) {
    auto o = open_ticket();
    ASSERT_FALSE(o.notification_id.empty());
    now += 600;
    auto out = ingest(reply_from_alice(o, "a1@agents.example",
                                       "#status pending\r\n#priority high\r\n#tag +hardware\r\n#assign me\r\n\r\n"
                                       "Hello Ann, unplug it.\r\n",
                                       pass()));
    ASSERT_EQ(out.ticket_id, o.ticket.id);
    auto t = *store::Tickets(db).get(o.ticket.id);
    EXPECT_EQ(t.status, store::Status::pending);
    EXPECT_EQ(t.priority, store::Priority::high);
    EXPECT_EQ(t.assignee, "alice@agents.example");
    EXPECT_EQ(t.tags, std::vector<std::string>{"hardware"});
    EXPECT_EQ(events_of(t.id, "agent.command").size(), 4u);
    auto first = events_of(t.id, "ticket.first_response");
    ASSERT_EQ(first.size(), 1u);
    EXPECT_NE(first[0].detail.find("600s"), std::string::npos);
    auto m = last_message(t.id);
    EXPECT_EQ(m.kind, store::MessageKind::agent);
    for (const auto& p : store::Tickets(db).participants(t.id)) EXPECT_NE(p.role, "requester_agent");

    auto relay = rows(t.id, "relay");
    ASSERT_EQ(relay.size(), 1u);
    EXPECT_EQ(relay[0].auto_to, "");
    EXPECT_EQ(relay[0].recipients, (std::vector<std::string>{"ann@example.org", "carl@example.org"}));
    auto p = std::get<parsers::Message>(parsers::parse(relay[0].raw));
    EXPECT_EQ(p.from.at(0).name, "Alice Agent");
    EXPECT_EQ(p.from.at(0).address, "support@acme.example");
    EXPECT_EQ(p.to.at(0).address, "ann@example.org");
    EXPECT_EQ(p.cc.at(0).address, "carl@example.org");
    EXPECT_NE(p.subject.find(format_subject_tag("ACME", t.number, t.token)), std::string::npos);
    EXPECT_EQ(p.in_reply_to, std::vector<std::string>{"m1@example.org"});
    EXPECT_EQ(p.references.front(), "m1@example.org");
    EXPECT_EQ(p.header("Auto-Submitted"), nullptr);
    EXPECT_TRUE(parse_message_id(p.message_id));
    EXPECT_NE(p.body.find("Hello Ann, unplug it."), std::string::npos);
    EXPECT_EQ(p.body.find("#status"), std::string::npos);
    EXPECT_EQ(p.body.find("#assign"), std::string::npos);

    // A second answer is not a first response again; the requester's answer to the relay threads.
    ingest(reply_from_alice(o, "a2@agents.example", "More.\r\n", pass()));
    EXPECT_EQ(events_of(t.id, "ticket.first_response").size(), 1u);
    auto back = ingest(mail("ann@example.org", "Re: " + p.subject, "m4@example.org",
                            "In-Reply-To: <" + p.message_id + ">\r\n", "Done.\r\n"));
    EXPECT_EQ(back.ticket_id, t.id);
    EXPECT_EQ(store::Tickets(db).get(t.id)->status, store::Status::open);  // pending -> open
}

TEST_F(AgentsTest, NoteIsRecordedNeverRelayed) {
    auto o = open_ticket();
    ingest(reply_from_alice(o, "n1@agents.example", "#note\r\nCustomer is on the old plan.\r\n", pass()));
    EXPECT_EQ(last_message(o.ticket.id).kind, store::MessageKind::note);
    EXPECT_TRUE(rows(o.ticket.id, "relay").empty());
    EXPECT_EQ(events_of(o.ticket.id, "agent.note").size(), 1u);
    EXPECT_TRUE(events_of(o.ticket.id, "ticket.first_response").empty());
}

TEST_F(AgentsTest, InvalidCommandChangesNothingAndTellsTheAgent) {
    auto o = open_ticket();
    ingest(reply_from_alice(o, "e1@agents.example", "#status closed\r\n#queue nowhere\r\nBye.\r\n", pass()));
    auto t = *store::Tickets(db).get(o.ticket.id);
    EXPECT_EQ(t.status, store::Status::open);
    EXPECT_EQ(t.queue, "");
    EXPECT_TRUE(rows(t.id, "relay").empty());
    EXPECT_TRUE(events_of(t.id, "agent.command").empty());
    ASSERT_EQ(events_of(t.id, "agent.command_error").size(), 1u);
    auto err = rows(t.id, "agent_error");
    ASSERT_EQ(err.size(), 1u);
    EXPECT_EQ(err[0].recipients, std::vector<std::string>{"alice@agents.example"});
    auto p = std::get<parsers::Message>(parsers::parse(err[0].raw));
    EXPECT_NE(p.body.find("no queue 'nowhere'"), std::string::npos) << p.body;
    EXPECT_EQ(p.header("Auto-Submitted")->value, "auto-replied");
    EXPECT_EQ(last_message(t.id).kind, store::MessageKind::note);
}

TEST_F(AgentsTest, UnverifiedOrForgedAgentMailChangesNothingAndWarns) {
    auto o = open_ticket();
    const std::vector<std::string> auths = {
        "",  // no Authentication-Results at all
        "Authentication-Results: mx.elsewhere.example; dkim=pass header.d=agents.example\r\n",
        pass("evil.example"),
        // ours says fail at the top; the forged pass below does not count
        "Authentication-Results: mx.acme.example; dkim=fail header.d=agents.example\r\n"
        "Received: from evil\r\n" + pass(),
    };
    int n = 0;
    for (const auto& auth : auths) {
        auto out = ingest(reply_from_alice(o, "s" + std::to_string(++n) + "@agents.example", "#status closed\r\nok\r\n", auth));
        EXPECT_EQ(out.ticket_id, o.ticket.id);
        EXPECT_EQ(last_message(o.ticket.id).kind, store::MessageKind::requester);
    }
    auto t = *store::Tickets(db).get(o.ticket.id);
    EXPECT_EQ(t.status, store::Status::open);
    EXPECT_TRUE(rows(t.id, "relay").empty());
    EXPECT_EQ(events_of(t.id, "agent.unverified").size(), auths.size());
    EXPECT_FALSE(rows(t.id, "agent_warning").empty());
    for (const auto& p : store::Tickets(db).participants(t.id)) EXPECT_NE(p.address, "alice@agents.example");
}

TEST_F(AgentsTest, TrustedIngestVerifiesWithoutAuthenticationResults) {
    auto o = open_ticket();
    ingest(reply_from_alice(o, "t1@agents.example", "#status resolved\r\nFixed.\r\n", ""), /*trusted=*/true);
    EXPECT_EQ(store::Tickets(db).get(o.ticket.id)->status, store::Status::resolved);
    EXPECT_EQ(rows(o.ticket.id, "relay").size(), 1u);
}

TEST_F(AgentsTest, GuessedNumberWithoutTokenIsNoAgentCommand) {
    auto o = open_ticket();
    auto out = ingest(mail("alice@agents.example", "[ACME #" + std::to_string(o.ticket.number) + "] close it",
                           "g1@agents.example", pass(), "#status closed\r\n"));
    EXPECT_NE(out.ticket_id, o.ticket.id);
    EXPECT_EQ(store::Tickets(db).get(o.ticket.id)->status, store::Status::open);
    EXPECT_TRUE(events_of(o.ticket.id, "agent.command").empty());
    EXPECT_EQ(events_of(*out.ticket_id, "agent.unthreaded").size(), 1u);
}

TEST_F(AgentsTest, TrustedSourcesAreTheMailboxesTheAdminMarked) {
    cfg->imap.resize(2);
    cfg->imap[0].name = "agents";
    cfg->imap[0].trusted_agents = true;
    cfg->imap[1].name = "support";
    EXPECT_TRUE(trusted_source("imap:agents/INBOX", *cfg, false));
    EXPECT_FALSE(trusted_source("imap:support/INBOX", *cfg, true));  // the ingest flag is not IMAP's
    EXPECT_FALSE(trusted_source("imap:agents-old/INBOX", *cfg, false));
    EXPECT_FALSE(trusted_source("pipe", *cfg, false));
    EXPECT_TRUE(trusted_source("pipe", *cfg, true));
    EXPECT_TRUE(trusted_source("file:/tmp/a.eml", *cfg, true));
    // Trust never makes a stranger an agent, nor an agent's vacation notice an act.
    auto stranger = std::get<parsers::Message>(parsers::parse(mail("eve@evil.example", "hi", "x1@e", "", "#status closed\r\n")));
    EXPECT_EQ(agent_sender(stranger, *cfg, true).agent, nullptr);
    auto away = std::get<parsers::Message>(
        parsers::parse(mail("alice@agents.example", "Away", "x2@e", "Auto-Submitted: auto-replied\r\n", "Away\r\n")));
    EXPECT_EQ(agent_sender(away, *cfg, true).agent, nullptr);
    auto alice = std::get<parsers::Message>(parsers::parse(mail("ALICE@agents.example", "hi", "x3@e", "", "hi\r\n")));
    auto s = agent_sender(alice, *cfg, true);
    ASSERT_NE(s.agent, nullptr);
    EXPECT_TRUE(s.verified);
    EXPECT_FALSE(agent_sender(alice, *cfg, false).verified);
}

}  // namespace
}  // namespace ticketd::tickets
