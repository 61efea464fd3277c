#include "mail/request.h"

#include <gtest/gtest.h>

#include "tests/support/paths.h"

namespace ticketd::mail {
namespace {

using ticketd::testing::TempDir;
using ticketd::testing::write_file;

TEST(Secrets, PasswordFileIsTrimmed) {
    TempDir dir;
    write_file(dir / "pw", "  s3cret \n");
    std::string err;
    EXPECT_EQ(load_secret_file((dir / "pw").string(), err), "s3cret");
}

TEST(Secrets, MissingOrEmptyPasswordFileIsAnError) {
    TempDir dir;
    std::string err;
    EXPECT_FALSE(load_secret_file((dir / "nope").string(), err));
    EXPECT_NE(err.find("cannot read password file"), std::string::npos);
    write_file(dir / "empty", "\n\n");
    EXPECT_FALSE(load_secret_file((dir / "empty").string(), err));
    EXPECT_NE(err.find("empty"), std::string::npos);
}

TEST(Secrets, TokenCommand) {
    std::string err;
    EXPECT_EQ(run_token_command("printf ' ya29.token \\nsecond line'", err), "ya29.token");
    EXPECT_FALSE(run_token_command("exit 3", err));
    EXPECT_NE(err.find("exit status 3"), std::string::npos);
    EXPECT_FALSE(run_token_command("true", err));
    EXPECT_NE(err.find("no token"), std::string::npos);
}

TEST(Secrets, HungTokenCommandIsKilled) {
    std::string err;
    auto t0 = std::chrono::steady_clock::now();
    EXPECT_FALSE(run_token_command("sleep 30; echo late", err, std::chrono::milliseconds(200)));
    EXPECT_NE(err.find("timed out"), std::string::npos) << err;
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
}

TEST(Classify, CurlCodes) {
    EXPECT_EQ(classify(CURLE_OK), ImapStatus::ok);
    EXPECT_EQ(classify(CURLE_REMOTE_FILE_NOT_FOUND), ImapStatus::not_found);
    EXPECT_EQ(classify(CURLE_LOGIN_DENIED), ImapStatus::auth_failed);
    EXPECT_EQ(classify(CURLE_QUOTE_ERROR), ImapStatus::rejected);
    EXPECT_EQ(classify(CURLE_PEER_FAILED_VERIFICATION), ImapStatus::tls);
    EXPECT_EQ(classify(CURLE_USE_SSL_FAILED), ImapStatus::tls);
    EXPECT_EQ(classify(CURLE_COULDNT_CONNECT), ImapStatus::connection);
    EXPECT_EQ(classify(CURLE_OPERATION_TIMEDOUT), ImapStatus::timeout);
}

TEST(Request, ConnectionRefusedIsAValueAndNeverShowsThePassword) {
    ImapOptions o;
    o.username = "support";
    o.password = "hunter2";
    o.require_starttls = false;
    o.connect_timeout = std::chrono::seconds(2);
    // Port 1 on loopback: nothing listens there.
    auto req = ImapRequest::command("imap://127.0.0.1:1/INBOX", "NOOP", o);
    auto r = req.perform();
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.status, ImapStatus::connection) << r.error;
    EXPECT_EQ(r.error.find("hunter2"), std::string::npos);
    EXPECT_EQ(req.description().find("hunter2"), std::string::npos);
}

}  // namespace
}  // namespace ticketd::mail
