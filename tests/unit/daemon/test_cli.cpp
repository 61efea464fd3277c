// The command line as users and MTAs meet it: exit codes, output, the JSON contract.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/support/paths.h"
#include "tests/support/process.h"

namespace fs = std::filesystem;
using ticketd::testing::read_file;
using ticketd::testing::run_program;
using ticketd::testing::RunResult;
using ticketd::testing::TempDir;
using ticketd::testing::write_file;

namespace {

class Cli : public ::testing::Test {
protected:
    void SetUp() override {
        config_ = (dir_ / "ticketd.yaml").string();
        write_file(config_, R"(desk:
  name: ACME Support
  addresses: [support@example.com, help@example.com]
  subject_tag: ACME
  database: desk.db
)");
    }

    RunResult ticketd(std::vector<std::string> args, const std::string& input = "") {
        args.insert(args.begin(), ticketd::testing::ticketd_binary().string());
        args.push_back("--config");
        args.push_back(config_);
        return run_program(args, input);
    }

    static std::string demo(const std::string& name) {
        return (ticketd::testing::source_dir() / "examples" / "demo" / name).string();
    }

    TempDir dir_;
    std::string config_;
};

}  // namespace

TEST_F(Cli, CheckAcceptsAGoodConfigAndReportsBadOnesWithPositions) {
    auto ok = ticketd({"check"});
    EXPECT_EQ(ok.exit_code, 0) << ok.err;

    write_file(config_, "desk:\n  addresses: [s@x.org]\n  subject_tag: T\n  database: d.db\n  colour: blue\n");
    auto bad = ticketd({"check"});
    EXPECT_EQ(bad.exit_code, 1);
    EXPECT_EQ(bad.err, config_ + ":5:3: unknown key 'desk.colour'\n");
}

TEST_F(Cli, DemoConversationsBecomeThreadedTickets) {
    std::vector<std::string> args{"ingest"};
    for (const char* f : {"01-alice-printer.eml", "02-bob-vpn-html.eml", "03-alice-reply.eml",
                          "04-carol-reply-all.eml", "05-dieter-german.eml",
                          "06-alice-out-of-office.eml", "07-bounce.eml", "08-newsletter.eml"})
        args.push_back(demo(f));
    auto r = ticketd(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;

    auto list = nlohmann::json::parse(ticketd({"tickets", "list", "--json"}).out);
    ASSERT_TRUE(list.is_array());
    // Alice's printer, Bob's VPN (Carol's reply-all joined it), Dieter, the newsletter. The
    // out-of-office reply and the bounce never become tickets.
    ASSERT_EQ(list.size(), 4u) << list.dump(1);
    for (const auto& t : list) {
        for (const char* key : {"number", "status", "priority", "tags", "queue", "assignee",
                                "requester", "subject"})
            EXPECT_TRUE(t.contains(key)) << key;
        EXPECT_FALSE(t.contains("token"));
    }

    auto find = [&](const std::string& needle) -> nlohmann::json {
        for (const auto& t : list)
            if (t["subject"].get<std::string>().find(needle) != std::string::npos) return t;
        return {};
    };
    auto printer = find("Printer");
    auto vpn = find("VPN disconnects");
    auto german = find("Passwort zurücksetzen");
    ASSERT_FALSE(printer.is_null());
    ASSERT_FALSE(vpn.is_null());
    ASSERT_FALSE(german.is_null()) << "ISO-8859-1 subject decoded to UTF-8";

    auto show = [&](const nlohmann::json& t) {
        auto res = ticketd({"tickets", "show", std::to_string(t["number"].get<long>()), "--json"});
        EXPECT_EQ(res.exit_code, 0) << res.err;
        return nlohmann::json::parse(res.out);
    };

    auto p = show(printer);
    ASSERT_EQ(p["messages"].size(), 3u) << p.dump(1);
    EXPECT_EQ(p["messages"][0]["kind"], "requester");
    EXPECT_EQ(p["messages"][0]["message_id"], "CA+alice-0001@mail.customer.example");
    EXPECT_EQ(p["messages"][1]["message_id"], "CA+alice-0002@mail.customer.example");
    EXPECT_EQ(p["messages"][2]["kind"], "auto_reply");
    for (const auto& m : p["messages"])
        for (const char* key : {"kind", "from", "subject", "body", "message_id"})
            EXPECT_TRUE(m.contains(key)) << key;
    EXPECT_EQ(p["status"], "open") << "an out-of-office reply changes nothing";

    auto v = show(vpn);
    ASSERT_EQ(v["messages"].size(), 2u) << "Carol's reply-all to two of our addresses joins Bob's ticket";
    std::string body = v["messages"][0]["body"];
    EXPECT_NE(body.find("10 minutes"), std::string::npos) << body;
    EXPECT_EQ(body.find("alert(1)"), std::string::npos) << "scripts never reach the body";
    EXPECT_NE(body.find("café"), std::string::npos) << "ISO-8859-1 HTML decoded";

    auto g = show(german);
    EXPECT_NE(g["messages"][0]["body"].get<std::string>().find("Grüße"), std::string::npos);
}

TEST_F(Cli, IngestingTheSameMessageTwiceCreatesNothingNew) {
    auto first = ticketd({"ingest", demo("01-alice-printer.eml")});
    ASSERT_EQ(first.exit_code, 0) << first.err;
    auto again = ticketd({"ingest", demo("01-alice-printer.eml")});
    ASSERT_EQ(again.exit_code, 0) << again.err;
    EXPECT_NE(again.out.find("duplicate"), std::string::npos) << again.out;
    auto list = nlohmann::json::parse(ticketd({"tickets", "list", "--json"}).out);
    EXPECT_EQ(list.size(), 1u);
}

TEST_F(Cli, PipeModeCommitsAndExitsZeroEvenForGarbage) {
    auto r = ticketd({"ingest", "-"}, read_file(demo("01-alice-printer.eml")));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    // Not a mail at all: committed all the same (the lenient parser even files it as a ticket),
    // so the MTA must not retry or bounce it.
    static const char kJunk[] = "\x00\x01\x02 not a message";
    auto junk = ticketd({"ingest", "-"}, std::string(kJunk, sizeof kJunk - 1));
    EXPECT_EQ(junk.exit_code, 0) << junk.err;
}

TEST_F(Cli, PipeModeTemporaryFailureIsExit75) {
    // The database's directory does not exist and cannot be created: the MTA must keep the mail.
    write_file(config_, "desk:\n  addresses: [s@x.org]\n  subject_tag: T\n  database: /nonexistent/dir/d.db\n");
    auto r = ticketd({"ingest", "-"}, read_file(demo("01-alice-printer.eml")));
    EXPECT_EQ(r.exit_code, 75) << r.err;
    // A broken config in pipe mode is also temporary for the MTA: the admin will fix it.
    write_file(config_, "desk: [");
    EXPECT_EQ(ticketd({"ingest", "-"}, "Subject: x\n\nhi\n").exit_code, 75);
}

TEST_F(Cli, ShowUnknownTicketAndBadStatus) {
    ASSERT_EQ(ticketd({"ingest", demo("01-alice-printer.eml")}).exit_code, 0);
    auto r = ticketd({"tickets", "show", "999"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("no ticket #999"), std::string::npos);
    EXPECT_EQ(ticketd({"tickets", "list", "--status", "sleeping"}).exit_code, 64);
}

TEST_F(Cli, ParseJsonSummary) {
    auto r = run_program({ticketd::testing::ticketd_binary().string(), "parse", "--json", demo("07-bounce.eml")});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["classification"], "bounce");
    EXPECT_EQ(j["subject"], "Undelivered Mail Returned to Sender");
}

TEST_F(Cli, InboxListShowAndReleaseAQuarantinedMessage) {
    // 09-malformed.eml nests 60 MIME levels deep: over this desk's limit, so it is quarantined.
    write_file(config_, read_file(config_) + "limits:\n  max_depth: 20\n");
    ASSERT_EQ(ticketd({"ingest", demo("01-alice-printer.eml")}).exit_code, 0);
    const std::string junk = read_file(ticketd::testing::data_dir() / "threading" / "09-malformed.eml");
    ASSERT_EQ(ticketd({"ingest", "-"}, junk).exit_code, 0);

    auto all = nlohmann::json::parse(ticketd({"inbox", "list", "--json"}).out);
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(all[1]["state"], "done");  // newest first: the junk is [0]
    EXPECT_EQ(all[1]["outcome"], "created");
    EXPECT_EQ(all[1]["ticket"], 1001);
    EXPECT_EQ(all[1]["source"].get<std::string>().rfind("file:", 0), 0u);

    auto q = nlohmann::json::parse(ticketd({"inbox", "list", "--state", "quarantined", "--json"}).out);
    ASSERT_EQ(q.size(), 1u);
    EXPECT_EQ(q[0]["state"], "quarantined");
    EXPECT_EQ(q[0]["source"], "pipe");
    EXPECT_TRUE(q[0]["ticket"].is_null());
    EXPECT_FALSE(q[0]["error"].get<std::string>().empty());
    const auto id = std::to_string(q[0]["id"].get<std::int64_t>());

    auto text = ticketd({"inbox", "list", "--state", "quarantined"});
    EXPECT_EQ(text.exit_code, 0);
    EXPECT_NE(text.out.find("quarantined"), std::string::npos) << text.out;

    // The bytes exactly as they came, for a bug report or `ticketd parse -`.
    auto raw = ticketd({"inbox", "show", id, "--raw"});
    EXPECT_EQ(raw.exit_code, 0);
    EXPECT_EQ(raw.out, junk);

    auto released = ticketd({"inbox", "release", id});
    EXPECT_EQ(released.exit_code, 0) << released.err;
    EXPECT_NE(released.out.find("pending"), std::string::npos) << released.out;
    auto again = ticketd({"inbox", "release", id});
    EXPECT_EQ(again.exit_code, 1);
    EXPECT_NE(again.err.find("not quarantined"), std::string::npos) << again.err;

    EXPECT_EQ(ticketd({"inbox", "show", "999"}).exit_code, 1);
    EXPECT_EQ(ticketd({"inbox", "list", "--state", "sleeping"}).exit_code, 64);
}

TEST_F(Cli, RetentionDropsTheRawMailOfLongClosedTicketsAtTheNextRun) {
    const std::string sqlite = ticketd::testing::which("sqlite3");
    if (sqlite.empty()) GTEST_SKIP() << "sqlite3 is not installed (Debian package sqlite3)";
    write_file(config_, read_file(config_) + "retention:\n  raw_mail_after: 30d\n");
    ASSERT_EQ(ticketd({"ingest", demo("01-alice-printer.eml"), demo("02-bob-vpn-html.eml")}).exit_code, 0);
    // Ticket 1001 was closed 40 days ago (no command closes tickets yet: agents come with issue 5).
    auto db = (dir_ / "desk.db").string();
    ASSERT_EQ(run_program({sqlite, db,
                           "UPDATE tickets SET status='closed', closed_at=strftime('%s','now')-40*86400 "
                           "WHERE number=1001"})
                  .exit_code,
              0);
    auto run = ticketd({"run", "--once"});
    ASSERT_EQ(run.exit_code, 0) << run.err;
    EXPECT_NE(run.err.find("event=retention.pruned raw_mail=1"), std::string::npos) << run.err;

    auto entries = nlohmann::json::parse(ticketd({"inbox", "list", "--json"}).out);
    ASSERT_EQ(entries.size(), 2u);
    for (const auto& e : entries) EXPECT_EQ(e["pruned"], e["ticket"] == 1001) << e.dump();
    const auto pruned_id = std::to_string(entries[1]["ticket"] == 1001 ? entries[1]["id"].get<int>()
                                                                         : entries[0]["id"].get<int>());
    auto raw = ticketd({"inbox", "show", pruned_id, "--raw"});
    EXPECT_EQ(raw.exit_code, 1);
    EXPECT_NE(raw.err.find("dropped by retention"), std::string::npos) << raw.err;
    // The ticket itself, its messages and text stay.
    auto show = nlohmann::json::parse(ticketd({"tickets", "show", "1001", "--json"}).out);
    EXPECT_FALSE(show["messages"][0]["body"].get<std::string>().empty());
}
