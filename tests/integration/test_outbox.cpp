// The outbox against a real SMTP sink (aiosmtpd) and a real dovecot on 127.0.0.1:
//  - requester mail in the mailbox -> ticket -> acknowledgement captured, checked header by header;
//  - the SMTP server down for a while, then back: nothing lost, nothing twice;
//  - a crash between the server's 250 and the commit: one resend, with the same Message-ID;
//  - a 5xx: failed, recorded on the ticket, never retried on its own;
//  - two desks writing to each other: the loop stops at once;
//  - auto-replies and list mail get no acknowledgement.

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include "config/templates.h"
#include "daemon/sender.h"
#include "mail/compose.h"
#include "metrics/metrics.h"
#include "parsers/parse.h"
#include "store/database.h"
#include "store/outbox.h"
#include "store/tickets.h"
#include "tests/support/desk.h"
#include "tests/support/dovecot.h"
#include "tests/support/live_desk.h"
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

parsers::Message parse(const std::string& raw) {
    auto r = parsers::parse(raw);
    EXPECT_TRUE(std::holds_alternative<parsers::Message>(r));
    return std::get<parsers::Message>(r);
}


// ---------------------------------------------------------------- in process: the sender alone

class Sender : public ::testing::Test {
protected:
    void SetUp() override {
        if (!SmtpSink::available()) GTEST_SKIP() << SmtpSink::why_unavailable();
        db_ = std::make_unique<store::Database>((dir_ / "desk.db").string());
        db_->set_clock([this] { return now_; });
        auto c = std::make_shared<config::Config>();
        c->desk.name = "ACME Support";
        c->desk.addresses = {"support@acme.example"};
        c->desk.hostname = "acme.example";
        c->smtp.emplace();
        c->smtp->require_starttls = false;
        c->smtp->from = "support@acme.example";
        c->smtp->connect_timeout = std::chrono::seconds(2);
        c->smtp->transfer_timeout = std::chrono::seconds(10);
        cfg_ = c;
    }

    /// `connections` 0: smtp.connections as configured by default.
    std::shared_ptr<const config::Config> with_url(const std::string& url, int connections = 0) {
        auto c = std::make_shared<config::Config>(*cfg_);
        c->smtp->url = url;
        if (connections > 0) c->smtp->connections = connections;
        return c;
    }

    std::vector<std::string> enqueue(int n, const std::string& rcpt = "ann@example.org",
                                     std::optional<std::int64_t> ticket = std::nullopt) {
        std::vector<std::string> ids;
        store::Outbox outbox(*db_);
        for (int i = 0; i < n; ++i) {
            mail::OutgoingMail m;
            m.from = {"ACME Support", "support@acme.example"};
            m.to = {{"Ann", rcpt}};
            m.subject = "Mail " + std::to_string(i);
            m.message_id = "t" + std::to_string(next_++) + ".0123456789.r1@acme.example";
            m.date = std::chrono::sys_seconds{std::chrono::seconds{now_}};
            m.text = "Body of mail " + std::to_string(i) + "\n";
            m.auto_submitted = mail::AutoSubmitted::auto_replied;
            store::OutboxMail row;
            row.kind = "test";
            row.ticket = ticket;
            row.mail_from = "support@acme.example";
            row.recipients = {rcpt};
            row.message_id = m.message_id;
            row.raw = mail::compose(m);
            outbox.enqueue(row);
            ids.push_back(m.message_id);
        }
        return ids;
    }

    daemon::FlushStats flush(std::shared_ptr<const config::Config> cfg, daemon::SenderOptions opts = {}) {
        boost::asio::io_context io;
        daemon::OutboxSender sender(io, *db_, std::move(cfg), std::move(opts));
        daemon::FlushStats stats;
        bool done = false;
        sender.flush([&](daemon::FlushStats s) {
            stats = s;
            done = true;
        });
        io.run();
        EXPECT_TRUE(done);
        return stats;
    }

    static std::multiset<std::string> ids_in(const std::vector<std::string>& raws) {
        std::multiset<std::string> out;
        for (const auto& r : raws) out.insert(parse(r).message_id);
        return out;
    }

    TempDir dir_;
    std::unique_ptr<store::Database> db_;
    std::int64_t now_ = 1'800'000'000;
    std::shared_ptr<config::Config> cfg_;
    int next_ = 1;
};

TEST_F(Sender, DeliversEverythingDueOverOneConnection) {
    SmtpSink sink;
    auto ids = enqueue(30);
    auto stats = flush(with_url(sink.url(), 1));
    EXPECT_EQ(stats.sent, 30);
    EXPECT_EQ(ids_in(sink.messages()), std::multiset<std::string>(ids.begin(), ids.end()));
    EXPECT_EQ(store::Outbox(*db_).count(store::OutboxState::sent), 30);
    // One SMTP session for all of them (libcurl counts the connections it opened per transfer).
    EXPECT_EQ(stats.connections, 1);
    // Nothing is due any more: a second pass sends nothing.
    EXPECT_EQ(flush(with_url(sink.url())).sent, 0);
    EXPECT_EQ(sink.messages().size(), 30u);
}

// TLS downgrade (docs/security.md): the sink offers no STARTTLS, as a server (or a man in the
// middle stripping the capability) would. With require_starttls, the default, nothing goes out in
// clear text: no mail reaches the sink and every row stays queued, not sent.
TEST_F(Sender, NoStarttlsOfferedMeansNothingIsSentInClearText) {
    SmtpSink sink;
    enqueue(2);
    auto c = std::make_shared<config::Config>(*with_url(sink.url()));
    c->smtp->require_starttls = true;
    auto stats = flush(c);
    EXPECT_EQ(stats.sent, 0);
    EXPECT_TRUE(sink.messages().empty());
    EXPECT_EQ(store::Outbox(*db_).count(store::OutboxState::sent), 0);
    EXPECT_EQ(store::Outbox(*db_).count(store::OutboxState::queued), 2);
}

TEST_F(Sender, ServerDownForAWhileThenBackLosesNothingAndSendsNothingTwice) {
    const std::string dead = "smtp://127.0.0.1:" + std::to_string(support::free_port()) + "/client.example";
    auto ids = enqueue(10);
    // Down: the first attempt finds no server; the queue waits for its backoff instead of
    // walking every mail into the same wall.
    auto down = flush(with_url(dead));
    EXPECT_EQ(down.sent, 0);
    EXPECT_EQ(down.retried, 1);
    EXPECT_EQ(store::Outbox(*db_).count(store::OutboxState::queued), 10);
    now_ += 30;
    auto more = enqueue(5);
    ids.insert(ids.end(), more.begin(), more.end());
    EXPECT_EQ(flush(with_url(dead)).retried, 1);

    // Back: passes over a few simulated hours until the queue is empty.
    SmtpSink sink;
    for (int i = 0; i < 10 && store::Outbox(*db_).count(store::OutboxState::queued) > 0; ++i) {
        flush(with_url(sink.url()));
        now_ += 3600;
    }
    EXPECT_EQ(store::Outbox(*db_).count(store::OutboxState::queued), 0);
    EXPECT_EQ(store::Outbox(*db_).count(store::OutboxState::failed), 0);
    EXPECT_EQ(ids_in(sink.messages()), std::multiset<std::string>(ids.begin(), ids.end()));
}

/// The value of one sample line of the exposition ("name{labels} value"), 0 when absent.
double sample(const std::string& exposition, const std::string& series) {
    std::istringstream in(exposition);
    for (std::string line; std::getline(in, line);)
        if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
    return 0;
}

TEST_F(Sender, MetricsCountSentMailAndTheServersErrorsByCause) {
    metrics::register_all();
    const int port = support::free_port();
    const std::string dead = "smtp://127.0.0.1:" + std::to_string(port) + "/client.example";
    const std::string errors = "ticketd_smtp_errors_total{account=\"127.0.0.1:" + std::to_string(port) +
                               "\",status=\"connect\"}";
    const auto before = metrics::registry().expose();
    enqueue(3);
    EXPECT_EQ(flush(with_url(dead)).retried, 1);
    const auto down = metrics::registry().expose();
    EXPECT_EQ(sample(down, errors) - sample(before, errors), 1) << down;

    SmtpSink sink;
    now_ += 3600;
    EXPECT_EQ(flush(with_url(sink.url())).sent, 3);
    const auto up = metrics::registry().expose();
    EXPECT_EQ(sample(up, "ticketd_outbox_sent_total") - sample(before, "ticketd_outbox_sent_total"), 3) << up;
    EXPECT_EQ(sample(up, errors), sample(down, errors));
}

TEST_F(Sender, CrashBetweenTheAnswerAndTheCommitResendsOnceWithTheSameMessageId) {
    SmtpSink sink;
    auto ids = enqueue(3);
    daemon::SenderOptions crash;
    crash.before_commit = [](const store::OutboxMail& m) {
        if (m.message_id.rfind("t2.", 0) == 0) throw std::runtime_error("simulated crash before commit");
    };
    auto first = flush(with_url(sink.url(), 1), crash);
    EXPECT_EQ(first.sent, 1);  // t1 committed; t2 reached the server but not the database
    EXPECT_EQ(sink.messages().size(), 2u);
    auto second = flush(with_url(sink.url()));  // the restart
    EXPECT_EQ(second.sent, 2);
    auto got = ids_in(sink.messages());
    EXPECT_EQ(got.size(), 4u);
    EXPECT_EQ(got.count(ids[0]), 1u);
    EXPECT_EQ(got.count(ids[1]), 2u);  // once more, same Message-ID, and never a third time
    EXPECT_EQ(got.count(ids[2]), 1u);
    EXPECT_EQ(flush(with_url(sink.url())).sent, 0);
}

// The same crash with each answer committed before the next mail starts (overlap_commit off):
// the bound does not depend on the overlap. With it on (the test above), the mail after t2 had
// its MAIL FROM out when t2's commit failed, and was abandoned there: the sink never got it.
TEST_F(Sender, CrashBeforeTheCommitWithoutOverlapResendsOnceToo) {
    SmtpSink sink;
    auto ids = enqueue(3);
    daemon::SenderOptions crash;
    crash.overlap_commit = false;
    crash.before_commit = [](const store::OutboxMail& m) {
        if (m.message_id.rfind("t2.", 0) == 0) throw std::runtime_error("simulated crash before commit");
    };
    EXPECT_EQ(flush(with_url(sink.url(), 1), crash).sent, 1);
    EXPECT_EQ(sink.messages().size(), 2u);
    EXPECT_EQ(flush(with_url(sink.url())).sent, 2);
    auto got = ids_in(sink.messages());
    EXPECT_EQ(got.count(ids[0]), 1u);
    EXPECT_EQ(got.count(ids[1]), 2u);
    EXPECT_EQ(got.count(ids[2]), 1u);
}

// Overlapping each commit with the next mail's start changes neither what arrives nor its order.
TEST_F(Sender, OverlapOrNotEveryMailArrivesOnceInOrderOverOneConnection) {
    for (bool overlap : {true, false}) {
        SmtpSink sink;
        auto ids = enqueue(40);
        daemon::SenderOptions o;
        o.overlap_commit = overlap;
        o.batch = 16;  // several batches: each batch's last mail, then a new read
        auto stats = flush(with_url(sink.url(), 1), o);
        EXPECT_EQ(stats.sent, 40) << overlap;
        EXPECT_EQ(stats.connections, 1) << overlap;
        std::vector<std::string> got;
        for (const auto& r : sink.messages()) got.push_back(parse(r).message_id);
        EXPECT_EQ(got, ids) << overlap;
        EXPECT_TRUE(store::Outbox(*db_).due(now_, 10).empty()) << overlap;
    }
}

std::int64_t make_ticket(store::Database& db, std::int64_t now, int i) {
    static int made = 0;  // tokens are unique per desk
    store::NewTicket n;
    n.token = "t" + std::to_string(1000000000 + ++made);
    n.subject = "ticket " + std::to_string(i);
    n.created_at = now;
    return store::Tickets(db).create(n).id;
}

// With several SMTP sessions the mails of one ticket still leave one after the other, in the
// order they were queued (they share a lane); all of them arrive once, over more than one
// session, and over no more than smtp.connections.
TEST_F(Sender, SeveralConnectionsKeepEachTicketsMailsInOrder) {
    for (int connections : {2, 3}) {
        SmtpSink sink;
        std::vector<std::int64_t> tickets;
        for (int t = 0; t < 5; ++t) tickets.push_back(make_ticket(*db_, now_, t));
        // Interleaved as a busy desk queues them: ticket 0, 1, 2, 3, 4, 0, 1, ...
        std::map<std::string, std::int64_t> ticket_of;
        std::map<std::int64_t, std::vector<std::string>> queued;
        for (int i = 0; i < 45; ++i) {
            const auto t = tickets[static_cast<std::size_t>(i) % tickets.size()];
            const auto id = enqueue(1, "ann@example.org", t).at(0);
            ticket_of[id] = t;
            queued[t].push_back(id);
        }
        daemon::SenderOptions o;
        o.batch = 16;  // several batches, so several passes
        auto stats = flush(with_url(sink.url(), connections), o);
        EXPECT_EQ(stats.sent, 45) << connections;
        EXPECT_GE(stats.connections, 2) << connections;
        EXPECT_LE(stats.connections, connections) << connections;
        std::map<std::int64_t, std::vector<std::string>> arrived;
        std::multiset<std::string> all;
        for (const auto& r : sink.messages()) {
            const auto id = parse(r).message_id;
            all.insert(id);
            arrived[ticket_of[id]].push_back(id);
        }
        EXPECT_EQ(all.size(), 45u) << connections;
        for (const auto& id : all) EXPECT_EQ(all.count(id), 1u) << id;
        for (const auto& [t, ids] : queued) EXPECT_EQ(arrived[t], ids) << "ticket " << t << ", " << connections;
        EXPECT_TRUE(store::Outbox(*db_).due(now_, 10).empty()) << connections;
    }
}

// The crash bound with several sessions: a crash after one mail's 250 and before its commit
// resends at most one mail per session (each lane has at most one accepted mail not yet
// committed), each once and with the same Message-ID; the crashed one certainly.
TEST_F(Sender, CrashWithSeveralConnectionsResendsAtMostOneMailPerConnectionOnce) {
    for (int connections : {2, 3}) {
        SmtpSink sink;
        auto ids = enqueue(30);
        const std::string victim = ids.at(12);
        daemon::SenderOptions crash;
        crash.before_commit = [&](const store::OutboxMail& m) {
            if (m.message_id == victim) throw std::runtime_error("simulated crash before commit");
        };
        auto first = flush(with_url(sink.url(), connections), crash);
        EXPECT_LT(first.sent, 30) << connections;
        auto second = flush(with_url(sink.url(), connections));  // the restart
        EXPECT_EQ(first.sent + second.sent, 30) << connections;
        EXPECT_EQ(flush(with_url(sink.url(), connections)).sent, 0) << connections;  // never a third time
        EXPECT_TRUE(store::Outbox(*db_).due(now_, 10).empty()) << connections;
        auto got = ids_in(sink.messages());
        int twice = 0;
        for (const auto& id : ids) {
            EXPECT_GE(got.count(id), 1u) << id;  // nothing lost
            EXPECT_LE(got.count(id), 2u) << id;  // nothing more than once again
            if (got.count(id) == 2) ++twice;
        }
        EXPECT_EQ(got.count(victim), 2u) << connections;
        EXPECT_GE(twice, 1) << connections;
        EXPECT_LE(twice, connections) << connections;
        EXPECT_EQ(got.size(), ids.size() + static_cast<std::size_t>(twice)) << connections;
        for (const auto& id : got) EXPECT_NE(std::find(ids.begin(), ids.end(), id), ids.end()) << id;
    }
}

TEST_F(Sender, PermanentRefusalIsFailedOnTheTicketAndNotRetried) {
    SmtpSink sink;
    store::NewTicket n;
    n.token = "0123456789";
    n.subject = "s";
    n.created_at = now_;
    auto t = store::Tickets(*db_).create(n);
    enqueue(1, "@");  // aiosmtpd answers 553 5.1.3 malformed address
    {
        store::Transaction tx(*db_);
        db_->prepare("UPDATE outbox SET ticket = ?").bind(1, t.id).run();
        tx.commit();
    }
    auto good = enqueue(1);
    auto stats = flush(with_url(sink.url()));
    EXPECT_EQ(stats.failed, 1);
    EXPECT_EQ(stats.sent, 1);
    auto failed = store::Outbox(*db_).list(store::OutboxState::failed);
    ASSERT_EQ(failed.size(), 1u);
    EXPECT_NE(failed[0].last_error.find("553"), std::string::npos) << failed[0].last_error;
    bool recorded = false;
    for (const auto& e : store::Events(*db_).for_ticket(t.id))
        if (e.kind == "outbox.failed" && e.detail.find("553") != std::string::npos) recorded = true;
    EXPECT_TRUE(recorded);
    now_ += 100000;
    EXPECT_EQ(flush(with_url(sink.url())).failed, 0);  // failed is final until `outbox retry`
}

TEST_F(Sender, GivesUpAfterGiveUpAfter) {
    const std::string dead = "smtp://127.0.0.1:" + std::to_string(support::free_port()) + "/client.example";
    auto c = std::make_shared<config::Config>(*with_url(dead));
    c->smtp->give_up_after = std::chrono::hours(2);
    enqueue(1);
    for (int i = 0; i < 20; ++i) {
        flush(c);
        now_ += 1800;
    }
    auto failed = store::Outbox(*db_).list(store::OutboxState::failed);
    ASSERT_EQ(failed.size(), 1u);
    EXPECT_NE(failed[0].last_error.find("gave up after"), std::string::npos) << failed[0].last_error;
}

// ---------------------------------------------------------------- the ticketd binary, end to end

class Desk : public support::LiveDesk {
protected:
    void SetUp() override {
        start({"    after_ingest: move\n", "auto_reply:\n  max_per_sender_per_hour: 3\n"});
    }
};

TEST_F(Desk, RequesterMailBecomesATicketAndAnAcknowledgement) {
    imap_->deliver(
        "From: =?UTF-8?Q?Zo=C3=AB_M=C3=BCller?= <zoe@customer.example>\r\n"
        "To: ACME Support <support@acme.example>\r\n"
        "Subject: =?UTF-8?Q?Drucker_brennt_=E2=80=93_bitte_helfen?=\r\n"
        "Message-ID: <first@customer.example>\r\n"
        "Date: Tue, 01 Dec 2026 10:00:00 +0100\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nEr brennt.\r\n");
    imap_->deliver(
        "From: Vacation <bob@customer.example>\r\nTo: support@acme.example\r\n"
        "Subject: Out of office\r\nMessage-ID: <ooo@customer.example>\r\nAuto-Submitted: auto-replied\r\n\r\n"
        "I am away.\r\n");
    imap_->deliver(
        "From: Dev List <dev@lists.example>\r\nTo: support@acme.example\r\nSubject: [dev] weekly digest\r\n"
        "Message-ID: <digest@lists.example>\r\nList-Id: <dev.lists.example>\r\nPrecedence: list\r\n\r\n"
        "Digest.\r\n");
    auto run = ticketd({"run", "--once"});
    ASSERT_EQ(run.exit_code, 0) << run.err;

    auto sent = sink_->messages();
    ASSERT_EQ(sent.size(), 1u) << run.err;  // only the human gets an acknowledgement
    const std::string& raw = sent[0];
    auto m = parse(raw);

    store::Database db((dir_ / "desk.db").string());
    auto t = store::Tickets(db).by_number(1001);
    ASSERT_TRUE(t);
    const std::string tag = tickets::format_subject_tag("ACME", t->number, t->token);
    // Header by header.
    EXPECT_EQ(m.subject, tag + " Re: Drucker brennt – bitte helfen");
    ASSERT_EQ(m.from.size(), 1u);
    EXPECT_EQ(m.from[0].name, "ACME Support");
    EXPECT_EQ(m.from[0].address, "support@acme.example");
    ASSERT_EQ(m.to.size(), 1u);
    EXPECT_EQ(m.to[0].name, "Zoë Müller");
    EXPECT_EQ(m.to[0].address, "zoe@customer.example");
    ASSERT_EQ(m.reply_to.size(), 1u);
    EXPECT_EQ(m.reply_to[0].address, "support@acme.example");
    EXPECT_EQ(m.message_id, tickets::make_message_id(t->number, t->token, 1, "acme.example"));
    EXPECT_EQ(m.in_reply_to, std::vector<std::string>{"first@customer.example"});
    EXPECT_EQ(m.references, std::vector<std::string>{"first@customer.example"});
    EXPECT_TRUE(m.date);
    EXPECT_EQ(header(m, "Auto-Submitted"), "auto-replied");
    EXPECT_EQ(header(m, "X-Auto-Response-Suppress"), "All");
    EXPECT_EQ(header(m, "MIME-Version"), "1.0");
    EXPECT_EQ(header(m, "X-MailFrom"), "support@acme.example");  // the envelope, as the sink saw it
    EXPECT_EQ(header(m, "X-RcptTo"), "zoe@customer.example");
    EXPECT_NE(m.body.find("#1001"), std::string::npos);
    EXPECT_FALSE(m.body_html.empty());

    // The CLI shows it as sent; a second cycle sends nothing again.
    auto list = ticketd({"outbox", "list", "--json"});
    ASSERT_EQ(list.exit_code, 0) << list.err;
    EXPECT_NE(list.out.find("\"state\": \"sent\""), std::string::npos) << list.out;
    EXPECT_NE(list.out.find("\"ticket\": 1001"), std::string::npos) << list.out;
    ASSERT_EQ(ticketd({"run", "--once"}).exit_code, 0);
    EXPECT_EQ(sink_->messages().size(), 1u);

    // The requester answers the acknowledgement: it threads by In-Reply-To, and gets none.
    imap_->deliver("From: zoe@customer.example\r\nTo: support@acme.example\r\nSubject: Re: " + m.subject +
                   "\r\nMessage-ID: <second@customer.example>\r\nIn-Reply-To: <" + m.message_id +
                   ">\r\n\r\nStill burning.\r\n");
    ASSERT_EQ(ticketd({"run", "--once"}).exit_code, 0);
    EXPECT_EQ(sink_->messages().size(), 1u);
    auto show = ticketd({"tickets", "show", "1001", "--json"});
    EXPECT_NE(show.out.find("Still burning."), std::string::npos) << show.out;
}

TEST_F(Desk, TwoDesksWritingToEachOtherStopAtOnce) {
    // Desk B is a second ticketd whose support address writes to desk A. A acknowledges B's
    // mail; B files A's acknowledgement (Auto-Submitted) and answers nothing: one mail in all.
    TempDir b;
    fs::copy(support::source_dir() / "config/templates", b.path() / "templates");
    write_file(b.path() / "ticketd.yaml",
               "desk: {name: Other Desk, addresses: [help@other.example], subject_tag: OTHER, database: b.db}\n"
               "smtp: {url: '" + sink_->url() + "', require_starttls: false}\n");
    imap_->deliver("From: Other Desk <help@other.example>\r\nTo: support@acme.example\r\n"
                   "Subject: [OTHER #1001 abcdef0123] Your order\r\nMessage-ID: <1001.abcdef0123.r1@other.example>\r\n\r\n"
                   "We opened a ticket for you.\r\n");
    ASSERT_EQ(ticketd({"run", "--once"}).exit_code, 0);
    auto sent = sink_->messages();
    ASSERT_EQ(sent.size(), 1u);
    // Deliver A's acknowledgement to desk B, and let B run.
    auto in_b = support::run_program({support::ticketd_binary().string(), "ingest", "-", "--config",
                                      (b.path() / "ticketd.yaml").string()},
                                     sent[0]);
    ASSERT_EQ(in_b.exit_code, 0) << in_b.err;
    auto run_b = support::run_program(
        {support::ticketd_binary().string(), "run", "--once", "--config", (b.path() / "ticketd.yaml").string()});
    ASSERT_EQ(run_b.exit_code, 0) << run_b.err;
    EXPECT_EQ(sink_->messages().size(), 1u);  // B sent nothing back: the loop never started
}

TEST_F(Desk, CheckReportsABrokenTemplateWithItsFile) {
    write_file(dir_ / "templates" / "acknowledgement.txt", "Subject: {{ticket.tag}}\n\n{{#ticket}}\n");
    auto r = ticketd({"check"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find((dir_ / "templates" / "acknowledgement.txt").string()), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("template syntax"), std::string::npos) << r.err;
}

TEST_F(Desk, OnceExitsTemporaryWhileTheSmtpServerIsDownAndSendsWhenItIsBack) {
    // For cron, mail that had to wait is a temporary failure (75), like an unreachable mailbox.
    const std::string yaml = support::read_file(dir_ / "ticketd.yaml");
    const std::string dead = "smtp://127.0.0.1:" + std::to_string(support::free_port()) + "/desk.acme.example";
    std::string down = yaml;
    down.replace(down.find(sink_->url("desk.acme.example")), sink_->url("desk.acme.example").size(), dead);
    write_file(dir_ / "ticketd.yaml", down);
    imap_->deliver("From: ann@customer.example\r\nTo: support@acme.example\r\nSubject: Help\r\n"
                   "Message-ID: <down@customer.example>\r\n\r\nPlease.\r\n");
    auto run = ticketd({"run", "--once"});
    EXPECT_EQ(run.exit_code, 75) << run.err;
    {
        store::Database db((dir_ / "desk.db").string());
        EXPECT_EQ(store::Tickets(db).list({}).size(), 1u);  // the ticket is there all the same
        EXPECT_EQ(store::Outbox(db).count(store::OutboxState::queued), 1);
    }
    EXPECT_TRUE(sink_->messages().empty());

    // Back: due again at once (instead of after the backoff), sent once, exit 0.
    write_file(dir_ / "ticketd.yaml", yaml);
    ASSERT_EQ(ticketd({"outbox", "retry", "1"}).exit_code, 0);
    run = ticketd({"run", "--once"});
    EXPECT_EQ(run.exit_code, 0) << run.err;
    EXPECT_EQ(sink_->messages().size(), 1u);
    EXPECT_EQ(ticketd({"run", "--once"}).exit_code, 0);
    EXPECT_EQ(sink_->messages().size(), 1u);
}

}  // namespace
