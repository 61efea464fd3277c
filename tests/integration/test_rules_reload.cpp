// Hot reload of the admins' rules (issue 4) in a running `ticketd run` against a real dovecot:
// a saved edit takes effect; a broken edit is logged with file:line:col and the old rules keep
// working; fixing the file makes the new rules take effect. Checked by what tickets become.

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "store/database.h"
#include "tests/support/dovecot.h"
#include "tests/support/paths.h"

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using ticketd::testing::DovecotServer;
using ticketd::testing::read_file;
using ticketd::testing::TempDir;
using ticketd::testing::write_file;

namespace {

class RulesReload : public ::testing::Test {
protected:
    void SetUp() override {
        if (!DovecotServer::available()) GTEST_SKIP() << DovecotServer::why_unavailable();
        imap_ = std::make_unique<DovecotServer>();
        write_file(dir_ / "imap.password", "secret\n");
        fs::create_directories(dir_ / "rules.d");
        save("10-priority.yaml", rules("high", "v1"));
        write_file(dir_ / "ticketd.yaml",
                   "desk:\n"
                   "  addresses: [support@example.com]\n"
                   "  database: desk.db\n"
                   "rules: rules.d\n"
                   "imap:\n"
                   "  - name: support\n"
                   "    url: " + imap_->imap_url() + "\n"
                   "    username: support\n"
                   "    password_file: imap.password\n"
                   "    require_starttls: false\n"
                   "    poll_interval: 1s\n");
    }

    void TearDown() override {
        if (daemon_ > 0) ticketd::testing::stop_process(daemon_);
    }

    static std::string rules(const std::string& priority, const std::string& tag) {
        return "rules:\n  - name: alpha\n    when: { subject: { contains: alpha } }\n    then: { priority: " +
               priority + ", tags: [" + tag + "] }\n";
    }

    /// The way editors save: a temporary file renamed over the original.
    void save(const std::string& name, const std::string& content) {
        write_file(dir_ / "rules.d" / ("." + name + ".swp"), content);
        fs::rename(dir_ / "rules.d" / ("." + name + ".swp"), dir_ / "rules.d" / name);
    }

    std::string log() const { return fs::exists(dir_ / "daemon.log") ? read_file(dir_ / "daemon.log") : ""; }

    bool wait_log(const std::string& needle, std::size_t occurrences = 1, std::chrono::seconds timeout = 20s) {
        auto end = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < end) {
            std::string l = log();
            std::size_t n = 0;
            for (auto p = l.find(needle); p != std::string::npos; p = l.find(needle, p + 1)) ++n;
            if (n >= occurrences) return true;
            std::this_thread::sleep_for(50ms);
        }
        return false;
    }

    /// "priority tag" of the ticket opened by the mail with this subject, once it exists.
    std::string ticket_for(const std::string& subject, std::chrono::seconds timeout = 30s) {
        auto end = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < end) {
            if (fs::exists(dir_ / "desk.db")) {
                try {
                    ticketd::store::OpenOptions o;
                    o.create = false;
                    ticketd::store::Database db((dir_ / "desk.db").string(), o);
                    auto st = db.prepare(
                        "SELECT t.priority, coalesce((SELECT group_concat(tag) FROM ticket_tags WHERE ticket = t.id), '') "
                        "FROM tickets t WHERE t.subject = ?");
                    st.bind(1, subject);
                    if (st.step()) return st.text(0) + " " + st.text(1);
                } catch (const std::exception&) {
                    // not created yet, or busy: try again
                }
            }
            std::this_thread::sleep_for(100ms);
        }
        return "(no ticket)";
    }

    void deliver(const std::string& subject, int n) {
        imap_->deliver("From: ann@customer.example\r\nTo: support@example.com\r\nSubject: " + subject +
                       "\r\nMessage-ID: <reload-" + std::to_string(n) + "@customer.example>\r\n\r\nHello\r\n");
    }

    TempDir dir_;
    std::unique_ptr<DovecotServer> imap_;
    pid_t daemon_ = -1;
};

}  // namespace

TEST_F(RulesReload, SavedEditsTakeEffectBrokenOnesAreRefusedAndTheOldRulesStay) {
    daemon_ = ticketd::testing::spawn_logged(
        {ticketd::testing::ticketd_binary().string(), "run", "--config", (dir_ / "ticketd.yaml").string()},
        dir_ / "daemon.log");
    ASSERT_TRUE(wait_log("event=service.ready")) << log();

    deliver("alpha one", 1);
    EXPECT_EQ(ticket_for("alpha one"), "high v1") << log();

    // A broken save: refused with its position, and the rules in force stay in force.
    save("10-priority.yaml", "rules:\n  - name: alpha\n    when: { subject: { contains: alpha } }\n    then: { priority: hihg }\n");
    ASSERT_TRUE(wait_log("event=config.reload_failed")) << log();
    EXPECT_NE(log().find("rules.d/10-priority.yaml:4:23: rules[0].then.priority: expected one of low, normal, high, "
                         "urgent, got 'hihg'"),
              std::string::npos)
        << log();
    deliver("alpha two", 2);
    EXPECT_EQ(ticket_for("alpha two"), "high v1") << log();

    // Fixed: the new rules take effect without a signal.
    save("10-priority.yaml", rules("low", "v2"));
    ASSERT_TRUE(wait_log("event=config.reloaded")) << log();
    deliver("alpha three", 3);
    EXPECT_EQ(ticket_for("alpha three"), "low v2") << log();

    // A new file dropped into rules.d counts too; later rules override earlier ones.
    write_file(dir_ / "rules.d" / "20-urgent.yaml",
               "rules:\n  - { name: urgent alpha, when: { subject: { contains: alpha } }, then: { priority: urgent } }\n");
    ASSERT_TRUE(wait_log("event=config.reloaded", 2)) << log();
    deliver("alpha four", 4);
    EXPECT_EQ(ticket_for("alpha four"), "urgent v2") << log();
}
