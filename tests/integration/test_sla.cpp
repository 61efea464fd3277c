// SLA reminders end to end (issue 6): `ticketd ingest` opens a ticket under a policy of seconds
// on a 24x7 calendar; `ticketd run` (no mailbox, the real SMTP sink) arms its one SLA timer, and
// the 50% reminder reaches the sink exactly once: not again while the daemon runs on past the
// deadline, and not again after a restart.

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "store/database.h"
#include "store/sla.h"
#include "store/tickets.h"
#include "tests/support/dovecot.h"
#include "tests/support/desk.h"
#include "tests/support/paths.h"
#include "tests/support/process.h"
#include "tests/support/smtp_sink.h"

namespace fs = std::filesystem;
using namespace std::chrono_literals;
namespace support = ticketd::testing;

namespace {

std::size_t reminders(const std::vector<std::string>& mails) {
    std::size_t n = 0;
    for (const auto& m : mails) n += m.find("SLA first response due") != std::string::npos;
    return n;
}

class SlaEndToEnd : public ::testing::Test {
protected:
    void SetUp() override {
        if (!support::SmtpSink::available()) GTEST_SKIP() << support::SmtpSink::why_unavailable();
        sink_ = std::make_unique<support::SmtpSink>();
        support::write_file(dir_ / "sla.yaml",
                            "calendars:\n"
                            "  always: {time_zone: UTC, hours: 24x7}\n"
                            "policies:\n"
                            "  - name: fast\n"
                            "    calendar: always\n"
                            "    first_response: 12s\n"
                            "    reminders:\n"
                            "      - {at: 50%, to: [lead@acme.example]}\n");
        support::write_desk(dir_.path(), nullptr, *sink_, {"", "auto_reply:\n  enabled: false\nsla: sla.yaml\n"});
    }

    void TearDown() override {
        if (pid_ > 0) support::stop_process(pid_);
    }

    support::RunResult ticketd(std::vector<std::string> args, const std::string& input = "") {
        args.insert(args.begin(), support::ticketd_binary().string());
        args.push_back("--config");
        args.push_back((dir_ / "ticketd.yaml").string());
        return support::run_program(args, input);
    }

    void start() {
        pid_ = support::spawn_logged({support::ticketd_binary().string(), "run", "--config",
                                      (dir_ / "ticketd.yaml").string()},
                                     dir_ / "daemon.log");
    }

    /// Waits (not a timed assertion: a generous bound on a loaded machine) until `n` reminders
    /// reached the sink.
    bool wait_for_reminders(std::size_t n, std::chrono::seconds bound) {
        const auto until = std::chrono::steady_clock::now() + bound;
        while (std::chrono::steady_clock::now() < until) {
            if (reminders(sink_->messages()) >= n) return true;
            std::this_thread::sleep_for(200ms);
        }
        return false;
    }

    support::TempDir dir_;
    std::unique_ptr<support::SmtpSink> sink_;
    pid_t pid_ = -1;
};

TEST_F(SlaEndToEnd, TheReminderReachesTheSinkExactlyOnce) {
    auto check = ticketd({"check"});
    ASSERT_EQ(check.exit_code, 0) << check.out << check.err;
    auto in = ticketd({"ingest", "-"}, "From: Ann <ann@example.org>\r\nTo: support@acme.example\r\n"
                                        "Subject: Printer on fire\r\nMessage-ID: <p1@example.org>\r\n\r\nHelp\r\n");
    ASSERT_EQ(in.exit_code, 0) << in.err;
    {
        ticketd::store::Database db((dir_ / "desk.db").string());
        auto t = ticketd::store::Tickets(db).by_number(1001);
        ASSERT_TRUE(t);
        ASSERT_EQ(ticketd::store::SlaStore(db).clocks(t->id).size(), 1u);
    }
    start();
    ASSERT_TRUE(wait_for_reminders(1, 60s)) << support::read_file(dir_ / "daemon.log");
    const auto mails = sink_->messages();
    std::string reminder;
    for (const auto& m : mails)
        if (m.find("SLA first response due") != std::string::npos) reminder = m;
    EXPECT_NE(reminder.find("lead@acme.example"), std::string::npos) << reminder;
    EXPECT_NE(reminder.find("Auto-Submitted: auto-generated"), std::string::npos) << reminder;

    // Past the deadline (12 s after the ticket) the target is breached; no reminder watches the
    // breach, so nothing more is mailed, and the 50% one is not repeated.
    {
        ticketd::store::Database db((dir_ / "desk.db").string());
        const auto t = *ticketd::store::Tickets(db).by_number(1001);
        const auto due = *ticketd::store::SlaStore(db).clocks(t.id)[0].due_at;
        while (db.now() <= due + 2) std::this_thread::sleep_for(250ms);
        EXPECT_FALSE(ticketd::store::SlaStore(db).ticket(t.id)->next_wakeup);  // nothing left to wait for
    }
    support::stop_process(pid_);
    pid_ = -1;
    EXPECT_EQ(reminders(sink_->messages()), 1u);

    // A restart finds the reminder's key: nothing again.
    auto once = ticketd({"run", "--once"});
    ASSERT_EQ(once.exit_code, 0) << once.err;
    EXPECT_EQ(reminders(sink_->messages()), 1u);
    const std::string log = support::read_file(dir_ / "daemon.log");
    EXPECT_NE(log.find("event=sla.fired"), std::string::npos) << log;
}

}  // namespace
