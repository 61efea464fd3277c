// Password files judged by their permissions: real temp files, chmod, and the positions of the
// keys in a loaded config.

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "config/config.h"
#include "config/secret_files.h"
#include "tests/support/paths.h"

namespace fs = std::filesystem;
using namespace ticketd::config;

namespace {

class SecretFiles : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() /
               ("ticketd-secret-" + std::to_string(::getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(dir_);
        fs::create_directories(dir_);
    }
    void TearDown() override { fs::remove_all(dir_); }

    std::string write(const std::string& name, const std::string& text, mode_t mode) {
        auto p = (dir_ / name).string();
        std::ofstream(p, std::ios::binary) << text;
        EXPECT_EQ(::chmod(p.c_str(), mode), 0);
        return p;
    }

    static std::vector<std::string> problems(const std::vector<SecretFileFinding>& found) {
        std::vector<std::string> out;
        for (const auto& f : found) out.push_back(f.problem);
        return out;
    }

    std::vector<std::string> problems_of(const std::string& path) {
        return problems(judge_secret_file("imap.support.password_file", "c.yaml:1:1", path, secret_file_facts(path)));
    }

    fs::path dir_;
};

using Problems = std::vector<std::string>;

TEST_F(SecretFiles, OwnerOnlyOrGroupReadableIsFine) {
    EXPECT_EQ(problems_of(write("pw600", "secret\n", 0600)), Problems{});
    EXPECT_EQ(problems_of(write("pw400", "secret", 0400)), Problems{});
    EXPECT_EQ(problems_of(write("pw640", "secret", 0640)), Problems{});  // a `ticketd` group may read it
}

TEST_F(SecretFiles, ReadableByOthersOrWritableByGroupOrOthersIsReported) {
    EXPECT_EQ(problems_of(write("pw644", "secret\n", 0644)), Problems{"other_readable"});
    EXPECT_EQ(problems_of(write("pw604", "secret\n", 0604)), Problems{"other_readable"});
    EXPECT_EQ(problems_of(write("pw620", "secret\n", 0620)), Problems{"writable"});
    EXPECT_EQ(problems_of(write("pw602", "secret\n", 0602)), Problems{"writable"});
    EXPECT_EQ(problems_of(write("pw666", "secret\n", 0666)), (Problems{"other_readable", "writable"}));
}

TEST_F(SecretFiles, MissingEmptyOrNotAFileIsReported) {
    EXPECT_EQ(problems_of((dir_ / "nope").string()), Problems{"missing"});
    EXPECT_EQ(problems_of(write("empty", "", 0600)), Problems{"empty"});
    EXPECT_EQ(problems_of(write("blank", " \n\t\r\n", 0600)), Problems{"empty"});
    EXPECT_EQ(problems_of(dir_.string()), Problems{"not_a_file"});
}

TEST_F(SecretFiles, MessageNamesTheModeTheFixAndTheConfigPosition) {
    auto p = write("pw", "hunter2-xyz\n", 0644);
    auto found = judge_secret_file("smtp.password_file", "t.yaml:9:18", p, secret_file_facts(p));
    ASSERT_EQ(found.size(), 1u);
    EXPECT_EQ(found[0].to_string(), "t.yaml:9:18: warning: smtp.password_file: " + p +
                                        " is readable by every user (mode 0644): anyone on this machine can read "
                                        "the password; chmod o-rwx " + p);
    EXPECT_EQ(found[0].to_string().find("hunter2"), std::string::npos);  // never the content
}

TEST_F(SecretFiles, EveryPasswordFileOfALoadedConfigWithItsPosition) {
    write("imap.pw", "secret\n", 0644);
    write("ok.pw", "secret\n", 0600);
    fs::copy(ticketd::testing::source_dir() / "config/templates", dir_ / "templates", fs::copy_options::recursive);
    auto cfg = (dir_ / "ticketd.yaml").string();
    std::ofstream(cfg) << "desk:\n"
                          "  addresses: [support@example.com]\n"
                          "  database: desk.db\n"
                          "imap:\n"
                          "  - name: support\n"
                          "    url: imaps://mail.example.com/INBOX\n"
                          "    username: support\n"
                          "    password_file: imap.pw\n"
                          "  - name: sales\n"
                          "    url: imaps://mail.example.com/INBOX\n"
                          "    username: sales\n"
                          "    password_file: ok.pw\n"
                          "smtp:\n"
                          "  url: smtps://mail.example.com\n"
                          "  username: support\n"
                          "  password_file: missing.pw\n";
    auto loaded = load_file(cfg);
    ASSERT_TRUE(loaded.config) << (loaded.errors.empty() ? "" : loaded.errors[0].to_string());
    auto found = check_secret_files(*loaded.config);
    ASSERT_EQ(found.size(), 2u);
    EXPECT_EQ(found[0].key, "imap.support.password_file");
    EXPECT_EQ(found[0].at, cfg + ":8:20");
    EXPECT_EQ(found[0].problem, "other_readable");
    EXPECT_EQ(found[1].key, "smtp.password_file");
    EXPECT_EQ(found[1].at, cfg + ":16:18");
    EXPECT_EQ(found[1].problem, "missing");
    EXPECT_EQ(found[1].path, (dir_ / "missing.pw").string());
}

}  // namespace
