// What an admin installs: the .deb CPack builds (contents, control fields, maintainer scripts,
// conffiles, and the extracted binary running), and the man page (every subcommand and option
// of `ticketd --help` is in it, and groff reads it without a warning).

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <regex>
#include <set>

#include "tests/support/paths.h"
#include "tests/support/process.h"

namespace fs = std::filesystem;
using ticketd::testing::read_file;
using ticketd::testing::have;
using ticketd::testing::run_program;
using ticketd::testing::which;
using ticketd::testing::TempDir;

namespace {


/// Subcommand names under "SUBCOMMANDS:" in CLI11's help, and every --option in it.
struct Help {
    std::vector<std::string> subcommands;
    std::set<std::string> options;
};

Help help_of(const std::vector<std::string>& words) {
    std::vector<std::string> argv{ticketd::testing::ticketd_binary().string()};
    argv.insert(argv.end(), words.begin(), words.end());
    argv.push_back("--help");
    auto r = run_program(argv);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    Help h;
    bool in_subcommands = false;
    static const std::regex option(R"((--[a-z][a-z-]*))");
    std::istringstream in(r.out);
    for (std::string line; std::getline(in, line);) {
        if (line.rfind("Subcommands:", 0) == 0 || line.rfind("SUBCOMMANDS:", 0) == 0) {
            in_subcommands = true;
            continue;
        }
        if (in_subcommands) {
            std::smatch m;
            static const std::regex name(R"(^  ([a-z][a-z_-]*)\b)");
            if (std::regex_search(line, m, name)) h.subcommands.push_back(m[1]);
            else if (!line.empty() && line[0] != ' ') in_subcommands = false;
            continue;
        }
        for (auto it = std::sregex_iterator(line.begin(), line.end(), option); it != std::sregex_iterator(); ++it)
            h.options.insert((*it)[1]);
    }
    return h;
}

}  // namespace

TEST(ManPage, NamesEverySubcommandAndOptionOfTheBinary) {
    const std::string man = read_file(ticketd::testing::source_dir() / "man" / "ticketd.8");
    // In roff a '-' in an option is written '\-'.
    auto in_man = [&](const std::string& word) {
        std::string roff;
        for (char c : word) roff += c == '-' ? std::string("\\-") : std::string(1, c);
        return man.find(roff) != std::string::npos;
    };
    std::vector<std::vector<std::string>> todo{{}};
    std::size_t commands = 0;
    while (!todo.empty()) {
        auto words = todo.back();
        todo.pop_back();
        auto h = help_of(words);
        for (const auto& o : h.options) {
            if (o == "--help") continue;
            EXPECT_TRUE(in_man(o)) << "ticketd.8 lacks option " << o << " of 'ticketd "
                                   << (words.empty() ? "" : words.back()) << "'";
        }
        for (const auto& s : h.subcommands) {
            ++commands;
            std::string full;
            for (const auto& w : words) full += w + " ";
            full += s;
            EXPECT_NE(man.find(".B ticketd " + full), std::string::npos)
                << "ticketd.8 has no '.B ticketd " << full << "' in its SYNOPSIS";
            auto next = words;
            next.push_back(s);
            todo.push_back(next);
        }
    }
    EXPECT_GE(commands, 8u) << "the help listed suspiciously few subcommands";
    for (const char* section : {".SH SYNOPSIS", ".SH COMMANDS", ".SH FILES", ".SH SIGNALS", ".SH EXIT STATUS", ".SH SEE ALSO"})
        EXPECT_NE(man.find(section), std::string::npos) << section;
}

TEST(ManPage, GroffReadsItWithoutWarnings) {
    if (!have("groff")) GTEST_SKIP() << "groff is not installed (Debian package groff-base)";
    auto r = run_program({which("groff"), "-man", "-ww", "-z", (ticketd::testing::source_dir() / "man" / "ticketd.8").string()});
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_EQ(r.err, "");
}

TEST(DebianPackage, CpackBuildsADebWithTheFilesScriptsAndDependenciesAnAdminNeeds) {
    if (!have("cpack") || !have("dpkg-deb") || !have("dpkg-shlibdeps"))
        GTEST_SKIP() << "cpack, dpkg-deb or dpkg-shlibdeps is missing (Debian packages cmake, dpkg, dpkg-dev)";
    TempDir out;
    auto build = run_program({which("cpack"), "-G", "DEB", "--config", (ticketd::testing::binary_dir() / "CPackConfig.cmake").string(),
                              "-B", out.path().string()});
    ASSERT_EQ(build.exit_code, 0) << build.out << build.err;
    fs::path deb;
    for (const auto& e : fs::directory_iterator(out.path()))
        if (e.path().extension() == ".deb") deb = e.path();
    ASSERT_FALSE(deb.empty()) << build.out;

    auto info = run_program({which("dpkg-deb"), "-I", deb.string()});
    ASSERT_EQ(info.exit_code, 0) << info.err;
    EXPECT_NE(info.out.find("Package: ticketd"), std::string::npos) << info.out;
    EXPECT_NE(info.out.find("Section: mail"), std::string::npos) << info.out;
    // Depends from dpkg-shlibdeps: the libraries the binary links, with versions.
    std::smatch depends;
    ASSERT_TRUE(std::regex_search(info.out, depends, std::regex(R"(\n Depends: ([^\n]*))"))) << info.out;
    for (const char* lib : {"libc6", "libcurl4", "libsqlite3-0", "libsystemd0", "libyaml-cpp0.7"})
        EXPECT_NE(depends[1].str().find(lib), std::string::npos) << "Depends lacks " << lib << ": " << depends[1];
    for (const char* script : {"postinst", "prerm", "postrm", "conffiles"})
        EXPECT_NE(info.out.find(std::string(" ") + script), std::string::npos) << info.out;

    auto contents = run_program({which("dpkg-deb"), "-c", deb.string()});
    ASSERT_EQ(contents.exit_code, 0) << contents.err;
    for (const char* path : {"./usr/bin/ticketd", "./usr/lib/systemd/system/ticketd.service",
                             "./usr/lib/sysusers.d/ticketd.conf", "./usr/lib/tmpfiles.d/ticketd.conf",
                             "./usr/share/man/man8/ticketd.8", "./usr/share/doc/ticketd/operations.md",
                             "./usr/share/doc/ticketd/examples/ticketd.yaml", "./etc/ticketd/ticketd.yaml"})
        EXPECT_NE(contents.out.find(std::string(path) + "\n"), std::string::npos) << "missing " << path << "\n"
                                                                                  << contents.out;
    EXPECT_EQ(contents.out.find("/usr/local"), std::string::npos) << "the package lives under /usr";
    EXPECT_EQ(contents.out.find("test_"), std::string::npos) << "no test binaries in the package";

    TempDir control;
    ASSERT_EQ(run_program({which("dpkg-deb"), "-e", deb.string(), (control / "DEBIAN").string()}).exit_code, 0);
    const std::string conffiles = read_file(control / "DEBIAN" / "conffiles");
    EXPECT_NE(conffiles.find("/etc/ticketd/ticketd.yaml\n"), std::string::npos) << conffiles;
    const std::string postinst = read_file(control / "DEBIAN" / "postinst");
    EXPECT_NE(postinst.find("systemd-sysusers /usr/lib/sysusers.d/ticketd.conf"), std::string::npos) << postinst;
    EXPECT_NE(postinst.find("systemd-tmpfiles --create /usr/lib/tmpfiles.d/ticketd.conf"), std::string::npos);
    EXPECT_NE(postinst.find("systemctl daemon-reload"), std::string::npos);
    EXPECT_NE(postinst.find("[ -d /run/systemd/system ]"), std::string::npos) << "only where systemd runs";
    for (const char* script : {"postinst", "prerm", "postrm"}) {
        auto syntax = run_program({which("sh"), "-n", (control / "DEBIAN" / script).string()});
        EXPECT_EQ(syntax.exit_code, 0) << script << ": " << syntax.err;
        EXPECT_TRUE(fs::status(control / "DEBIAN" / script).permissions() == fs::perms(0755)) << script;
    }

    // Unpacked as dpkg would lay it out: the binary runs, the unit names it, the example validates.
    TempDir root;
    ASSERT_EQ(run_program({which("dpkg-deb"), "-x", deb.string(), root.path().string()}).exit_code, 0);
    auto help = run_program({(root / "usr/bin/ticketd").string(), "--help"});
    EXPECT_EQ(help.exit_code, 0) << help.err;
    EXPECT_NE(help.out.find("run"), std::string::npos);
    const std::string unit = read_file(root / "usr/lib/systemd/system/ticketd.service");
    EXPECT_NE(unit.find("ExecStart=/usr/bin/ticketd run"), std::string::npos) << unit;
    EXPECT_NE(unit.find("ExecStartPre=/usr/bin/ticketd check"), std::string::npos) << unit;
    auto check = run_program({(root / "usr/bin/ticketd").string(), "check", "--config",
                              (root / "etc/ticketd/ticketd.yaml").string()});
    EXPECT_EQ(check.exit_code, 0) << check.err;
    if (std::string(TICKETD_ALLOCATOR_BUILT) == "mimalloc") {
        EXPECT_NE(depends[1].str().find("libmimalloc"), std::string::npos) << "Depends lacks the allocator: " << depends[1];
    }
}

// The allocator is the process's, chosen at link time (cmake/Allocator.cmake); `--version` asks
// the dynamic loader which malloc really runs, so a link order that left glibc's malloc in charge
// fails here.
TEST(Binary, VersionNamesTheAllocatorItRunsOn) {
    auto r = run_program({ticketd::testing::ticketd_binary().string(), "--version"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out.rfind("ticketd " TICKETD_VERSION "\n", 0), 0u) << r.out;
    if (std::string(TICKETD_ALLOCATOR_BUILT) == "mimalloc") {
        EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(\nallocator: mimalloc [0-9]+\.[0-9]+\.[0-9]+\n$)"))) << r.out;
    } else {
        EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(\nallocator: glibc malloc [0-9.]+\n$)"))) << r.out;
    }
}

// The check asks the loader, not the build: another malloc preloaded in front shows as such.
TEST(Binary, VersionSaysWhenAPreloadedMallocWins) {
    std::string preload;
    for (const char* lib : {"/usr/lib/x86_64-linux-gnu/libjemalloc.so.2", "/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4"})
        if (fs::exists(lib)) preload = lib;
    if (preload.empty()) GTEST_SKIP() << "neither libjemalloc2 (scripts/install-deps.sh installs it) nor libtcmalloc-minimal4 is installed";
    auto r = run_program({ticketd::testing::ticketd_binary().string(), "--version"}, "", {"LD_PRELOAD=" + preload});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::string file = fs::path(preload).filename().string();
    if (std::string(TICKETD_ALLOCATOR_BUILT) == "mimalloc") {
        EXPECT_NE(r.out.find("allocator: mimalloc "), std::string::npos) << r.out;
        EXPECT_NE(r.out.find("(loaded, but malloc is not its)"), std::string::npos) << r.out;
    } else {
        EXPECT_NE(r.out.find("allocator: " + file + "\n"), std::string::npos) << r.out;
    }
}
