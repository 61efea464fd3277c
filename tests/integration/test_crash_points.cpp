// SIGKILL at every named stage (issue 8, fault matrix): for each crash point of
// daemon/crash_points.h, `ticketd run --once` with TICKETD_CRASH_AT set must die by SIGKILL at
// that point (its marker on stderr proves where), the next `run --once` without it must exit 0,
// and the desk must then account for everything against the real dovecot and SMTP sink:
//   - every delivered mail is exactly one inbound message row, nothing pending or quarantined,
//     the mailbox emptied into Processed;
//   - every outbox row is sent and reached the sink exactly once by Message-ID; the one
//     documented exception is smtp.accepted (the server said 250, the process died before the
//     `sent` commit): that mail is sent again, once, with the same Message-ID.
// Every case drives the same desk through every stage: 2 mails by `ticketd ingest` whose SLA
// reminder falls due before the run, 6 mails in IMAP (batch_size 2: three batches, so ":2"
// kills mid-backlog), a daily report digest due at once.

#include <gtest/gtest.h>

#include <signal.h>

#include <chrono>
#include <ctime>
#include <memory>
#include <set>
#include <string>
#include <thread>

#include "config/config.h"
#include "tests/support/accounting.h"
#include "tests/support/desk.h"
#include "tests/support/dovecot.h"
#include "tests/support/live_desk.h"
#include "tests/support/paths.h"
#include "tests/support/process.h"
#include "tests/support/smtp_sink.h"

namespace {

namespace support = ticketd::testing;
using namespace std::chrono_literals;
using support::DovecotServer;
using support::SmtpSink;

constexpr int kImapMails = 6;
constexpr int kIngested = 2;

std::string request(const std::string& id, int i) {
    return "From: Requester " + std::to_string(i) + " <user" + std::to_string(i) +
           "@customer.example>\r\nTo: support@acme.example\r\nSubject: Crash case " + std::to_string(i) +
           "\r\nDate: Mon, 30 Nov 2026 09:00:00 +0000\r\nMessage-ID: <" + id +
           ">\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThe printer is on fire, " +
           std::to_string(i) + ".\r\n";
}

class CrashDesk : public support::LiveDesk {
protected:
    void SetUp() override {
        support::write_file(dir_ / "sla.yaml",
                            "calendars:\n"
                            "  always: {time_zone: UTC, hours: 24x7}\n"
                            "policies:\n"
                            "  - name: fast\n"
                            "    calendar: always\n"
                            "    first_response: 40s\n"
                            "    reminders:\n"
                            "      - {at: 5%, to: [lead@acme.example]}\n");
        start({"    after_ingest: move\n    batch_size: 2\n",
               "auto_reply:\n  max_per_sender_per_hour: 100\n"
               "sla: sla.yaml\n"
               "reports:\n  - {every: daily, to: [lead@acme.example]}\n"});
    }
};

class CrashPoints : public CrashDesk, public ::testing::WithParamInterface<const char*> {};

// Found by this suite: `run --once` armed the SLA timer after each batch, and the armed timer kept
// the loop (and so the run) waiting for the next due moment, up to 6 hours. A hang, not a speed
// figure: the bound is minutes away from a run that takes about a second.
TEST_F(CrashDesk, RunOnceDoesNotWaitForTheNextSlaWakeUp) {
    support::write_file(dir_ / "sla.yaml",
                        "calendars:\n"
                        "  always: {time_zone: UTC, hours: 24x7}\n"
                        "policies:\n"
                        "  - name: slow\n"
                        "    calendar: always\n"
                        "    first_response: 1h\n"
                        "    reminders:\n"
                        "      - {at: 50%, to: [lead@acme.example]}\n");
    imap_->deliver(request("slow-0@customer.example", 0));
    auto r = support::run_program({support::which("timeout"), "-s", "KILL", "120", support::ticketd_binary().string(),
                                   "run", "--once", "--config", (dir_ / "ticketd.yaml").string()});
    EXPECT_EQ(r.exit_code, 0) << "signal " << r.signal << " (137/-1: still waiting after 120 s)\n" << r.err;
    EXPECT_EQ(imap_->count("Processed"), 1u);
}

TEST_P(CrashPoints, SigkillThereThenARunLosesNothingAndSendsNothingTwice) {
    const std::string spec = GetParam();
    const std::string point = spec.substr(0, spec.find(':'));
    std::set<std::string> delivered;

    // Two tickets whose 5% reminder (2 s) is due before the crash run, and whose deadline (40 s)
    // is not (a breach would supersede the reminder); ingest sends nothing.
    for (int i = 0; i < kIngested; ++i) {
        const std::string id = "early-" + std::to_string(i) + "@customer.example";
        auto in = ticketd({"ingest", "-"}, request(id, 100 + i));
        ASSERT_EQ(in.exit_code, 0) << in.err;
        delivered.insert(id);
    }
    const std::time_t reminders_due = std::time(nullptr) + 3;
    for (int i = 0; i < kImapMails; ++i) {
        const std::string id = "crash-" + std::to_string(i) + "@customer.example";
        imap_->deliver(request(id, i));
        delivered.insert(id);
    }
    while (std::time(nullptr) < reminders_due) std::this_thread::sleep_for(100ms);

    auto crashed = ticketd({"run", "--once"}, "", {"TICKETD_CRASH_AT=" + spec});
    EXPECT_EQ(crashed.signal, SIGKILL) << "exit " << crashed.exit_code << "\n" << crashed.err;
    EXPECT_NE(crashed.err.find("TICKETD_CRASH_AT=" + point + " reached"), std::string::npos) << crashed.err;

    auto after = ticketd({"run", "--once"});
    ASSERT_EQ(after.exit_code, 0) << after.err;

    // Mail in: exactly once each, nothing left behind.
    const auto ledger = support::read_ledger((dir_ / "desk.db").string());
    for (const auto& id : delivered) EXPECT_EQ(ledger.inbound.count(id) ? ledger.inbound.at(id) : 0, 1) << "<" << id << ">";
    EXPECT_EQ(ledger.inbound.size(), delivered.size()) << "message rows for mail nobody delivered";
    EXPECT_EQ(ledger.inbox_not_done, 0) << "inbox entries pending or quarantined";
    EXPECT_EQ(ledger.inbox_rows, static_cast<std::int64_t>(delivered.size()));
    EXPECT_EQ(imap_->count("INBOX"), 0u);
    EXPECT_EQ(imap_->count("Processed"), static_cast<std::size_t>(kImapMails));

    // Mail out: every row sent, each at the sink once (twice for the one smtp.accepted window).
    const auto at_sink = support::count_by_message_id(sink_->messages());
    std::map<std::string, int> kinds;
    int twice = 0;
    std::set<std::string> queued;
    for (const auto& row : ledger.outbox) {
        ++kinds[row.kind];
        queued.insert(row.message_id);
        EXPECT_EQ(row.state, "sent") << "<" << row.message_id << "> " << row.kind;
        const int copies = at_sink.count(row.message_id) ? at_sink.at(row.message_id) : 0;
        if (copies == 2) ++twice;
        else EXPECT_EQ(copies, 1) << "copies of <" << row.message_id << "> (" << row.kind << ") at the sink";
    }
    // The sender works while the rest goes on, so a kill at any point may land while a mail is
    // accepted and not yet marked: that mail again, one per SMTP session at the most (the desk
    // runs the default smtp.connections, two). At smtp.accepted at least the one the kill hit.
    // (With one allowed, this failed once in a night's CI runs: both sessions had one in flight.)
    const int sessions = ticketd::config::SmtpConfig{}.connections;
    if (point == "smtp.accepted") {
        EXPECT_GE(twice, 1) << "the accepted, not yet marked mail is sent again";
        EXPECT_LE(twice, sessions) << "only the mails in flight at the kill may be sent again";
    } else {
        EXPECT_LE(twice, sessions) << "only the mails in flight at the kill may be sent again";
    }
    if (twice) std::printf("[ figures  ] %s: the mail in flight at the kill was sent again (same Message-ID)\n", spec.c_str());
    for (const auto& [id, n] : at_sink) EXPECT_TRUE(queued.count(id)) << "<" << id << "> at the sink is no outbox row";
    EXPECT_EQ(kinds["acknowledgement"], kImapMails + kIngested);
    EXPECT_EQ(kinds["report"], 1);
    std::size_t others = ledger.outbox.size() - kinds["acknowledgement"] - kinds["report"];
    std::string all;
    for (const auto& [k, n] : kinds) all += " " + k + "=" + std::to_string(n);
    EXPECT_GE(others, static_cast<std::size_t>(kIngested)) << "SLA reminders of the ingested tickets; outbox:" << all
                                                           << "\ncrashed run:\n" << crashed.err << "\nnext run:\n" << after.err;
}

INSTANTIATE_TEST_SUITE_P(EveryStage, CrashPoints,
                         ::testing::Values("imap.fetched:2", "imap.committed:2", "imap.acknowledged:2",
                                           "ingest.processed:2", "smtp.accepted:2", "smtp.sent:2",
                                           "sla.queued", "digest.queued"),
                         [](const ::testing::TestParamInfo<const char*>& info) {
                             std::string n = info.param;
                             for (auto& c : n)
                                 if (c == '.' || c == ':') c = '_';
                             return n;
                         });

}  // namespace
