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
// (Soak.*, tests/soak/), clock jumps (the injectable clock's unit tests: OutboxTest.AClockPutBack...,
// OutboxTest.MailStampedInTheFuture...; libfaketime could not be used: under it Asio's timerfd
// never fires and `run --once` hangs before its first poll). The accounting helpers are shared in
// tests/support/accounting.h.

#include <gtest/gtest.h>

#include <sqlite3.h>

#include <chrono>
#include <map>
#include <set>
#include <string>
#include <thread>

#include "store/database.h"
#include "tests/support/accounting.h"
#include "tests/support/desk.h"
#include "tests/support/dovecot.h"
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

std::string request(int i, std::size_t body_bytes = 200) {
    std::string m = "From: Requester " + std::to_string(i) + " <user" + std::to_string(i) +
                    "@customer.example>\r\nTo: support@acme.example\r\nSubject: Fault case " +
                    std::to_string(i) + "\r\nDate: Mon, 30 Nov 2026 09:00:00 +0000\r\n"
                    "Message-ID: <fault-" + std::to_string(i) + "@customer.example>\r\n"
                    "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n";
    std::string line = "Line of message " + std::to_string(i) + ": the printer is on fire again.\r\n";
    while (m.size() < body_bytes) m += line;
    return m;
}

class FaultMatrix : public ::testing::Test {
protected:
    void SetUp() override {
        if (!DovecotServer::available()) GTEST_SKIP() << DovecotServer::why_unavailable();
        if (!SmtpSink::available()) GTEST_SKIP() << SmtpSink::why_unavailable();
        imap_ = std::make_unique<DovecotServer>();
        sink_ = std::make_unique<SmtpSink>();
        support::write_desk(dir_.path(), imap_.get(), *sink_,
                            {"    after_ingest: move\n    batch_size: 10\n",
                             "auto_reply:\n  max_per_sender_per_hour: 100\n"});
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

    void deliver(int from, int to, std::size_t body_bytes = 200) {
        for (int i = from; i < to; ++i) {
            imap_->deliver(request(i, body_bytes));
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

    TempDir dir_;
    std::unique_ptr<DovecotServer> imap_;
    std::unique_ptr<SmtpSink> sink_;
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

}  // namespace
