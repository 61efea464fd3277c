// `ticketd check` over rules, `ticketd rules test` (the dry run), and rules during `ingest`, as
// admins meet them: exit codes and the exact output.

#include <gtest/gtest.h>

#include <filesystem>

#include "tests/support/paths.h"
#include "tests/support/process.h"

namespace fs = std::filesystem;
using ticketd::testing::run_program;
using ticketd::testing::RunResult;
using ticketd::testing::TempDir;
using ticketd::testing::write_file;

namespace {

class CliRules : public ::testing::Test {
protected:
    void SetUp() override {
        config_ = (dir_ / "ticketd.yaml").string();
        write_config("rules.yaml");
    }

    void write_config(const std::string& rules) {
        write_file(config_, R"(desk:
  name: ACME Support
  addresses: [support@example.com, billing@example.com]
  subject_tag: ACME
  database: desk.db
agents:
  - { address: dana@example.com, name: Dana, queues: [billing] }
  - { address: erik@example.com, name: Erik, queues: [key-accounts, second-level] }
rules: )" + rules + "\n");
    }

    RunResult ticketd(std::vector<std::string> args, const std::string& input = "") {
        args.insert(args.begin(), ticketd::testing::ticketd_binary().string());
        args.push_back("--config");
        args.push_back(config_);
        return run_program(args, input);
    }

    static std::string source(const std::string& rel) { return (ticketd::testing::source_dir() / rel).string(); }

    TempDir dir_;
    std::string config_;
};

TEST_F(CliRules, CheckPassesOnTheShippedExampleAndRunsItsTests) {
    write_config(source("config/rules.example.yaml"));
    auto r = ticketd({"check"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err, "");
    EXPECT_EQ(r.out, config_ + ": OK (desk 'ACME Support', 0 mailbox(es), 7 rule(s), 10 rule test(s) passed)\n");
}

TEST_F(CliRules, CheckPrintsEveryErrorAsFileLineColAndFails) {
    const std::string rules = (dir_ / "rules.yaml").string();
    write_file(rules, R"(rules:
  - name: route
    when: { subject: { regex: '(?<name>x)' } }
    then: { queue: biling, assign: Zed }
  - name: all
    then: { stop: true, priorty: high }
)");
    auto r = ticketd({"check"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err, rules + ":3:31: rules[0].when.subject.regex: bad regex '(?<name>x)': invalid perl operator: (?<\n" +
                         rules + ":6:25: unknown key 'rules[1].then.priorty' (did you mean 'priority'?)\n");

    // Fix the syntax: now the references and the order are checked, all at once.
    write_file(rules, R"(rules:
  - name: all
    then: { stop: true }
  - name: route
    when: { subject: { contains: x } }
    then: { queue: biling, assign: Zed }
)");
    r = ticketd({"check"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.err, rules + ":6:20: rule 'route': unknown queue 'biling' (did you mean 'billing'?)\n" + rules +
                         ":6:36: rule 'route': unknown agent 'Zed'\n" + rules +
                         ":4:5: rule 'route' can never fire: rule 'all' (" + rules + ":2:5) always matches and stops\n");

    // A test that does not hold fails the check like any other error.
    write_file(rules, R"(rules:
  - { name: vip, when: { from: { domain: bigcorp.example } }, then: { priority: high } }
tests:
  - name: VIP is urgent
    message: "From: ann@bigcorp.example\nSubject: x\n\nx"
    expect: { priority: urgent }
)");
    r = ticketd({"check"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.err, rules + ":4:5: test 'VIP is urgent' failed: expected priority urgent, got high\n");
}

TEST_F(CliRules, RulesTestIsADryRunThatSaysWhatDecided) {
    write_config(source("config/rules.example.yaml"));
    const std::string msg = (dir_ / "m.eml").string();
    write_file(msg, "From: Ann <ann@bigcorp.example>\nTo: support@example.com\nSubject: Portal down\n\nHelp\n");
    auto r = ticketd({"rules", "test", msg});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::string ex = source("config/rules.example.yaml");
    EXPECT_EQ(r.out,
              "dry run: " + msg + " as a new ticket, 7 rule(s); nothing is written\n"
              "  no match: 'Newsletters and bulk mail' (" + ex + ":16:5) decided by subject regex "
              "'\\b(newsletter|webinar|unsubscribe)\\b' (" + ex + ":23:15)\n"
              "  MATCHED: 'VIP customers' (" + ex + ":28:5) decided by from domain [bigcorp.example, megacorp.example] (" +
                  ex + ":31:11)\n"
              "  no match: 'Billing' (" + ex + ":36:5) decided by attachment filename matches 'invoice*.pdf' (" + ex +
                  ":41:11)\n"
              "  MATCHED: 'Outage reports' (" + ex + ":45:5) decided by not from equals 'monitoring@example.com' (" + ex +
                  ":52:18)\n"
              "  not reached: 'Came back after resolution' (" + ex + ":56:5) (stopped by 'Outage reports')\n"
              "  not reached: 'Large attachments' (" + ex + ":62:5) (stopped by 'Outage reports')\n"
              "  not reached: 'No auto-reply to machines' (" + ex + ":67:5) (stopped by 'Outage reports')\n"
              "outcome:\n"
              "  priority: urgent\n"
              "  queue: key-accounts\n"
              "  tags: +outage +vip\n"
              "  notify: key-accounts, oncall@example.com\n"
              "  spam: no\n"
              "  rules fired: VIP customers, Outage reports (stopped by 'Outage reports')\n"
              "  'VIP customers' changed: priority=high queue=key-accounts tags+vip notify+key-accounts\n"
              "  'Outage reports' changed: priority=urgent tags+outage notify+oncall@example.com stop\n");
    EXPECT_FALSE(fs::exists(dir_ / "desk.db"));  // nothing written, not even a database

    auto reply = ticketd({"rules", "test", "--on", "reply", msg});
    ASSERT_EQ(reply.exit_code, 0) << reply.err;
    EXPECT_NE(reply.out.find("  skipped: 'Outage reports' (" + ex + ":45:5) (does not run on replies)\n"),
              std::string::npos)
        << reply.out;

    auto missing = ticketd({"rules", "test", (dir_ / "nope.eml").string()});
    EXPECT_EQ(missing.exit_code, 66);
}

TEST_F(CliRules, IngestAppliesRulesAndKeepsSpamOutOfTheTickets) {
    write_config(source("config/rules.example.yaml"));
    auto spam = ticketd({"ingest", source("examples/demo/08-newsletter.eml")});
    ASSERT_EQ(spam.exit_code, 0) << spam.err;
    EXPECT_NE(spam.out.find(": spam ("), std::string::npos) << spam.out;

    const std::string msg = (dir_ / "vip.eml").string();
    write_file(msg, "From: Ann <ann@bigcorp.example>\nTo: support@example.com\nSubject: Invoice 7\n"
                    "Message-ID: <vip-1@bigcorp.example>\n\nPlease check\n");
    auto vip = ticketd({"ingest", msg});
    ASSERT_EQ(vip.exit_code, 0) << vip.err;
    const auto hash = vip.out.find("created #");
    ASSERT_NE(hash, std::string::npos) << vip.out;
    const std::string number = vip.out.substr(hash + 9, vip.out.find(' ', hash + 9) - hash - 9);

    auto show = ticketd({"tickets", "show", number, "--json"});
    ASSERT_EQ(show.exit_code, 0) << show.err;
    EXPECT_NE(show.out.find("\"priority\": \"high\""), std::string::npos) << show.out;
    EXPECT_NE(show.out.find("\"queue\": \"billing\""), std::string::npos) << show.out;
    auto text = ticketd({"tickets", "show", number});
    EXPECT_NE(text.out.find("'VIP customers'"), std::string::npos) << text.out;
    EXPECT_NE(text.out.find("'Billing'"), std::string::npos) << text.out;
    auto list = ticketd({"tickets", "list", "--json"});
    EXPECT_EQ(list.out.find("Our November product update"), std::string::npos) << list.out;

    // Visible in the inbox, and releasable: then it is a ticket like any other.
    auto spam_list = ticketd({"inbox", "list", "--outcome", "spam", "--json"});
    ASSERT_EQ(spam_list.exit_code, 0) << spam_list.err;
    const auto id_at = spam_list.out.find("\"id\": ");
    ASSERT_NE(id_at, std::string::npos) << spam_list.out;
    const std::string id = spam_list.out.substr(id_at + 6, spam_list.out.find_first_of(",\n", id_at) - id_at - 6);
    auto released = ticketd({"inbox", "release", id});
    ASSERT_EQ(released.exit_code, 0) << released.err;
    EXPECT_EQ(released.out.rfind("released " + id + " from spam: created #", 0), 0u) << released.out;
    list = ticketd({"tickets", "list", "--json"});
    EXPECT_NE(list.out.find("Our November product update"), std::string::npos) << list.out;
    EXPECT_EQ(ticketd({"inbox", "release", id}).exit_code, 1);  // done now: nothing to release
}

}  // namespace
