// The pipeline over real message text (tests/data/threading), through parsers::parse.
#include "tickets/pipeline.h"

#include <gtest/gtest.h>

#include <random>

#include "store/database.h"
#include "store/inbox.h"
#include "parsers/mime.h"
#include "store/tickets.h"
#include "tests/support/paths.h"
#include "tickets/ids.h"
#include "tickets/json.h"
#include "tickets/query.h"

namespace ticketd::tickets {
namespace {

using ticketd::testing::TempDir;

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
    for (std::size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size()))
        s.replace(p, from.size(), to);
    return s;
}

std::string base64(const std::string& in) {
    static const char* tbl = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    std::size_t line = 0;
    for (std::size_t i = 0; i < in.size(); i += 3) {
        unsigned v = static_cast<unsigned char>(in[i]) << 16;
        if (i + 1 < in.size()) v |= static_cast<unsigned char>(in[i + 1]) << 8;
        if (i + 2 < in.size()) v |= static_cast<unsigned char>(in[i + 2]);
        out += tbl[(v >> 18) & 63];
        out += tbl[(v >> 12) & 63];
        out += i + 1 < in.size() ? tbl[(v >> 6) & 63] : '=';
        out += i + 2 < in.size() ? tbl[v & 63] : '=';
        if ((line += 4) >= 76) {
            out += '\n';
            line = 0;
        }
    }
    return out;
}

class PipelineTest : public ::testing::Test {
protected:
    PipelineTest() {
        auto c = std::make_shared<config::Config>();
        c->desk.addresses = {"support@acme.example", "help@acme.example"};
        c->desk.subject_tag = "ACME";
        c->desk.hostname = "tickets.acme.example";
        c->desk.reopen_window = std::chrono::hours(24 * 14);
        cfg = c;
        db.set_clock([this] { return now; });
    }

    std::string eml(const std::string& name, const std::map<std::string, std::string>& vars = {}) {
        std::string s =
            ticketd::testing::read_file(ticketd::testing::data_dir() / "threading" / name);
        for (const auto& [k, v] : vars) s = replace_all(s, "{{" + k + "}}", v);
        return s;
    }

    std::map<std::string, std::string> vars_for(const store::Ticket& t) {
        return {{"NUMBER", std::to_string(t.number)}, {"TOKEN", t.token}};
    }

    ProcessOutcome ingest(const std::string& raw, const std::string& source = "pipe") {
        return ingest_raw(db, cfg, source, raw);
    }

    store::Ticket ticket(std::int64_t number) { return *store::Tickets(db).by_number(number); }

    std::int64_t count(const std::string& table) {
        auto st = db.prepare("SELECT count(*) FROM " + table);
        st.step();
        return st.int64(0);
    }

    std::vector<std::string> event_kinds(std::int64_t ticket_id) {
        std::vector<std::string> out;
        for (const auto& e : store::Events(db).for_ticket(ticket_id)) out.push_back(e.kind);
        return out;
    }

    bool has_event(std::int64_t ticket_id, const std::string& kind) {
        auto k = event_kinds(ticket_id);
        return std::find(k.begin(), k.end(), kind) != k.end();
    }

    /// The first ticket, from 01-new.eml.
    store::Ticket first() {
        auto out = ingest(eml("01-new.eml"));
        EXPECT_EQ(out.outcome, Outcome::created) << out.detail;
        return ticket(*out.ticket_number);
    }

    TempDir dir;
    std::string path = (dir / "ticketd.db").string();
    store::Database db{path};
    std::shared_ptr<const config::Config> cfg;
    std::int64_t now = 1'795'000'000;
};

TEST_F(PipelineTest, NewMailOpensATicketWithEverythingInOneGo) {
    auto out = ingest(eml("01-new.eml"));
    ASSERT_EQ(out.outcome, Outcome::created) << out.detail;
    ASSERT_TRUE(out.ticket_number);
    auto t = ticket(*out.ticket_number);
    EXPECT_EQ(t.subject, "Printer on fire");
    EXPECT_EQ(t.requester_address, "ann@customer.example");
    EXPECT_EQ(t.requester_name, "Ann Example");
    EXPECT_EQ(t.status, store::Status::open);
    EXPECT_EQ(t.token.size(), kTokenLength);
    EXPECT_EQ(t.created_at, now);

    auto msgs = store::Messages(db).for_ticket(t.id);
    ASSERT_EQ(msgs.size(), 1u);
    EXPECT_EQ(msgs[0].kind, store::MessageKind::requester);
    EXPECT_EQ(msgs[0].message_id, "ann-1@customer.example");
    EXPECT_NE(msgs[0].body.find("floor 2 is on fire"), std::string::npos);
    EXPECT_EQ(msgs[0].thread_signal, "new");
    EXPECT_FALSE(msgs[0].content_hash.empty());
    auto atts = store::Messages(db).attachments(msgs[0].id);
    ASSERT_EQ(atts.size(), 1u);
    EXPECT_EQ(atts[0].filename, "report.pdf");
    EXPECT_EQ(store::Messages(db).blob(atts[0].sha256)->substr(0, 8), "%PDF-1.4");
    // The key is the hash of the bytes stored (the store hashes them itself).
    EXPECT_EQ(atts[0].sha256, ticketd::parsers::sha256_hex(*store::Messages(db).blob(atts[0].sha256)));

    auto people = store::Tickets(db).participants(t.id);
    ASSERT_EQ(people.size(), 2u);
    EXPECT_EQ(people[0].address, "ann@customer.example");
    EXPECT_EQ(people[0].role, "requester");
    EXPECT_EQ(people[1].address, "bob@customer.example");

    EXPECT_TRUE(has_event(t.id, "ticket.created"));
    EXPECT_TRUE(has_event(t.id, "message.received"));
    auto e = store::Inbox(db).get(out.inbox_id);
    EXPECT_EQ(e->state, store::InboxState::done);
    EXPECT_EQ(e->outcome, "created");
    EXPECT_EQ(e->ticket, t.id);
    EXPECT_EQ(store::Tickets(db).count(), 1);
}

TEST_F(PipelineTest, ReplyAllWithCcJoinsTheTicket) {
    auto t = first();
    auto out = ingest(eml("02-reply-all-bob.eml"));
    EXPECT_EQ(out.outcome, Outcome::appended) << out.detail;
    EXPECT_EQ(out.ticket_number, t.number);
    EXPECT_EQ(out.signal, Signal::in_reply_to);
    EXPECT_EQ(store::Tickets(db).count(), 1);
    EXPECT_EQ(store::Messages(db).for_ticket(t.id).size(), 2u);
    // Dana, copied on the reply, is on the ticket now.
    EXPECT_TRUE(store::Tickets(db).is_participant(t.id, "dana@customer.example"));
    EXPECT_TRUE(has_event(t.id, "participant.added"));
}

TEST_F(PipelineTest, OneMailToTwoOfOurAddressesIsOneTicket) {
    auto a = ingest(eml("03-two-addresses.eml", {{"DELIVERED_TO", "support@acme.example"}}),
                    "imap:support/INBOX");
    auto b = ingest(eml("03-two-addresses.eml", {{"DELIVERED_TO", "help@acme.example"}}),
                    "imap:help/INBOX");
    EXPECT_EQ(a.outcome, Outcome::created);
    EXPECT_EQ(b.outcome, Outcome::duplicate) << b.detail;
    EXPECT_NE(a.inbox_id, b.inbox_id);  // both deliveries kept raw
    EXPECT_EQ(b.ticket_number, a.ticket_number);
    EXPECT_EQ(store::Tickets(db).count(), 1);
    EXPECT_EQ(count("messages"), 1);
}

TEST_F(PipelineTest, IngestingTheSameBytesTwiceCreatesNothing) {
    auto a = ingest(eml("01-new.eml"));
    const auto events = count("events");
    auto b = ingest(eml("01-new.eml"));
    EXPECT_EQ(b.outcome, Outcome::duplicate);
    EXPECT_EQ(b.inbox_id, a.inbox_id);
    EXPECT_EQ(b.ticket_number, a.ticket_number);
    EXPECT_EQ(store::Tickets(db).count(), 1);
    EXPECT_EQ(count("messages"), 1);
    EXPECT_EQ(count("events"), events);
}

TEST_F(PipelineTest, RefetchAfterUidValidityChangeCreatesNothing) {
    // The Office 365 story (zammad#1662): the same mail comes back under new UIDs.
    store::Inbox inbox(db);
    Pipeline p(db, cfg);
    auto ids = inbox.add_imap_batch("support", "INBOX", 1, {{7, eml("01-new.eml")}});
    EXPECT_EQ(p.process(ids[0]).outcome, Outcome::created);
    inbox.reset_cursor("support", "INBOX", 2);
    auto again = inbox.add_imap_batch("support", "INBOX", 2, {{1, eml("01-new.eml")}});
    EXPECT_NE(again[0], ids[0]);
    EXPECT_EQ(p.process(again[0]).outcome, Outcome::duplicate);
    EXPECT_EQ(store::Tickets(db).count(), 1);
    EXPECT_EQ(count("messages"), 1);
    EXPECT_EQ(inbox.get(again[0])->outcome, "duplicate");
}

TEST_F(PipelineTest, SameMessageIdWithDifferentContentIsKeptWithAWarning) {
    auto t = first();
    auto out = ingest(eml("11-same-id-new-content.eml"));
    EXPECT_EQ(out.outcome, Outcome::appended) << out.detail;
    EXPECT_EQ(out.ticket_number, t.number);
    EXPECT_EQ(out.signal, Signal::message_id);
    EXPECT_EQ(count("messages"), 2);
    EXPECT_TRUE(has_event(t.id, "message.id_reused"));
}

TEST_F(PipelineTest, GuessedTicketNumberFromAStrangerOpensANewTicket) {
    auto t = first();
    auto out = ingest(eml("04-stranger-guess.eml", {{"NUMBER", std::to_string(t.number)}}));
    EXPECT_EQ(out.outcome, Outcome::created) << out.detail;
    EXPECT_NE(out.ticket_number, t.number);
    EXPECT_EQ(store::Messages(db).for_ticket(t.id).size(), 1u);
    auto fresh = ticket(*out.ticket_number);
    EXPECT_TRUE(has_event(fresh.id, "thread.refused"));
    // Our tag is not carried into the new ticket's subject.
    EXPECT_EQ(fresh.subject, "Re: please resend the invoice");
    EXPECT_FALSE(store::Tickets(db).is_participant(t.id, "mallory@evil.example"));
}

TEST_F(PipelineTest, SubjectTagWithTokenThreads) {
    auto t = first();
    auto out = ingest(eml("05-tag-token.eml", vars_for(t)));
    EXPECT_EQ(out.outcome, Outcome::appended) << out.detail;
    EXPECT_EQ(out.ticket_number, t.number);
    EXPECT_EQ(out.signal, Signal::subject_tag);
}

TEST_F(PipelineTest, PlusAddressThreadsAndTheSenderJoins) {
    auto t = first();
    auto out = ingest(eml("06-plus-address.eml", vars_for(t)));
    EXPECT_EQ(out.outcome, Outcome::appended) << out.detail;
    EXPECT_EQ(out.signal, Signal::plus_address);
    EXPECT_TRUE(store::Tickets(db).is_participant(t.id, "frank@partner.example"));
    // Our own plus address never becomes a participant.
    for (const auto& p : store::Tickets(db).participants(t.id))
        EXPECT_EQ(p.address.find("support+"), std::string::npos) << p.address;
}

TEST_F(PipelineTest, RequesterReplyToAPendingTicketSetsItOpen) {
    auto t = first();
    store::Tickets(db).set_status(t.id, store::Status::pending, now);
    auto out = ingest(eml("10-reply-later.eml"));
    EXPECT_EQ(out.outcome, Outcome::appended) << out.detail;
    EXPECT_EQ(ticket(t.number).status, store::Status::open);
    EXPECT_TRUE(has_event(t.id, "ticket.status"));
}

TEST_F(PipelineTest, AnEntryIsProcessedOnceWhicheverConnectionGetsIt) {
    auto id = store::Inbox(db).add_raw("pipe", eml("01-new.eml"));
    store::Database other(path);
    Pipeline a(db, cfg), b(other, cfg);
    EXPECT_EQ(a.process(id).outcome, Outcome::created);
    auto second = b.process(id);
    EXPECT_TRUE(second.already_processed);
    EXPECT_EQ(second.outcome, Outcome::created);
    EXPECT_EQ(store::Tickets(db).count(), 1);
}

TEST_F(PipelineTest, ReplyToAClosedTicketWithinTheWindowReopensIt) {
    auto t = first();
    store::Tickets(db).set_status(t.id, store::Status::closed, now);
    now += 3 * 24 * 3600;
    auto out = ingest(eml("10-reply-later.eml"));
    EXPECT_EQ(out.outcome, Outcome::reopened) << out.detail;
    EXPECT_EQ(out.ticket_number, t.number);
    auto after = ticket(t.number);
    EXPECT_EQ(after.status, store::Status::open);
    EXPECT_FALSE(after.closed_at);
    EXPECT_TRUE(has_event(t.id, "ticket.reopened"));
}

TEST_F(PipelineTest, ReplyToALongClosedTicketOpensALinkedNewOne) {
    auto t = first();
    store::Tickets(db).set_status(t.id, store::Status::closed, now);
    now += 30 * 24 * 3600;
    auto out = ingest(eml("10-reply-later.eml"));
    EXPECT_EQ(out.outcome, Outcome::linked) << out.detail;
    ASSERT_TRUE(out.ticket_number);
    EXPECT_NE(*out.ticket_number, t.number);
    EXPECT_EQ(out.linked_from, t.number);
    auto fresh = ticket(*out.ticket_number);
    EXPECT_EQ(fresh.linked_to, t.id);
    EXPECT_EQ(fresh.status, store::Status::open);
    EXPECT_EQ(ticket(t.number).status, store::Status::closed);
    EXPECT_TRUE(has_event(t.id, "ticket.followed_up"));
    auto view = show_ticket(db, fresh.number);
    ASSERT_TRUE(view);
    EXPECT_EQ(view->linked_to_number, t.number);
    // A further late reply to the old thread goes to the follow-up, not to a third ticket.
    auto again = ingest(replace_all(eml("10-reply-later.eml"), "ann-3@", "ann-4@"));
    EXPECT_EQ(again.outcome, Outcome::appended) << again.detail;
    EXPECT_EQ(again.ticket_number, fresh.number);
    EXPECT_EQ(store::Tickets(db).count(), 2);
}

TEST_F(PipelineTest, OutOfOfficeOnAClosedTicketIsRecordedAndDoesNotReopen) {
    auto t = first();
    store::Tickets(db).set_status(t.id, store::Status::closed, now);
    now += 60;
    auto out = ingest(eml("07-out-of-office.eml", vars_for(t)));
    EXPECT_EQ(out.outcome, Outcome::appended) << out.detail;
    EXPECT_EQ(out.ticket_number, t.number);
    EXPECT_EQ(ticket(t.number).status, store::Status::closed);
    auto msgs = store::Messages(db).for_ticket(t.id);
    ASSERT_EQ(msgs.size(), 2u);
    EXPECT_EQ(msgs[1].kind, store::MessageKind::auto_reply);
    EXPECT_TRUE(has_event(t.id, "ticket.not_reopened"));
    EXPECT_EQ(store::Tickets(db).count(), 1);
}

TEST_F(PipelineTest, BounceIsRecordedOnTheTicketOfTheMailItReportsOn) {
    auto t = first();
    auto vars = vars_for(t);
    vars["OURID"] = make_message_id(t.number, t.token, 1, "tickets.acme.example");
    auto second = ingest(replace_all(eml("01-new.eml"), "ann-1@", "ann-9@"));
    ASSERT_NE(second.ticket_number, t.number);  // a ticket the bounce must not land on
    auto out = ingest(eml("08-bounce.eml", vars));
    EXPECT_EQ(out.outcome, Outcome::appended) << out.detail;
    EXPECT_EQ(out.ticket_number, t.number);
    auto msgs = store::Messages(db).for_ticket(t.id);
    ASSERT_EQ(msgs.size(), 2u);
    EXPECT_EQ(msgs[1].kind, store::MessageKind::bounce);
    EXPECT_TRUE(has_event(t.id, "message.automatic"));
    bool reported = false;
    for (const auto& e : store::Events(db).for_ticket(t.id))
        if (e.kind == "bounce.recorded")
            reported = e.detail.find("gone@customer.example") != std::string::npos &&
                       e.detail.find("5.1.1") != std::string::npos;
    EXPECT_TRUE(reported) << "the trail names who failed and why";
    EXPECT_EQ(ticket(t.number).status, store::Status::open);
    EXPECT_FALSE(store::Tickets(db).is_participant(t.id, "MAILER-DAEMON@mx.acme.example"));
}

TEST_F(PipelineTest, UnmatchedBounceCreatesNoTicketAndStaysVisible) {
    std::map<std::string, std::string> vars = {
        {"NUMBER", "5555"}, {"TOKEN", "0123456789"}, {"OURID", "someone-else@elsewhere.example"}};
    auto out = ingest(eml("08-bounce.eml", vars));
    EXPECT_EQ(out.outcome, Outcome::unmatched_automatic) << out.detail;
    EXPECT_FALSE(out.ticket_id);
    EXPECT_EQ(store::Tickets(db).count(), 0);
    auto kept = store::Inbox(db).with_outcome("unmatched_automatic");
    ASSERT_EQ(kept.size(), 1u);
    EXPECT_EQ(kept[0].id, out.inbox_id);
    EXPECT_FALSE(store::Events(db).for_inbox(out.inbox_id).empty());
}

TEST_F(PipelineTest, UnmatchedOutOfOfficeCreatesNoTicket) {
    auto out = ingest(eml("07-out-of-office.eml", {{"NUMBER", "77"}, {"TOKEN", "0123456789"}}));
    EXPECT_EQ(out.outcome, Outcome::unmatched_automatic) << out.detail;
    EXPECT_EQ(store::Tickets(db).count(), 0);
}

TEST_F(PipelineTest, MalformedMessageIsQuarantinedAndTheOthersGoOn) {
    auto c = std::make_shared<config::Config>(*cfg);
    c->limits.max_depth = 20;  // 09-malformed.eml nests 60 deep
    cfg = c;
    store::Inbox inbox(db);
    auto good1 = inbox.add_raw("pipe", eml("01-new.eml"));
    auto bad = inbox.add_raw("pipe", eml("09-malformed.eml"));
    auto good2 = inbox.add_raw("pipe", eml("03-two-addresses.eml",
                                          {{"DELIVERED_TO", "support@acme.example"}}));
    Pipeline p(db, cfg);
    EXPECT_EQ(p.process_pending(), 3);
    EXPECT_EQ(inbox.get(good1)->outcome, "created");
    EXPECT_EQ(inbox.get(good2)->outcome, "created");
    auto q = inbox.get(bad);
    EXPECT_EQ(q->state, store::InboxState::quarantined);
    EXPECT_NE(q->error.find("parse: too_deep"), std::string::npos) << q->error;
    EXPECT_EQ(inbox.raw(bad), eml("09-malformed.eml"));  // kept byte for byte
    EXPECT_EQ(store::Tickets(db).count(), 2);

    // Processing it again does not redo anything; releasing makes it retryable.
    EXPECT_TRUE(p.process(bad).already_processed);
    EXPECT_TRUE(inbox.release(bad));
    auto relaxed = std::make_shared<config::Config>(*cfg);
    relaxed->limits.max_depth = 100;
    p.set_config(relaxed);
    auto out = p.process(bad);
    EXPECT_EQ(out.outcome, Outcome::created) << out.detail;
    EXPECT_EQ(inbox.get(bad)->attempts, 2);
}

TEST_F(PipelineTest, AFailureMidTransactionLeavesNothingPartial) {
    Pipeline p(db, cfg);
    p.add_hook([](store::Database&, const Ingested&) {
        throw std::runtime_error("rule engine exploded");
    });
    auto id = store::Inbox(db).add_raw("pipe", eml("01-new.eml"));
    auto out = p.process(id);
    EXPECT_EQ(out.outcome, Outcome::quarantined);
    EXPECT_NE(out.detail.find("rule engine exploded"), std::string::npos);
    EXPECT_EQ(count("tickets"), 0);
    EXPECT_EQ(count("messages"), 0);
    EXPECT_EQ(count("participants"), 0);
    EXPECT_EQ(count("attachments"), 0);
    EXPECT_EQ(count("blobs"), 0);
    EXPECT_EQ(count("message_ids"), 0);
    EXPECT_EQ(count("events"), 1);  // only the quarantine itself
    EXPECT_EQ(store::Inbox(db).get(id)->state, store::InboxState::quarantined);
}

TEST_F(PipelineTest, HooksSeeTheTicketInsideTheTransaction) {
    Pipeline p(db, cfg);
    std::int64_t seen = 0;
    p.add_hook([&](store::Database& d, const Ingested& ing) {
        EXPECT_TRUE(d.in_transaction());
        seen = ing.ticket.number;
        store::Tickets(d).add_tag(ing.ticket.id, "hooked");
    });
    auto out = p.process(store::Inbox(db).add_raw("pipe", eml("01-new.eml")));
    EXPECT_EQ(seen, out.ticket_number);
    EXPECT_EQ(ticket(seen).tags, std::vector<std::string>{"hooked"});
}

TEST_F(PipelineTest, DiskFullIsTemporaryAndLeavesTheMessagePending) {
    std::mt19937 rng(42);
    std::string noise(400 * 1024, '\0');
    for (auto& c : noise) c = static_cast<char>(rng());
    const std::string raw = eml("12-big-attachment.eml", {{"BASE64", base64(noise)}});
    store::Inbox inbox(db);
    auto id = inbox.add_raw("pipe", raw);  // the raw bytes fit; the decoded copy will not
    auto pages = [&] {
        auto st = db.prepare("PRAGMA page_count");
        st.step();
        return st.int64(0);
    }();
    db.exec("PRAGMA max_page_count=" + std::to_string(pages + 20));
    Pipeline p(db, cfg);
    try {
        p.process(id);
        FAIL() << "disk full not reported";
    } catch (const store::Error& e) {
        EXPECT_TRUE(e.full()) << e.what();
        EXPECT_TRUE(e.temporary());
    }
    EXPECT_FALSE(db.in_transaction());
    EXPECT_EQ(inbox.get(id)->state, store::InboxState::pending);
    EXPECT_EQ(count("tickets"), 0);
    EXPECT_EQ(count("messages"), 0);
    EXPECT_EQ(count("blobs"), 0);
    EXPECT_EQ(count("events"), 0);
    // Space again: the same entry goes through.
    db.exec("PRAGMA max_page_count=1073741823");
    EXPECT_EQ(p.process(id).outcome, Outcome::created);
}

TEST_F(PipelineTest, GroupCommitStillKeepsEachMessageWhole) {
    // Batches of 2: a quarantine inside a batch does not undo its neighbours.
    auto c = std::make_shared<config::Config>(*cfg);
    c->limits.max_depth = 20;
    cfg = c;
    store::Inbox inbox(db);
    auto a = inbox.add_raw("pipe", eml("01-new.eml"));
    auto bad = inbox.add_raw("pipe", eml("09-malformed.eml"));
    auto b = inbox.add_raw("pipe", eml("02-reply-all-bob.eml"));
    Pipeline p(db, cfg);
    EXPECT_EQ(p.process_pending(2), 3);
    EXPECT_FALSE(db.in_transaction());
    EXPECT_EQ(inbox.get(a)->outcome, "created");
    EXPECT_EQ(inbox.get(bad)->state, store::InboxState::quarantined);
    EXPECT_EQ(inbox.get(b)->outcome, "appended");
    EXPECT_EQ(store::Tickets(db).count(), 1);
    EXPECT_EQ(count("messages"), 2);
}

TEST_F(PipelineTest, TemporaryErrorInABatchLeavesTheWholeBatchPending) {
    std::mt19937 rng(7);
    std::string noise(400 * 1024, '\0');
    for (auto& ch : noise) ch = static_cast<char>(rng());
    store::Inbox inbox(db);
    auto small = inbox.add_raw("pipe", eml("01-new.eml"));
    auto big = inbox.add_raw("pipe", eml("12-big-attachment.eml", {{"BASE64", base64(noise)}}));
    auto pages = [&] {
        auto st = db.prepare("PRAGMA page_count");
        st.step();
        return st.int64(0);
    }();
    db.exec("PRAGMA max_page_count=" + std::to_string(pages + 20));
    Pipeline p(db, cfg);
    EXPECT_THROW(p.process_pending(), store::Error);
    EXPECT_FALSE(db.in_transaction());
    EXPECT_EQ(inbox.get(small)->state, store::InboxState::pending);
    EXPECT_EQ(inbox.get(big)->state, store::InboxState::pending);
    EXPECT_EQ(count("tickets"), 0);
    db.exec("PRAGMA max_page_count=1073741823");
    EXPECT_EQ(p.process_pending(), 2);
    EXPECT_EQ(count("tickets"), 2);
}

TEST_F(PipelineTest, IngestRawIsAllOrNothingForTheCaller) {
    // `ticketd ingest` from an MTA: on a temporary error nothing is kept and the MTA retries.
    std::mt19937 rng(9);
    std::string noise(400 * 1024, '\0');
    for (auto& ch : noise) ch = static_cast<char>(rng());
    auto pages = [&] {
        auto st = db.prepare("PRAGMA page_count");
        st.step();
        return st.int64(0);
    }();
    db.exec("PRAGMA max_page_count=" + std::to_string(pages + 20));
    try {
        ingest(eml("12-big-attachment.eml", {{"BASE64", base64(noise)}}));
        FAIL() << "disk full not reported";
    } catch (const store::Error& e) {
        EXPECT_TRUE(e.temporary()) << e.what();
    }
    EXPECT_EQ(count("inbox"), 0);
    EXPECT_EQ(count("tickets"), 0);
    db.exec("PRAGMA max_page_count=1073741823");
    // A message that cannot be parsed is committed raw and quarantined: exit 0, nothing lost.
    auto c = std::make_shared<config::Config>(*cfg);
    c->limits.max_depth = 20;
    cfg = c;
    auto out = ingest(eml("09-malformed.eml"));
    EXPECT_EQ(out.outcome, Outcome::quarantined);
    EXPECT_EQ(store::Inbox(db).get(out.inbox_id)->state, store::InboxState::quarantined);
}

TEST_F(PipelineTest, BusyDatabaseIsTemporaryAndNotQuarantined) {
    auto id = store::Inbox(db).add_raw("pipe", eml("01-new.eml"));
    store::OpenOptions quick;
    quick.busy_timeout_ms = 50;
    store::Database mine(path, quick);
    store::Database holder(path);
    store::Transaction hold(holder);
    Pipeline p(mine, cfg);
    try {
        p.process(id);
        FAIL() << "busy not reported";
    } catch (const store::Error& e) {
        EXPECT_TRUE(e.temporary()) << e.what();
    }
    EXPECT_EQ(store::Inbox(mine).get(id)->state, store::InboxState::pending);
}

TEST_F(PipelineTest, ListAndShowJson) {
    auto t = first();
    ingest(eml("02-reply-all-bob.eml"));
    auto list = list_json(list_tickets(db));
    ASSERT_EQ(list.size(), 1u);
    EXPECT_EQ(list[0]["number"], t.number);
    EXPECT_EQ(list[0]["status"], "open");
    EXPECT_EQ(list[0]["priority"], "normal");
    EXPECT_TRUE(list[0]["tags"].is_array());
    EXPECT_EQ(list[0]["requester"]["address"], "ann@customer.example");
    EXPECT_EQ(list[0]["subject"], "Printer on fire");
    EXPECT_EQ(list.dump().find(t.token), std::string::npos) << "token leaked into list JSON";

    auto view = show_ticket(db, t.number);
    ASSERT_TRUE(view);
    auto j = show_json(*view, cfg->desk);
    EXPECT_EQ(j["number"], t.number);
    ASSERT_EQ(j["messages"].size(), 2u);
    EXPECT_EQ(j["messages"][0]["kind"], "requester");
    EXPECT_EQ(j["messages"][0]["message_id"], "ann-1@customer.example");
    EXPECT_EQ(j["messages"][1]["from"], "bob@customer.example");
    EXPECT_EQ(j["messages"][1]["subject"], "Re: Printer on fire");
    EXPECT_NE(j["messages"][1]["body"].get<std::string>().find("floor 3"), std::string::npos);
    EXPECT_EQ(j["messages"][0]["attachments"][0]["filename"], "report.pdf");
    EXPECT_EQ(j["subject_tag"], format_subject_tag("ACME", t.number, t.token));
    EXPECT_FALSE(j["events"].empty());

    auto text = render_show(*view, cfg->desk);
    EXPECT_NE(text.find("Printer on fire"), std::string::npos);
    EXPECT_NE(text.find("report.pdf"), std::string::npos);
    EXPECT_NE(text.find("in_reply_to"), std::string::npos);  // the trail says why
    auto table = render_list(list_tickets(db));
    EXPECT_NE(table.find(std::to_string(t.number)), std::string::npos);
    EXPECT_EQ(table.find(t.token), std::string::npos);
    EXPECT_FALSE(show_ticket(db, 424242));
}

TEST_F(PipelineTest, ListFiltersByStatus) {
    auto t = first();
    ingest(eml("03-two-addresses.eml", {{"DELIVERED_TO", "support@acme.example"}}));
    store::Tickets(db).set_status(t.id, store::Status::resolved, now);
    store::ListFilter f;
    f.status = store::Status::resolved;
    auto r = list_tickets(db, f);
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].number, t.number);
    EXPECT_EQ(list_tickets(db).size(), 2u);
}

TEST_F(PipelineTest, ContentHashIgnoresTransportHeaders) {
    auto a = parsers::parse(eml("03-two-addresses.eml", {{"DELIVERED_TO", "support@acme.example"}}));
    auto b = parsers::parse(eml("03-two-addresses.eml", {{"DELIVERED_TO", "help@acme.example"}}));
    ASSERT_TRUE(std::holds_alternative<parsers::Message>(a));
    ASSERT_TRUE(std::holds_alternative<parsers::Message>(b));
    EXPECT_EQ(content_hash(std::get<parsers::Message>(a)), content_hash(std::get<parsers::Message>(b)));
    auto c = parsers::parse(eml("11-same-id-new-content.eml"));
    auto d = parsers::parse(eml("01-new.eml"));
    EXPECT_NE(content_hash(std::get<parsers::Message>(c)), content_hash(std::get<parsers::Message>(d)));
}

}  // namespace
}  // namespace ticketd::tickets
