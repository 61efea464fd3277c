#include <gtest/gtest.h>

#include <filesystem>

#include "config/config.h"
#include "tests/support/paths.h"

using namespace ticketd::config;
using ticketd::testing::TempDir;

namespace {

const char* kMinimal = R"(desk:
  name: ACME Support
  addresses: [Support@Example.COM, help@example.com]
  subject_tag: ACME
  database: /var/lib/ticketd/desk.db
)";

std::vector<std::string> error_lines(const LoadResult& r) {
    std::vector<std::string> out;
    for (const auto& e : r.errors) out.push_back(e.to_string());
    return out;
}

}  // namespace

TEST(Config, MinimalDeskLoadsWithDefaults) {
    auto r = load_string(kMinimal, "/etc/ticketd/ticketd.yaml");
    ASSERT_TRUE(r.errors.empty()) << error_lines(r)[0];
    ASSERT_TRUE(r.config);
    const auto& desk = r.config->desk;
    EXPECT_EQ(desk.name, "ACME Support");
    ASSERT_EQ(desk.addresses.size(), 2u);
    EXPECT_EQ(desk.addresses[0], "support@example.com");  // lower-cased for comparisons
    EXPECT_EQ(desk.subject_tag, "ACME");
    EXPECT_EQ(desk.hostname, "example.com");  // derived from the first address
    EXPECT_EQ(desk.reopen_window, std::chrono::hours(24 * 14));
    EXPECT_EQ(r.config->limits.max_depth, 40);
    EXPECT_TRUE(r.config->imap.empty());
}

TEST(Config, RelativeDatabaseIsRelativeToTheConfigFile) {
    auto r = load_string(R"(desk: {addresses: [s@x.org], subject_tag: T, database: data/t.db})",
                         "/srv/desk/ticketd.yaml");
    ASSERT_TRUE(r.config);
    EXPECT_EQ(r.config->desk.database, "/srv/desk/data/t.db");
}

TEST(Config, UnknownKeyIsAnErrorWithPositionAndHint) {
    auto r = load_string(R"(desk:
  adresses: [s@x.org]
  subject_tag: T
  database: t.db
)",
                         "t.yaml");
    EXPECT_FALSE(r.config);
    auto lines = error_lines(r);
    ASSERT_GE(lines.size(), 1u);
    EXPECT_EQ(lines[0], "t.yaml:2:3: unknown key 'desk.adresses' (did you mean 'addresses'?)");
}

TEST(Config, WrongTypesAreErrorsAndAllAreReported) {
    auto r = load_string(R"(desk:
  addresses: [s@x.org]
  subject_tag: [not, a, scalar]
  database: t.db
  reopen_window: soon
limits:
  max_depth: deep
  max_parts: 0
)",
                         "t.yaml");
    EXPECT_FALSE(r.config);
    auto lines = error_lines(r);
    ASSERT_EQ(lines.size(), 4u) << ::testing::PrintToString(lines);
    EXPECT_EQ(lines[0], "t.yaml:3:16: desk.subject_tag: expected a single value");
    EXPECT_EQ(lines[1],
              "t.yaml:5:18: desk.reopen_window: expected a duration like 30s, 5m, 2h or 14d, got 'soon'");
    EXPECT_EQ(lines[2], "t.yaml:7:14: limits.max_depth: expected a whole number, got 'deep'");
    EXPECT_EQ(lines[3], "t.yaml:8:14: limits.max_parts: 0 is out of range (1 to 100000)");
}

TEST(Config, YamlSyntaxErrorHasPosition) {
    auto r = load_string("desk:\n  name: [unclosed\n", "t.yaml");
    EXPECT_FALSE(r.config);
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_EQ(r.errors[0].file, "t.yaml");
    EXPECT_GT(r.errors[0].line, 0);
}

TEST(Config, DuplicateKeysAreErrors) {
    auto r = load_string("desk: {addresses: [s@x.org], subject_tag: T, database: t.db, subject_tag: U}",
                         "t.yaml");
    ASSERT_FALSE(r.config);
    EXPECT_EQ(error_lines(r)[0], "t.yaml:1:62: duplicate key 'desk.subject_tag'");
}

TEST(Config, DeskIsRequiredAndValidated) {
    EXPECT_EQ(error_lines(load_string("logging: {level: info}\n", "t.yaml"))[0],
              "t.yaml:1:1: 'desk:' is required (name, addresses, subject_tag, database)");
    EXPECT_EQ(error_lines(load_string("", "t.yaml"))[0],
              "t.yaml:1:1: the file is empty; at least 'desk:' is required");
    auto r = load_string("desk: {addresses: [not-an-address], subject_tag: 'A B', database: t.db}", "t.yaml");
    auto lines = error_lines(r);
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_EQ(lines[0], "t.yaml:1:19: desk.addresses: 'not-an-address' is not an email address");
    EXPECT_EQ(lines[1], "t.yaml:1:50: desk.subject_tag: use 1 to 32 letters, digits, '-', '_' or '.' (got 'A B')");
}

TEST(Config, ImapMailboxes) {
    auto r = load_string(std::string(kMinimal) + R"(imap:
  - name: support
    url: imaps://mail.example.com/INBOX
    username: support@example.com
    password_file: secrets/imap.pw
    poll_interval: 30s
    after_ingest: move
    processed_folder: Done
    connections: 3
  - name: sales
    url: imap://127.0.0.1:1143/INBOX
    username: sales
    xoauth2_token_command: /usr/local/bin/token
    require_starttls: false
    after_ingest: delete
)",
                         "/etc/ticketd/ticketd.yaml");
    ASSERT_TRUE(r.config) << error_lines(r)[0];
    ASSERT_EQ(r.config->imap.size(), 2u);
    const auto& a = r.config->imap[0];
    EXPECT_EQ(a.password_file, "/etc/ticketd/secrets/imap.pw");
    EXPECT_EQ(a.poll_interval, std::chrono::seconds(30));
    EXPECT_EQ(a.after_ingest, ImapAccount::AfterIngest::move);
    EXPECT_EQ(a.processed_folder, "Done");
    EXPECT_EQ(a.connections, 3);
    EXPECT_TRUE(a.tls_verify);
    const auto& b = r.config->imap[1];
    EXPECT_FALSE(b.require_starttls);
    EXPECT_EQ(b.after_ingest, ImapAccount::AfterIngest::remove);
}

TEST(Config, ImapMailboxErrors) {
    auto r = load_string(std::string(kMinimal) + R"(imap:
  - name: support
    url: pop3://mail.example.com
    username: u
    after_ingest: archive
  - name: support
    url: imap://x/INBOX
    username: u
    password_file: a
    xoauth2_token_command: b
)",
                         "c.yaml");
    auto lines = error_lines(r);
    ASSERT_EQ(lines.size(), 5u) << ::testing::PrintToString(lines);
    EXPECT_EQ(lines[0], "c.yaml:8:10: imap.support.url: expected imaps://host[:port]/MAILBOX or imap://...");
    EXPECT_EQ(lines[1], "c.yaml:7:5: imap.support: give exactly one of password_file and xoauth2_token_command");
    EXPECT_EQ(lines[2], "c.yaml:10:19: imap.support.after_ingest: expected move, seen or delete, got 'archive'");
    EXPECT_EQ(lines[3], "c.yaml:11:11: imap[]: the name 'support' is used twice");
    EXPECT_EQ(lines[4], "c.yaml:11:5: imap.support: give exactly one of password_file and xoauth2_token_command");
}

TEST(Config, LoadFileReportsUnreadableFile) {
    auto r = load_file("/nonexistent/ticketd.yaml");
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_EQ(r.errors[0].to_string(), "/nonexistent/ticketd.yaml: cannot read the file: No such file or directory");
}

TEST(Config, ShippedExampleIsValid) {
    auto path = ticketd::testing::source_dir() / "config" / "ticketd.example.yaml";
    auto r = load_file(path.string());
    EXPECT_TRUE(r.errors.empty()) << (r.errors.empty() ? "" : r.errors[0].to_string());
}

TEST(Config, DefaultPathHonoursEnvironment) {
    setenv("TICKETD_CONFIG", "/tmp/x.yaml", 1);
    EXPECT_EQ(default_path(), "/tmp/x.yaml");
    unsetenv("TICKETD_CONFIG");
    EXPECT_EQ(default_path(), "/etc/ticketd/ticketd.yaml");
}

TEST(Config, RetentionAndStartFrom) {
    auto ok = load_string(std::string(kMinimal) + R"(retention:
  raw_mail_after: 90d
imap:
  - name: support
    url: imaps://mail.example.com/INBOX
    username: u
    password_file: p
    start_from: 2026-11-01
  - name: sales
    url: imaps://mail.example.com/Sales
    username: u
    password_file: p
    start_from: new
)",
                          "c.yaml");
    ASSERT_TRUE(ok.errors.empty()) << error_lines(ok)[0];
    EXPECT_EQ(ok.config->retention.raw_mail_after, std::chrono::seconds(90 * 86400));
    EXPECT_EQ(ok.config->imap[0].start_from, ImapAccount::StartFrom::since);
    EXPECT_EQ(ok.config->imap[0].since_month, 11);
    EXPECT_EQ(ok.config->imap[1].start_from, ImapAccount::StartFrom::now);
    EXPECT_FALSE(load_string(kMinimal, "c.yaml").config->retention.raw_mail_after);

    auto bad = load_string(std::string(kMinimal) + R"(retention:
  raw_mail_after: 2h
imap:
  - name: support
    url: imaps://mail.example.com/INBOX
    username: u
    password_file: p
    start_from: yesterday
)",
                           "c.yaml");
    auto lines = error_lines(bad);
    ASSERT_EQ(lines.size(), 2u) << ::testing::PrintToString(lines);
    EXPECT_EQ(lines[0], "c.yaml:7:19: retention.raw_mail_after: at least 1d (the raw mail is the only "
                        "copy of what was received exactly)");
    EXPECT_EQ(lines[1], "c.yaml:13:17: imap.support.start_from: expected all, new or a date "
                        "(YYYY-MM-DD), got 'yesterday'");
}
