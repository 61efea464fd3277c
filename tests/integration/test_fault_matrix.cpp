// The fault matrix (issue 8): faults a desk meets in production, each against the real dovecot
// and SMTP sink, each ending with a full accounting: every message delivered to the mailbox is
// exactly one message row on a ticket, nothing is left pending, the mailbox is emptied only of
// what was stored, and every outbox row was sent exactly once (counted at the sink by Message-ID)
// or is visibly queued/failed.
//
// The other rows of the matrix live next to the code they exercise (docs/security.md, "Fault
// matrix", lists them all): dovecot killed mid-fetch (PollerTest.SurvivesDovecotKilledAndRestarted),
// SMTP down for minutes (Sender.ServerDownForAWhile..., Desk.OnceExitsTemporaryWhileTheSmtp...),
// SIGKILL at every named stage (EveryStage/CrashPoints.*, test_crash_points.cpp: TICKETD_CRASH_AT
// at each of daemon/crash_points.h's points, then a clean run and this same accounting), SIGKILL at
// random moments (Daemon.SigkillAtRandom..., CrashKill.*), a broken rules file on reload
// (RulesReload.*, Daemon.SighupWithABrokenConfig...), a long outage's backlog
// (PollerTest.ThousandMessagesOverParallelConnections), a steady mixed load for 30 minutes
// (Soak.*, tests/soak/). Clock jumps are here (ClockJumps...), with the injectable clock's unit
// tests beside the code (OutboxTest.AClockPutBack..., OutboxTest.MailStampedInTheFuture...). The
// accounting helpers are shared in tests/support/accounting.h.

#include <gtest/gtest.h>

#include <sqlite3.h>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <thread>

#include "store/database.h"
#include "tests/support/accounting.h"
#include "tests/support/desk.h"
#include "tests/support/dovecot.h"
#include "tests/support/live_desk.h"
#include "tests/support/paths.h"
#include "tests/support/process.h"
#include "tests/support/smtp_sink.h"

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using ticketd::testing::DovecotServer;
using ticketd::testing::message_id_of;
using ticketd::testing::SmtpSink;
using ticketd::testing::TempDir;
using ticketd::testing::write_file;
namespace support = ticketd::testing;

namespace {

/// Request number `i`, from requester `sender` (by default its own, `i`).
std::string request(int i, std::size_t body_bytes = 200, int sender = -1) {
    if (sender < 0) sender = i;
    std::string m = "From: Requester " + std::to_string(sender) + " <user" + std::to_string(sender) +
                    "@customer.example>\r\nTo: support@acme.example\r\nSubject: Fault case " +
                    std::to_string(i) + "\r\nDate: Mon, 30 Nov 2026 09:00:00 +0000\r\n"
                    "Message-ID: <fault-" + std::to_string(i) + "@customer.example>\r\n"
                    "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n";
    std::string line = "Line of message " + std::to_string(i) + ": the printer is on fire again.\r\n";
    while (m.size() < body_bytes) m += line;
    return m;
}

class FaultMatrix : public support::LiveDesk {
protected:
    void SetUp() override {
        start({"    after_ingest: move\n    batch_size: 10\n", "auto_reply:\n  max_per_sender_per_hour: 100\n"});
    }

    std::string config() const { return (dir_ / "ticketd.yaml").string(); }
    std::string db_path() const { return (dir_ / "desk.db").string(); }

    /// One `run --once`, killed after two minutes should a fault make it hang (a hang is a
    /// failure of its own: exit_code -1).
    support::RunResult run_once() {
        return support::run_program({support::which("timeout"), "-s", "KILL", "120",
                                     support::ticketd_binary().string(), "run", "--once", "--config", config()});
    }

    std::size_t count(const std::string& folder) {
        try {
            return imap_->count(folder);
        } catch (const std::exception&) {
            return 0;  // the Processed folder does not exist before the first move
        }
    }

    /// Requests `from` to `to`; with `senders` > 0 they come from requesters i % senders.
    void deliver(int from, int to, std::size_t body_bytes = 200, int senders = 0) {
        for (int i = from; i < to; ++i) {
            imap_->deliver(request(i, body_bytes, senders > 0 ? i % senders : -1));
            delivered_.insert("fault-" + std::to_string(i) + "@customer.example");
        }
    }

    /// The accounting every case ends with.
    void expect_everything_accounted_for() {
        ticketd::store::OpenOptions o;
        o.create = false;
        ticketd::store::Database db(db_path(), o);
        std::map<std::string, std::int64_t> rows;
        auto st = db.prepare("SELECT message_id, COUNT(*) FROM messages WHERE direction = 'in' GROUP BY message_id");
        while (st.step()) rows[st.text(0)] = st.int64(1);
        for (const auto& id : delivered_) EXPECT_EQ(rows[id], 1) << "message <" << id << "> rows";
        EXPECT_EQ(rows.size(), delivered_.size()) << "message rows for mail nobody delivered";

        auto pending = db.prepare("SELECT COUNT(*) FROM inbox WHERE state <> 'done'");
        ASSERT_TRUE(pending.step());
        EXPECT_EQ(pending.int64(0), 0) << "inbox entries pending or quarantined";
        EXPECT_EQ(count("INBOX"), 0u);
        EXPECT_EQ(count("Processed"), delivered_.size());

        // Every outbox row: sent, and seen exactly once at the sink.
        std::map<std::string, int> at_sink;
        for (const auto& raw : sink_->messages()) ++at_sink[message_id_of(raw)];
        auto ob = db.prepare("SELECT message_id, state FROM outbox");
        std::size_t outbox_rows = 0;
        while (ob.step()) {
            ++outbox_rows;
            EXPECT_EQ(ob.text(1), "sent") << ob.text(0);
            EXPECT_EQ(at_sink[ob.text(0)], 1) << "copies of <" << ob.text(0) << "> at the sink";
        }
        EXPECT_EQ(outbox_rows, delivered_.size());  // one acknowledgement per new ticket
        EXPECT_EQ(sink_->messages().size(), outbox_rows);
    }

    std::set<std::string> delivered_;
};

TEST_F(FaultMatrix, DatabaseLockedByAnotherProcessIsTemporaryAndLosesNothing) {
    ASSERT_EQ(run_once().exit_code, 0);  // creates the desk
    deliver(0, 20);

    // Another process (an admin's sqlite3 shell, a backup tool) holds the write lock longer than
    // ticketd's busy timeout.
    sqlite3* other = nullptr;
    ASSERT_EQ(sqlite3_open(db_path().c_str(), &other), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(other, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr), SQLITE_OK);
    auto locked = run_once();
    EXPECT_EQ(locked.exit_code, 75) << locked.err;  // EX_TEMPFAIL: cron tries again
    // Nothing was stored, so nothing may have left the mailbox.
    EXPECT_EQ(count("INBOX"), 20u);
    sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
    sqlite3_close(other);

    auto after = run_once();
    EXPECT_EQ(after.exit_code, 0) << after.err;
    expect_everything_accounted_for();
}

TEST_F(FaultMatrix, DiskFullMidIngestThenSpaceReturnsLosesNothingAndDuplicatesNothing) {
    if (!support::have("bash")) GTEST_SKIP() << "bash is needed to set the file size limit";
    ASSERT_EQ(run_once().exit_code, 0);  // creates the desk
    deliver(0, 40, 24 * 1024);           // ~1 MB of mail

    // The database cannot grow more than ~256 KB: writes past it fail the way a full disk does
    // (RLIMIT_FSIZE: EFBIG, with SIGXFSZ ignored so the write fails instead of killing us).
    const auto limit_kb = static_cast<long>(fs::file_size(db_path()) / 1024 + 256);
    auto full = support::run_program({support::which("bash"), "-c",
                                      "ulimit -f " + std::to_string(limit_kb) + "; trap '' XFSZ; exec \"$@\"", "_",
                                      support::ticketd_binary().string(), "run", "--once", "--config", config()});
    EXPECT_NE(full.exit_code, 0) << full.err;
    EXPECT_NE(full.exit_code, -1) << "killed by a signal instead of reporting the error: " << full.err;
    // Some mail may have been stored before the disk filled; what was not is still on the server.
    EXPECT_GT(count("INBOX"), 0u) << full.err;

    auto after = run_once();
    EXPECT_EQ(after.exit_code, 0) << after.err;
    expect_everything_accounted_for();
}

// The wall clock steps while the daemon runs (NTP correcting a badly set clock, a VM resumed from
// a snapshot): forward three days, then back two days behind where it started. Only the daemon's
// wall clock moves (tests/support/fake_wall_clock.c, preloaded; CLOCK_MONOTONIC, which Asio's
// timers use, is untouched as in a real step), read from a file the test rewrites.
//
// The acknowledgement limit is one per requester per hour, and requesters write again after each
// jump, so the acknowledgements show which clock the daemon saw: after the jump forward the first
// ones are three days old and no longer count; after the jump back the second ones lie in the
// future and must not count either (or one jump would silence a requester until the clock caught
// up). While the clock is ahead the SMTP server is unreachable, so some acknowledgements are
// deferred to a retry time three days ahead of the clock they are sent under after the jump back:
// they must go at once, not in three days. Nothing may wait for the clock to catch up; the run
// ends with the full accounting.
TEST_F(FaultMatrix, ClockJumpsForwardAndBackWhileRunningLoseAndDelayNothing) {
    const fs::path preload = TICKETD_FAKE_WALL_CLOCK;
    ASSERT_TRUE(fs::exists(preload)) << preload;
    support::write_desk(dir_.path(), imap_.get(), *sink_,
                        {"    after_ingest: move\n    batch_size: 10\n    poll_interval: 1s\n",
                         "auto_reply:\n  max_per_sender_per_hour: 1\n"});
    const std::string good_config = support::read_file(config());
    const fs::path offset = dir_ / "clock-offset";
    const fs::path log = dir_ / "daemon.log";
    write_file(offset, "0\n");
    const pid_t daemon = support::spawn_logged(
        {support::ticketd_binary().string(), "run", "--config", config()}, log,
        {"LD_PRELOAD=" + preload.string(), "TICKETD_FAKE_CLOCK_OFFSET_FILE=" + offset.string()});
    ASSERT_GT(daemon, 0);

    // Polls `done` every 100 ms for up to a minute; a phase stalled by the clock fails here.
    auto within_a_minute = [](const std::function<bool()>& done) {
        for (int i = 0; i < 600 && !done(); ++i) std::this_thread::sleep_for(100ms);
        return done();
    };
    auto sink_reaches = [&](std::size_t n) {
        return within_a_minute([&] { return sink_->messages().size() >= n; });
    };
    auto log_lines_with = [&](const std::string& what) {
        const std::string text = support::read_file(log);
        std::size_t n = 0;
        for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
        return n;
    };
    // Saving the config reloads it (the daemon watches the file); waits for the reload.
    auto switch_config = [&](const std::string& text) {
        const auto before = log_lines_with("event=config.reloaded");
        write_file(config(), text);
        return within_a_minute([&] { return log_lines_with("event=config.reloaded") > before; });
    };
    auto deferred_acknowledgements = [&] {
        ticketd::store::OpenOptions o;
        o.create = false;
        ticketd::store::Database db(db_path(), o);
        auto st = db.prepare("SELECT COUNT(*) FROM outbox WHERE state = 'queued' AND attempts > 0");
        return st.step() ? st.int64(0) : 0;
    };
    constexpr std::int64_t kDay = 86400;
    const std::int64_t real_start = std::chrono::duration_cast<std::chrono::seconds>(
                                        std::chrono::system_clock::now().time_since_epoch()).count();

    deliver(0, 10, 200, 10);  // requesters 0-9
    EXPECT_TRUE(sink_reaches(10)) << "before any jump\n" << support::read_file(log);

    write_file(offset, std::to_string(3 * kDay) + "\n");
    deliver(10, 20, 200, 10);  // requesters 0-9 again, three days later by the daemon's clock
    EXPECT_TRUE(sink_reaches(20)) << "after the jump forward\n" << support::read_file(log);

    // The SMTP server becomes unreachable; five new requesters' acknowledgements are deferred.
    std::string dead_config = good_config;
    const std::string sink_url = sink_->url("desk.acme.example");
    const auto url_at = dead_config.find(sink_url);
    ASSERT_NE(url_at, std::string::npos) << good_config;
    dead_config.replace(url_at, sink_url.size(),
                        "smtp://127.0.0.1:" + std::to_string(support::free_port()) + "/desk.acme.example");
    ASSERT_TRUE(switch_config(dead_config)) << support::read_file(log);
    deliver(20, 25);  // requesters 20-24
    EXPECT_TRUE(within_a_minute([&] { return deferred_acknowledgements() == 5; })) << support::read_file(log);

    // Back two days behind the start, and the server is back.
    write_file(offset, std::to_string(-2 * kDay) + "\n");
    ASSERT_TRUE(switch_config(good_config)) << support::read_file(log);
    deliver(25, 35, 200, 10);  // requesters 0-9 a third time: their last acknowledgement is "ahead"
    EXPECT_TRUE(sink_reaches(35)) << "after the jump back\n" << support::read_file(log);

    support::stop_process(daemon);
    expect_everything_accounted_for();

    // The daemon really ran on the moved clock: each phase's tickets carry that phase's time.
    ticketd::store::OpenOptions o;
    o.create = false;
    ticketd::store::Database db(db_path(), o);
    auto st = db.prepare(
        "SELECT m.message_id, t.created_at FROM messages m JOIN tickets t ON t.id = m.ticket "
        "WHERE m.direction = 'in'");
    int seen = 0;
    while (st.step()) {
        const std::string id = st.text(0);
        const int i = std::stoi(id.substr(std::string("fault-").size()));
        const std::int64_t shift = st.int64(1) - real_start;
        if (i < 10) EXPECT_LT(std::abs(shift), kDay / 2) << id;
        else if (i < 25) EXPECT_GT(shift, 2 * kDay) << id;
        else EXPECT_LT(shift, -kDay) << id;
        ++seen;
    }
    EXPECT_EQ(seen, 35);
}
// A relay slow to accept: content filters make real relays take seconds (or, broken, minutes) to
// answer the end of a mail's data, and libcurl waits for that answer with a blocking poll inside
// the transfer. The daemon sends on a thread of its own, so while it waits, mail keeps being
// polled and filed (and the watchdog keeps being fed). Here the sink holds its answer until the
// test releases it: five requests delivered meanwhile must all become tickets first.
TEST_F(FaultMatrix, ARelaySlowToAcceptHoldsUpNeitherPollingNorFiling) {
    sink_ = std::make_unique<SmtpSink>(/*hold_data_answers=*/true);
    support::write_desk(dir_.path(), imap_.get(), *sink_,
                        {"    after_ingest: move\n    batch_size: 10\n    poll_interval: 1s\n",
                         "auto_reply:\n  max_per_sender_per_hour: 100\n"});
    const fs::path log = dir_ / "daemon.log";
    const pid_t daemon = support::spawn_logged({support::ticketd_binary().string(), "run", "--config", config()}, log);
    ASSERT_GT(daemon, 0);
    auto within_a_minute = [](const std::function<bool()>& done) {
        for (int i = 0; i < 600 && !done(); ++i) std::this_thread::sleep_for(100ms);
        return done();
    };
    auto tickets = [&] {
        if (!fs::exists(db_path())) return std::int64_t{0};
        ticketd::store::OpenOptions o;
        o.create = false;
        ticketd::store::Database db(db_path(), o);
        auto st = db.prepare("SELECT COUNT(*) FROM tickets");
        return st.step() ? st.int64(0) : 0;
    };

    deliver(0, 1);
    ASSERT_TRUE(within_a_minute([&] { return sink_->held() >= 1; }))
        << "the first acknowledgement never reached the sink\n" << support::read_file(log);
    deliver(1, 6);
    EXPECT_TRUE(within_a_minute([&] { return tickets() == 6; }))
        << "mail was not filed while the relay held its answer\n" << support::read_file(log);
    EXPECT_TRUE(sink_->messages().empty()) << "the sink answered before it was released";

    sink_->release();
    EXPECT_TRUE(within_a_minute([&] { return sink_->messages().size() >= 6; })) << support::read_file(log);
    support::stop_process(daemon);
    expect_everything_accounted_for();
}

}  // namespace
