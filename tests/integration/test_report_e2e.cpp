// Reports end to end (issue 9): `ticketd report` on a desk filled by `ticketd ingest`, and a
// `reports:` digest mailed to the real SMTP sink by `ticketd run --once` exactly once, not again
// on the next run (the report_digests row is in the database).

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <ctime>

#include "tests/support/desk.h"
#include "tests/support/paths.h"
#include "tests/support/process.h"
#include "tests/support/smtp_sink.h"

namespace fs = std::filesystem;
namespace support = ticketd::testing;

namespace {

std::size_t digests(const std::vector<std::string>& mails) {
    std::size_t n = 0;
    for (const auto& m : mails) n += m.find("Subject: [ACME Support] daily report") != std::string::npos;
    return n;
}

std::string today_utc() {
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    char buf[16];
    std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
    return buf;
}

class ReportEndToEnd : public ::testing::Test {
protected:
    void SetUp() override {
        if (!support::SmtpSink::available()) GTEST_SKIP() << support::SmtpSink::why_unavailable();
        sink_ = std::make_unique<support::SmtpSink>();
        support::write_desk(dir_.path(), nullptr, *sink_,
                            {"", "auto_reply:\n  enabled: false\nreports:\n  - {every: daily, to: [lead@acme.example]}\n"});
    }

    support::RunResult ticketd(std::vector<std::string> args, const std::string& input = "") {
        args.insert(args.begin(), support::ticketd_binary().string());
        args.push_back("--config");
        args.push_back((dir_ / "ticketd.yaml").string());
        return support::run_program(args, input);
    }

    support::TempDir dir_;
    std::unique_ptr<support::SmtpSink> sink_;
};

TEST_F(ReportEndToEnd, ReportCommandAndADigestMailedOnce) {
    auto check = ticketd({"check"});
    ASSERT_EQ(check.exit_code, 0) << check.out << check.err;
    auto in = ticketd({"ingest", "-"}, "From: Ann <ann@example.org>\r\nTo: support@acme.example\r\n"
                                        "Subject: Printer on fire\r\nMessage-ID: <p1@example.org>\r\n\r\nHelp\r\n");
    ASSERT_EQ(in.exit_code, 0) << in.err;

    auto report = ticketd({"report", "--since", today_utc(), "--by", "day", "--format", "json"});
    ASSERT_EQ(report.exit_code, 0) << report.err;
    const auto j = nlohmann::json::parse(report.out);
    EXPECT_EQ(j["total"]["opened"], 1);
    EXPECT_EQ(j["total"]["backlog"], 1);
    EXPECT_EQ(j["repeat_requesters"].size(), 0u);
    auto csv = ticketd({"report", "--since", today_utc(), "--format", "csv"});
    ASSERT_EQ(csv.exit_code, 0) << csv.err;
    EXPECT_EQ(csv.out.rfind("period,start,end,opened,", 0), 0u) << csv.out;
    auto bad = ticketd({"report", "--since", "yesterday"});
    EXPECT_EQ(bad.exit_code, 64);

    auto once = ticketd({"run", "--once"});
    ASSERT_EQ(once.exit_code, 0) << once.err;
    ASSERT_EQ(digests(sink_->messages()), 1u);
    for (const auto& m : sink_->messages())
        if (m.find("daily report") != std::string::npos) {
            EXPECT_NE(m.find("lead@acme.example"), std::string::npos) << m;
            EXPECT_NE(m.find("Auto-Submitted: auto-generated"), std::string::npos) << m;
        }
    auto again = ticketd({"run", "--once"});  // a restart: the period is recorded as mailed
    ASSERT_EQ(again.exit_code, 0) << again.err;
    EXPECT_EQ(digests(sink_->messages()), 1u);
}

}  // namespace
