// Operations against a running `ticketd run` and a real dovecot on 127.0.0.1: the Prometheus
// endpoint after mail was ingested, `ticketd status` while the daemon runs, and a broken mailbox
// logged as an error once per outage (each retry only a warning).

#include <gtest/gtest.h>

#include <curl/curl.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <regex>
#include <thread>

#include "store/database.h"
#include "tests/support/dovecot.h"
#include "tests/support/paths.h"
#include "tests/support/process.h"

using namespace std::chrono_literals;
using ticketd::testing::DovecotServer;
using ticketd::testing::read_file;
using ticketd::testing::TempDir;
using ticketd::testing::write_file;

namespace {

std::string message(int i) {
    std::string m = "From: Requester <user" + std::to_string(i) + "@customer.example>\r\n"
                    "To: support@example.com\r\n"
                    "Subject: Printer " + std::to_string(i) + " is on fire\r\n"
                    "Date: Mon, 16 Nov 2026 09:00:00 +0000\r\n"
                    "Message-ID: <ops-" + std::to_string(i) + "@customer.example>\r\n";
    if (i == 3) m += "In-Reply-To: <ops-2@customer.example>\r\n";  // a reply: not a new ticket
    return m + "Content-Type: text/plain; charset=utf-8\r\n\r\nPlease help.\r\n";
}

struct Http {
    long status = 0;
    std::string content_type, body;
};

Http http_get(const std::string& url, bool head = false) {
    Http r;
    CURL* c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 5L);
    if (head) curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, +[](char* p, size_t s, size_t n, void* out) {
        static_cast<std::string*>(out)->append(p, s * n);
        return s * n;
    });
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r.body);
    if (curl_easy_perform(c) == CURLE_OK) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
        char* ct = nullptr;
        curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
        if (ct) r.content_type = ct;
    }
    curl_easy_cleanup(c);
    return r;
}

/// The value of the sample `series` (name with its labels, exactly as exposed), or -1.
double sample(const std::string& exposition, const std::string& series) {
    auto at = exposition.find("\n" + series + " ");
    if (at == std::string::npos) return -1;
    return std::stod(exposition.substr(at + series.size() + 2));
}

std::size_t occurrences(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
}

class Operations : public ::testing::Test {
protected:
    void SetUp() override {
        if (!DovecotServer::available()) GTEST_SKIP() << DovecotServer::why_unavailable();
        imap_ = std::make_unique<DovecotServer>();
        write_file(dir_ / "imap.password", "secret\n");
        write_file(dir_ / "wrong.password", "not-the-password\n");
        metrics_port_ = ticketd::testing::free_port();
    }

    void TearDown() override {
        if (pid_ > 0) ticketd::testing::stop_process(pid_);
    }

    void write_config(const std::string& extra) {
        write_file(dir_ / "ticketd.yaml",
                   "desk:\n"
                   "  addresses: [support@example.com]\n"
                   "  database: desk.db\n"
                   "metrics:\n"
                   "  listen: 127.0.0.1:" + std::to_string(metrics_port_) + "\n"
                   "imap:\n"
                   "  - name: support\n"
                   "    url: " + imap_->imap_url() + "\n"
                   "    username: support\n"
                   "    password_file: imap.password\n"
                   "    require_starttls: false\n"
                   "    after_ingest: move\n"
                   "    poll_interval: 1s\n" + extra);
    }

    void start() {
        pid_ = ticketd::testing::spawn_logged(
            {ticketd::testing::ticketd_binary().string(), "run", "--config", (dir_ / "ticketd.yaml").string()},
            dir_ / "daemon.log");
    }

    std::string log() { return read_file(dir_ / "daemon.log"); }
    std::string url(const std::string& path) {
        return "http://127.0.0.1:" + std::to_string(metrics_port_) + path;
    }

    /// Scrape until `pred` holds (the daemon polls every second), or give up after `timeout`.
    template <typename Pred>
    std::string scrape_until(Pred pred, std::chrono::seconds timeout = 20s) {
        auto end = std::chrono::steady_clock::now() + timeout;
        std::string last;
        while (std::chrono::steady_clock::now() < end) {
            auto r = http_get(url("/metrics"));
            if (r.status == 200) {
                last = r.body;
                if (pred(last)) return last;
            }
            std::this_thread::sleep_for(100ms);
        }
        return last;
    }

    ticketd::testing::RunResult status(bool json) {
        std::vector<std::string> argv{ticketd::testing::ticketd_binary().string(), "status", "--config",
                                      (dir_ / "ticketd.yaml").string()};
        if (json) argv.push_back("--json");
        return ticketd::testing::run_program(argv);
    }

    TempDir dir_;
    std::unique_ptr<DovecotServer> imap_;
    int metrics_port_ = 0;
    pid_t pid_ = -1;
};

}  // namespace

TEST_F(Operations, MetricsCountWhatTheDaemonIngestedAndStatusShowsIt) {
    for (int i = 0; i < 5; ++i) imap_->deliver(message(i));
    write_config("");
    start();
    const auto text = scrape_until([](const std::string& t) {
        return sample(t, "ticketd_messages_ingested_total{outcome=\"appended\"}") >= 1 &&
               sample(t, "ticketd_tickets_created_total") >= 4;
    });
    ASSERT_FALSE(text.empty()) << "no /metrics answer\n" << log();

    EXPECT_EQ(sample(text, "ticketd_messages_fetched_total{account=\"support\"}"), 5) << text;
    EXPECT_EQ(sample(text, "ticketd_messages_ingested_total{outcome=\"created\"}"), 4) << text;
    EXPECT_EQ(sample(text, "ticketd_messages_ingested_total{outcome=\"appended\"}"), 1) << text;
    EXPECT_EQ(sample(text, "ticketd_tickets_created_total"), 4) << text;
    EXPECT_EQ(sample(text, "ticketd_tickets_reopened_total"), 0) << text;
    EXPECT_EQ(sample(text, "ticketd_messages_quarantined_total"), 0) << text;
    const double last_ok = sample(text, "ticketd_imap_last_success_timestamp_seconds{account=\"support\"}");
    const double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    EXPECT_GT(last_ok, now - 60) << text;
    EXPECT_LE(last_ok, now + 1) << text;
    // Registered for the outbox, auto-replies and SLA before their first event.
    for (const char* zero : {"ticketd_outbox_sent_total", "ticketd_outbox_failed_total", "ticketd_outbox_depth",
                             "ticketd_auto_replies_sent_total", "ticketd_sla_reminders_total",
                             "ticketd_sla_breaches_total", "ticketd_config_reloads_total",
                             "ticketd_config_reload_failures_total"})
        EXPECT_EQ(sample(text, zero), 0) << zero;
    EXPECT_NE(text.find("# TYPE ticketd_auto_replies_suppressed_total counter\n"), std::string::npos);
    EXPECT_NE(text.find("# TYPE ticketd_smtp_errors_total counter\n"), std::string::npos);

    auto head = http_get(url("/metrics"));
    EXPECT_EQ(head.status, 200);
    EXPECT_EQ(head.content_type, "text/plain; version=0.0.4; charset=utf-8");
    EXPECT_EQ(http_get(url("/nothing")).status, 404);

    // SIGHUP with a broken file: refused and counted; the daemon keeps running and serving.
    const std::string good = read_file(dir_ / "ticketd.yaml");
    write_file(dir_ / "ticketd.yaml", good + "bogus_key: 1\n");
    ::kill(pid_, SIGHUP);
    auto after = scrape_until([](const std::string& t) { return sample(t, "ticketd_config_reload_failures_total") == 1; });
    EXPECT_EQ(sample(after, "ticketd_config_reload_failures_total"), 1) << log();
    write_file(dir_ / "ticketd.yaml", good);
    ::kill(pid_, SIGHUP);
    after = scrape_until([](const std::string& t) { return sample(t, "ticketd_config_reloads_total") == 1; });
    EXPECT_EQ(sample(after, "ticketd_config_reloads_total"), 1) << log();

    // `ticketd status` from another process while the daemon runs.
    auto st = status(true);
    ASSERT_EQ(st.exit_code, 0) << st.err;
    auto j = nlohmann::json::parse(st.out);
    ASSERT_EQ(j["mailboxes"].size(), 1u) << st.out;
    const auto& mb = j["mailboxes"][0];
    EXPECT_EQ(mb["account"], "support");
    EXPECT_EQ(mb["mailbox"], "INBOX");
    EXPECT_TRUE(mb["configured"].get<bool>());
    EXPECT_TRUE(mb["last_poll_at"].is_string()) << st.out;
    EXPECT_TRUE(mb["last_ok_at"].is_string()) << st.out;
    EXPECT_TRUE(mb["failing_since"].is_null()) << st.out;
    EXPECT_EQ(mb["failures"], 0);
    EXPECT_GE(mb["last_uid"].get<int>(), 5);
    EXPECT_EQ(j["inbox"]["done"], 5);
    EXPECT_EQ(j["inbox"]["pending"], 0);
    EXPECT_EQ(j["inbox"]["quarantined"], 0);
    EXPECT_EQ(j["tickets"]["open"], 4);
    EXPECT_EQ(j["tickets"]["closed"], 0);
    EXPECT_TRUE(j["schema_version"].get<int>() >= 5);

    auto human = status(false);
    ASSERT_EQ(human.exit_code, 0) << human.err;
    EXPECT_NE(human.out.find("support (INBOX): ok, last poll"), std::string::npos) << human.out;
    EXPECT_NE(human.out.find("open 4"), std::string::npos) << human.out;

    // `ticketd backup` while the daemon runs (and keeps recording polls every second).
    const auto backup_file = (dir_ / "backup.db").string();
    const std::vector<std::string> backup{ticketd::testing::ticketd_binary().string(), "backup", "--config",
                                          (dir_ / "ticketd.yaml").string(), backup_file};
    auto b = ticketd::testing::run_program(backup);
    ASSERT_EQ(b.exit_code, 0) << b.err;
    EXPECT_NE(b.out.find("quick_check ok"), std::string::npos) << b.out;
    {
        ticketd::store::OpenOptions o;
        o.create = false;
        o.migrate = false;
        ticketd::store::Database copy(backup_file, o);
        auto st = copy.prepare("SELECT count(*) FROM tickets");
        ASSERT_TRUE(st.step());
        EXPECT_EQ(st.int64(0), 4);
    }
    EXPECT_FALSE(std::filesystem::exists(backup_file + "-wal"));
    auto again = ticketd::testing::run_program(backup);
    EXPECT_EQ(again.exit_code, 1) << "never overwrites: " << again.out;
    EXPECT_NE(again.err.find("exists already"), std::string::npos) << again.err;
}

TEST_F(Operations, AFailingMailboxIsAnErrorOncePerOutageAndShowsInStatusAndMetrics) {
    // "broken" has the wrong password; alert_after 0s: its first failure is the alert, and the
    // retries that follow (backoff from 5 s, jittered) are warnings only.
    write_config("  - name: broken\n"
                 "    url: " + imap_->imap_url() + "\n"
                 "    username: support\n"
                 "    password_file: wrong.password\n"
                 "    require_starttls: false\n"
                 "    poll_interval: 1s\n"
                 "    alert_after: 0s\n");
    start();
    const auto text = scrape_until(
        [](const std::string& t) { return sample(t, "ticketd_imap_errors_total{account=\"broken\",status=\"auth_failed\"}") >= 2; },
        30s);
    EXPECT_GE(sample(text, "ticketd_imap_errors_total{account=\"broken\",status=\"auth_failed\"}"), 2) << log();
    EXPECT_EQ(sample(text, "ticketd_imap_errors_total{account=\"support\",status=\"auth_failed\"}"), -1);
    EXPECT_EQ(sample(text, "ticketd_imap_last_success_timestamp_seconds{account=\"broken\"}"), -1);

    const auto l = log();
    EXPECT_GE(occurrences(l, "event=imap.cycle account=broken ok=false"), 2u) << l;
    EXPECT_EQ(occurrences(l, "event=imap.mailbox_failing account=broken"), 1u) << l;
    EXPECT_EQ(occurrences(l, "event=imap.mailbox_failing account=support"), 0u) << l;
    EXPECT_EQ(l.find("not-the-password"), std::string::npos) << "no password in logs";

    auto st = status(true);
    ASSERT_EQ(st.exit_code, 0) << st.err;
    auto j = nlohmann::json::parse(st.out);
    ASSERT_EQ(j["mailboxes"].size(), 2u) << st.out;
    const auto& broken = j["mailboxes"][1];
    EXPECT_EQ(broken["account"], "broken");
    EXPECT_TRUE(broken["alerting"].get<bool>()) << st.out;
    EXPECT_GE(broken["failures"].get<int>(), 2) << st.out;
    EXPECT_TRUE(broken["failing_since"].is_string()) << st.out;
    EXPECT_TRUE(broken["last_ok_at"].is_null()) << st.out;
    EXPECT_FALSE(broken["last_error"].get<std::string>().empty()) << st.out;
    EXPECT_FALSE(j["mailboxes"][0]["alerting"].get<bool>()) << st.out;
    auto human = status(false);
    EXPECT_NE(human.out.find("broken: FAILING for"), std::string::npos) << human.out;
}

TEST_F(Operations, MetricsAddressInUseFailsTheStartBeforeReady) {
    // Someone else holds the port: the daemon says so and exits non-zero (systemd retries).
    write_config("");
    start();
    ASSERT_FALSE(scrape_until([](const std::string& t) { return !t.empty(); }, 15s).empty()) << log();
    auto second = ticketd::testing::run_program(
        {ticketd::testing::ticketd_binary().string(), "run", "--config", (dir_ / "ticketd.yaml").string()});
    EXPECT_EQ(second.exit_code, 1) << second.err;
    EXPECT_NE(second.err.find("event=metrics.listen_failed"), std::string::npos) << second.err;
}
