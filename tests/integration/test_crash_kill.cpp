// `ticketd run` killed with SIGKILL again and again while it empties a mailbox of 1,000 messages:
// afterwards every message is in the inbox exactly once, acknowledged (moved) on the server, and
// filed as exactly one ticket (DESIGN.md invariants 1 and 2).

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "store/database.h"
#include "tests/support/dovecot.h"
#include "tests/support/paths.h"
#include "tests/support/process.h"

namespace ticketd::testing {
namespace {

using namespace std::chrono_literals;

std::int64_t scalar(store::Database& db, const std::string& sql) {
    auto st = db.prepare(sql);
    st.step();
    return st.int64(0);
}

TEST(CrashKill, ThousandMessagesSurviveRepeatedSigkillExactlyOnce) {
    if (!DovecotServer::available()) GTEST_SKIP() << DovecotServer::why_unavailable();
    if (!std::filesystem::exists(ticketd_binary())) GTEST_SKIP() << "ticketd binary not built";
    DovecotServer server;
    constexpr int kCount = 1000;
    for (int i = 1; i <= kCount; ++i) {
        server.deliver("From: User " + std::to_string(i) + " <user" + std::to_string(i) +
                       "@example.org>\r\nTo: support@example.com\r\nSubject: problem " +
                       std::to_string(i) + "\r\nMessage-ID: <crash" + std::to_string(i) +
                       "@example.org>\r\nDate: Mon, 23 Nov 2026 02:00:00 +0000\r\n\r\nPlease help " +
                       std::to_string(i) + ".\r\n");
    }
    TempDir dir;
    write_file(dir / "password", "secret\n");
    const std::string db_path = (dir / "ticketd.db").string();
    write_file(dir / "ticketd.yaml",
               "desk:\n"
               "  name: Test\n"
               "  addresses: [support@example.com]\n"
               "  subject_tag: TEST\n"
               "  database: " + db_path + "\n"
               "  hostname: support.example.com\n"
               "logging:\n"
               "  level: warn\n"
               "imap:\n"
               "  - name: support\n"
               "    url: " + server.imap_url() + "\n"
               "    username: support\n"
               "    password_file: " + (dir / "password").string() + "\n"
               "    ca_file: " + server.cert_file().string() + "\n"
               "    after_ingest: move\n"
               "    processed_folder: Processed\n"
               "    batch_size: 20\n"
               "    connections: 4\n"
               "    poll_interval: 1s\n");
    const std::string config = (dir / "ticketd.yaml").string();

    // Kill it at different moments: while starting, mid-fetch, mid-commit, mid-acknowledge.
    for (auto delay : {150ms, 400ms, 250ms, 700ms, 300ms}) {
        pid_t pid = spawn_logged({ticketd_binary().string(), "--config", config, "run"}, dir / "run.log");
        std::this_thread::sleep_for(delay);
        stop_process(pid, /*hard=*/true);
    }
    std::int64_t before = 0;
    if (std::filesystem::exists(db_path)) {
        store::Database db(db_path);
        before = scalar(db, "SELECT count(*) FROM inbox");
    }
    std::printf("[ figures  ] %lld of %d stored by the killed runs\n", static_cast<long long>(before),
                kCount);
    auto done = run_program({ticketd_binary().string(), "--config", config, "run", "--once"});
    ASSERT_EQ(done.exit_code, 0) << done.err;

    store::Database db(db_path);
    EXPECT_EQ(scalar(db, "SELECT count(*) FROM inbox"), kCount);
    EXPECT_EQ(scalar(db, "SELECT count(DISTINCT uid) FROM inbox"), kCount);
    EXPECT_EQ(scalar(db, "SELECT count(*) FROM inbox WHERE acknowledged = 0"), 0);
    EXPECT_EQ(scalar(db, "SELECT count(*) FROM tickets"), kCount);
    EXPECT_EQ(server.count("INBOX"), 0u);
    EXPECT_EQ(server.count("Processed"), static_cast<std::size_t>(kCount));
}

}  // namespace
}  // namespace ticketd::testing
