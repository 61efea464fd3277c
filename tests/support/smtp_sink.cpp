#include "tests/support/smtp_sink.h"

#include <unistd.h>

#include <algorithm>
#include <stdexcept>

#include "tests/support/dovecot.h"

namespace ticketd::testing {

namespace fs = std::filesystem;

namespace {
// Debian's interpreter: a `python3` earlier in PATH may not see python3-* packages (TESTBED.md).
constexpr const char* kPython = "/usr/bin/python3";
}  // namespace

bool SmtpSink::available() {
    if (::access(kPython, X_OK) != 0) return false;
    std::string cmd = std::string(kPython) + " -c 'import aiosmtpd' >/dev/null 2>&1";
    return std::system(cmd.c_str()) == 0;
}

std::string SmtpSink::why_unavailable() {
    return "/usr/bin/python3 with aiosmtpd is not installed (apt-get install python3-aiosmtpd); "
           "test skipped";
}

SmtpSink::SmtpSink(bool hold_data_answers) {
    for (const char* sub : {"tmp", "new", "cur"}) fs::create_directories(dir_ / "sink" / sub);
    port_ = free_port();
    std::vector<std::string> argv = {kPython, "-m", "aiosmtpd", "-n", "-l", "127.0.0.1:" + std::to_string(port_)};
    std::vector<std::string> env;
    if (hold_data_answers) {
        fs::create_directories(dir_ / "gate");
        argv.insert(argv.end(), {"-c", "gated_mailbox.GatedMailbox", (dir_ / "sink").string(), (dir_ / "gate").string()});
        env.push_back("PYTHONPATH=" + (source_dir() / "tests" / "support").string());
    } else {
        argv.insert(argv.end(), {"-c", "aiosmtpd.handlers.Mailbox", (dir_ / "sink").string()});
    }
    pid_ = spawn_logged(argv, dir_ / "sink.log", env);
    if (!wait_for_greeting(port_, "220")) {
        stop_process(pid_, true);
        pid_ = -1;
        throw std::runtime_error("SMTP sink did not greet on 127.0.0.1:" + std::to_string(port_) +
                                 "\n" + log());
    }
}

SmtpSink::~SmtpSink() {
    if (pid_ > 0) stop_process(pid_, false, std::chrono::seconds(3));
}

std::string SmtpSink::url(const std::string& ehlo) const {
    return "smtp://127.0.0.1:" + std::to_string(port_) + "/" + ehlo;
}

std::vector<std::string> SmtpSink::messages() const {
    std::vector<std::pair<fs::file_time_type, fs::path>> files;
    for (const char* sub : {"new", "cur"})
        for (auto& e : fs::directory_iterator(dir_ / "sink" / sub))
            if (e.is_regular_file()) files.emplace_back(e.last_write_time(), e.path());
    std::sort(files.begin(), files.end());
    std::vector<std::string> out;
    for (auto& [t, p] : files) out.push_back(read_file(p));
    return out;
}

std::size_t SmtpSink::held() const {
    std::size_t n = 0;
    if (fs::exists(dir_ / "gate"))
        for (auto& e : fs::directory_iterator(dir_ / "gate"))
            if (e.path().filename().string().rfind("held-", 0) == 0) ++n;
    return n;
}

void SmtpSink::release() { write_file(dir_ / "gate" / "open", ""); }

std::string SmtpSink::log() const {
    try {
        return read_file(dir_ / "sink.log");
    } catch (const std::exception&) {
        return {};
    }
}

}  // namespace ticketd::testing
