// The ticketd binary as an admin runs it by hand (issue 8, docs/security.md "Permissions"):
// files it creates are owner-only whatever the shell's umask, and `ticketd check` warns about
// password files others can read.

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "tests/support/dovecot.h"
#include "tests/support/paths.h"
#include "tests/support/process.h"

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using ticketd::testing::read_file;
using ticketd::testing::run_program;
using ticketd::testing::TempDir;
using ticketd::testing::write_file;

namespace {

/// The permission bits of `p`, or -1 when it does not exist.
int mode_of(const fs::path& p) {
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0) return -1;
    return static_cast<int>(st.st_mode & 07777);
}

/// Runs the test body under umask 022 (a login shell's), put back afterwards.
class Umask022 {
public:
    Umask022() : old_(::umask(022)) {}
    ~Umask022() { ::umask(old_); }

private:
    mode_t old_;
};

class Security : public ::testing::Test {
protected:
    void SetUp() override {
        write_file(config_, "desk:\n  addresses: [support@example.com]\n  subject_tag: ACME\n  database: desk.db\n");
    }

    ticketd::testing::RunResult ticketd(std::vector<std::string> args, const std::string& input = "") {
        args.insert(args.begin(), ticketd::testing::ticketd_binary().string());
        args.push_back("--config");
        args.push_back(config_.string());
        return run_program(args, input);
    }

    TempDir dir_;
    fs::path config_ = dir_ / "ticketd.yaml";
};

const std::string kMail =
    "From: Ann <ann@customer.example>\r\nTo: support@example.com\r\nSubject: Printer\r\n"
    "Message-ID: <p1@customer.example>\r\nDate: Tue, 01 Dec 2026 10:00:00 +0000\r\n\r\nIt is on fire.\r\n";

TEST_F(Security, FilesCreatedUnderUmask022AreOwnerOnly) {
    Umask022 shell;
    // The control: under this umask a plain file is world-readable.
    write_file(dir_ / "control", "x");
    ASSERT_EQ(mode_of(dir_ / "control"), 0644);

    auto in = ticketd({"ingest", "-"}, kMail);
    ASSERT_EQ(in.exit_code, 0) << in.err;
    EXPECT_EQ(mode_of(dir_ / "desk.db"), 0600);

    auto backup = ticketd({"backup", (dir_ / "copy.db").string()});
    ASSERT_EQ(backup.exit_code, 0) << backup.err;
    EXPECT_EQ(mode_of(dir_ / "copy.db"), 0600);

    // The -wal and -shm files exist while the database is open: the daemon, running.
    const pid_t pid = ticketd::testing::spawn_logged(
        {ticketd::testing::ticketd_binary().string(), "run", "--config", config_.string()}, dir_ / "daemon.log");
    auto end = std::chrono::steady_clock::now() + 30s;
    while (read_file(dir_ / "daemon.log").find("event=service.ready") == std::string::npos &&
           std::chrono::steady_clock::now() < end)
        std::this_thread::sleep_for(50ms);
    const int wal = mode_of(dir_ / "desk.db-wal"), shm = mode_of(dir_ / "desk.db-shm");
    ticketd::testing::stop_process(pid);
    ASSERT_NE(read_file(dir_ / "daemon.log").find("event=service.ready"), std::string::npos)
        << read_file(dir_ / "daemon.log");
    EXPECT_EQ(wal, 0600);
    EXPECT_EQ(shm, 0600);
}

TEST_F(Security, CheckWarnsAboutAPasswordFileOthersCanReadAndStillPasses) {
    write_file(dir_ / "imap.password", "hunter2\n");
    ASSERT_EQ(::chmod((dir_ / "imap.password").c_str(), 0644), 0);
    write_file(config_, read_file(config_) +
                            "imap:\n"
                            "  - name: support\n"
                            "    url: imaps://mail.example.com/INBOX\n"
                            "    username: support\n"
                            "    password_file: imap.password\n");
    auto r = ticketd({"check"});
    EXPECT_EQ(r.exit_code, 0) << r.err;  // a warning: see docs/security.md for why not an error
    EXPECT_NE(r.err.find(config_.string() + ":9:20: warning: imap.support.password_file: " +
                         (dir_ / "imap.password").string() + " is readable by every user (mode 0644)"),
              std::string::npos)
        << r.err;
    EXPECT_EQ(r.err.find("hunter2"), std::string::npos);

    ASSERT_EQ(::chmod((dir_ / "imap.password").c_str(), 0600), 0);
    r = ticketd({"check"});
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_EQ(r.err, "");
}

}  // namespace
