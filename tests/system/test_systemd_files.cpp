// The unit, sysusers.d and tmpfiles.d files as systemd itself reads them: `systemd-analyze
// verify` (syntax, directives, executables), `systemd-analyze security --offline` (the exposure
// figure, which must stay at or below 2.0), and systemd-sysusers + systemd-tmpfiles applied to a
// scratch root (the user exists, the directories get their owners and modes).

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <regex>

#include "tests/support/paths.h"
#include "tests/support/process.h"

namespace fs = std::filesystem;
using ticketd::testing::read_file;
using ticketd::testing::have;
using ticketd::testing::run_program;
using ticketd::testing::which;
using ticketd::testing::TempDir;
using ticketd::testing::write_file;

namespace {

constexpr double kExposureAim = 2.0;


/// The configured unit with ExecStart/ExecStartPre pointing at the freshly built binary, so
/// `verify` checks a real executable without installing anything.
fs::path unit_for_build(const TempDir& dir) {
    std::string unit = read_file(TICKETD_UNIT_FILE);
    const std::string installed = std::string(TICKETD_INSTALL_BINDIR) + "/ticketd";
    EXPECT_NE(unit.find(installed), std::string::npos) << "the unit names " << installed;
    std::string::size_type at;
    while ((at = unit.find(installed)) != std::string::npos)
        unit.replace(at, installed.size(), ticketd::testing::ticketd_binary().string());
    write_file(dir / "ticketd.service", unit);
    return dir / "ticketd.service";
}

}  // namespace

TEST(SystemdUnit, HasTheDirectivesTheDaemonReliesOn) {
    const std::string unit = read_file(TICKETD_UNIT_FILE);
    for (const char* line :
         {"Type=notify\n", "NotifyAccess=main\n", "WatchdogSec=", "ExecStartPre=" TICKETD_INSTALL_BINDIR "/ticketd check",
          "ExecStart=" TICKETD_INSTALL_BINDIR "/ticketd run", "ExecReload=/bin/kill -HUP $MAINPID\n",
          "User=ticketd\n", "StateDirectory=ticketd\n", "ConfigurationDirectory=ticketd\n",
          "Restart=on-failure\n", "ProtectSystem=strict\n", "CapabilityBoundingSet=\n",
          "SystemCallFilter=@system-service\n", "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX\n",
          "NoNewPrivileges=yes\n", "UMask=0077\n"})
        EXPECT_NE(unit.find(line), std::string::npos) << "missing: " << line;
    // IMAP and SMTP servers are anywhere on the network: an IP allow list would cut them off.
    EXPECT_EQ(unit.find("IPAddressDeny="), std::string::npos);
}

TEST(SystemdUnit, VerifiesCleanly) {
    if (!have("systemd-analyze")) GTEST_SKIP() << "systemd-analyze is not installed (Debian package systemd)";
    TempDir dir;
    auto unit = unit_for_build(dir);
    // --man=no: the man page is checked by the packaging test, not installed here.
    auto r = run_program({which("systemd-analyze"), "verify", "--man=no", unit.string()});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err, "") << "systemd-analyze verify has complaints";
}

TEST(SystemdUnit, SecurityExposureIsWithinTheAim) {
    if (!have("systemd-analyze")) GTEST_SKIP() << "systemd-analyze is not installed (Debian package systemd)";
    TempDir dir;
    auto unit = unit_for_build(dir);
    auto r = run_program({which("systemd-analyze"), "security", "--offline=true", "--no-pager", unit.string()});
    std::smatch m;
    static const std::regex overall(R"(Overall exposure level for ticketd\.service: ([0-9]+\.[0-9]+))");
    const std::string all = r.out + r.err;
    if (all.find("Unknown option") != std::string::npos || all.find("unrecognized option") != std::string::npos)
        GTEST_SKIP() << "this systemd-analyze has no --offline (systemd 250 or later is needed): " << r.err;
    ASSERT_TRUE(std::regex_search(all, m, overall)) << all;
    const double exposure = std::stod(m[1]);
    RecordProperty("exposure", m[1].str());
    std::printf("systemd-analyze security exposure: %.1f (aim %.1f)\n", exposure, kExposureAim);
    EXPECT_LE(exposure, kExposureAim) << all;
}

TEST(SystemdFiles, SysusersThenTmpfilesPrepareAScratchRoot) {
    if (!have("systemd-sysusers") || !have("systemd-tmpfiles"))
        GTEST_SKIP() << "systemd-sysusers or systemd-tmpfiles is not installed (Debian package systemd)";
    TempDir root;
    fs::create_directories(root / "etc");
    auto src = ticketd::testing::source_dir() / "systemd";
    auto users = run_program({which("systemd-sysusers"), "--root=" + root.path().string(), (src / "ticketd.sysusers").string()});
    ASSERT_EQ(users.exit_code, 0) << users.err;
    const std::string passwd = read_file(root / "etc/passwd");
    static const std::regex entry(R"(^ticketd:x:([0-9]+):([0-9]+):[^:]*:/var/lib/ticketd:/usr/sbin/nologin$)",
                                  std::regex::multiline);
    std::smatch m;
    ASSERT_TRUE(std::regex_search(passwd, m, entry)) << passwd;
    const unsigned uid = std::stoul(m[1]), gid = std::stoul(m[2]);
    EXPECT_LT(uid, 1000u) << "a system user";

    auto dirs = run_program(
        {which("systemd-tmpfiles"), "--create", "--root=" + root.path().string(), (src / "ticketd.tmpfiles").string()});
    ASSERT_EQ(dirs.exit_code, 0) << dirs.err;
    struct Expect {
        const char* path;
        bool owned_by_ticketd;
    };
    for (auto [path, owned] : {Expect{"var/lib/ticketd", true}, Expect{"var/log/ticketd", true}, Expect{"etc/ticketd", false}}) {
        struct stat st {};
        ASSERT_EQ(::stat((root / path).c_str(), &st), 0) << path;
        EXPECT_TRUE(S_ISDIR(st.st_mode)) << path;
        EXPECT_EQ(st.st_mode & 07777, 0750u) << path;
        EXPECT_EQ(st.st_gid, gid) << path << ": group ticketd";
        if (owned) EXPECT_EQ(st.st_uid, uid) << path;
        else EXPECT_EQ(st.st_uid, 0u) << path << ": root-owned, the daemon only reads its configuration";
    }
}
