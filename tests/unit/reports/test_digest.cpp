// Scheduled digests (issue 9): `reports:` in the config, and each period mailed through the
// outbox exactly once, also across a restart (a new connection to the same desk).
#include <gtest/gtest.h>

#include <filesystem>

#include "config/config.h"
#include "daemon/report_digest.h"
#include "store/database.h"
#include "store/outbox.h"
#include "tests/support/paths.h"
#include "tests/unit/reports/history.h"

namespace ticketd::reports {
namespace {

using testing::at;

class ConfigDir {
public:
    ConfigDir() {
        std::filesystem::copy(ticketd::testing::source_dir() / "config/templates", tmp.path() / "templates");
    }
    config::LoadResult load(const std::string& extra) {
        const auto path = tmp.path() / "ticketd.yaml";
        ticketd::testing::write_file(path, "desk:\n  addresses: [support@acme.example]\n  database: " +
                                               (tmp.path() / "t.db").string() + "\n" + extra);
        return config::load_file(path.string());
    }
    std::string errors(const config::LoadResult& r) {
        std::string out;
        for (const auto& e : r.errors) out += e.to_string() + "\n";
        return out;
    }
    ticketd::testing::TempDir tmp;
};

TEST(DigestConfig, ReportsEntriesAreCheckedWithPositions) {
    ConfigDir d;
    auto r = d.load("smtp:\n  url: smtp://127.0.0.1:25\nreports:\n"
                    "  - {every: weekly, to: [Lead@Acme.example], queue: billing, tz: Europe/Berlin}\n"
                    "  - {every: daily, to: lead@acme.example}\n");
    ASSERT_TRUE(r.config) << d.errors(r);
    ASSERT_EQ(r.config->reports.size(), 2u);
    EXPECT_EQ(r.config->reports[0].to, std::vector<std::string>{"lead@acme.example"});
    EXPECT_EQ(r.config->reports[0].key(), "weekly|billing||lead@acme.example");

    r = d.load("smtp:\n  url: smtp://127.0.0.1:25\nreports:\n"
               "  - {every: hourly, to: [], tz: Mars/Olympus}\n  - {every: daily, to: x, colour: red}\n");
    const auto e = d.errors(r);
    EXPECT_FALSE(r.config);
    EXPECT_NE(e.find(":7:13: reports[].every: expected daily, weekly or monthly, got 'hourly'"), std::string::npos) << e;
    EXPECT_NE(e.find("reports[].to: at least one address is required"), std::string::npos) << e;
    EXPECT_NE(e.find("reports[].tz: unknown time zone 'Mars/Olympus'"), std::string::npos) << e;
    EXPECT_NE(e.find("reports[].to: 'x' is not an email address"), std::string::npos) << e;
    EXPECT_NE(e.find("unknown key 'reports[].colour'"), std::string::npos) << e;

    r = d.load("reports:\n  - {every: daily, to: lead@acme.example}\n");
    EXPECT_NE(d.errors(r).find(":5:3: reports: mailing digests needs smtp:"), std::string::npos) << d.errors(r);
}

TEST(DigestPeriods, TheLastCompleteDayWeekOrMonth) {
    const auto* utc = date::locate_zone("UTC");
    const auto now = at(2026, 3, 11, 10);  // a Wednesday
    auto p = daemon::digest_period("daily", now, utc);
    EXPECT_EQ(p.since, at(2026, 3, 10));
    EXPECT_EQ(p.until, at(2026, 3, 11));
    p = daemon::digest_period("weekly", now, utc);
    EXPECT_EQ(p.since, at(2026, 3, 2));
    EXPECT_EQ(p.until, at(2026, 3, 9));
    EXPECT_EQ(p.by, Bucket::day);
    p = daemon::digest_period("monthly", now, utc);
    EXPECT_EQ(p.since, at(2026, 2, 1));
    EXPECT_EQ(p.until, at(2026, 3, 1));
    EXPECT_EQ(p.by, Bucket::week);
}

TEST(Digest, EachPeriodIsQueuedOnceAlsoAfterARestart) {
    ticketd::testing::TempDir tmp;
    const auto path = (tmp.path() / "t.db").string();
    config::Config cfg;
    cfg.desk.name = "ACME Support";
    cfg.desk.addresses = {"support@acme.example"};
    cfg.desk.hostname = "acme.example";
    cfg.smtp.emplace();
    cfg.smtp->from = "support@acme.example";
    config::ReportDigest weekly;
    weekly.every = "weekly";
    weekly.to = {"lead@acme.example", "boss@acme.example"};
    cfg.reports = {weekly};
    {
        store::Database db(path);
        testing::History h(db);
        const auto t = h.ticket(at(2026, 3, 3, 9), "alice@x.example", {"billing"});
        h.agent(t, at(2026, 3, 3, 10));
        h.status(t, at(2026, 3, 3, 12), store::Status::resolved);

        EXPECT_EQ(daemon::queue_due_digests(db, cfg, at(2026, 3, 11, 10)), 1);
        EXPECT_EQ(daemon::queue_due_digests(db, cfg, at(2026, 3, 11, 10, 30)), 0);  // the same week
        const auto mails = store::Outbox(db).list();
        ASSERT_EQ(mails.size(), 1u);
        EXPECT_EQ(mails[0].kind, "report");
        EXPECT_EQ(mails[0].recipients, (std::vector<std::string>{"lead@acme.example", "boss@acme.example"}));
        const auto raw = store::Outbox(db).get(mails[0].id)->raw;
        EXPECT_NE(raw.find("Subject: [ACME Support] weekly report, 2026-03-02 to 2026-03-08"), std::string::npos)
            << raw;
        EXPECT_NE(raw.find("Auto-Submitted: auto-generated"), std::string::npos);
    }
    {
        store::Database db(path);  // a restart: what was queued is known
        EXPECT_EQ(daemon::queue_due_digests(db, cfg, at(2026, 3, 12, 8)), 0);
        EXPECT_EQ(daemon::queue_due_digests(db, cfg, at(2026, 3, 16, 0, 1)), 1);  // the next week
        EXPECT_EQ(store::Outbox(db).list().size(), 2u);
        // Another recipient list is another digest, mailed for the period at hand.
        cfg.reports[0].to = {"lead@acme.example"};
        EXPECT_EQ(daemon::queue_due_digests(db, cfg, at(2026, 3, 16, 0, 2)), 1);
    }
}

}  // namespace
}  // namespace ticketd::reports
