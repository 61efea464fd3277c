#include "config/secret_files.h"

#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <iterator>

namespace ticketd::config {

namespace {

std::string octal(mode_t mode) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
    return buf;
}

}  // namespace

std::string SecretFileFinding::to_string() const {
    return at + ": warning: " + key + ": " + message;
}

std::vector<SecretFileFinding> judge_secret_file(const std::string& key, const std::string& at,
                                                 const std::string& path, const FileFacts& facts) {
    std::vector<SecretFileFinding> out;
    auto add = [&](std::string problem, std::string message) {
        out.push_back({key, at, path, std::move(problem), std::move(message)});
    };
    if (!facts.mode) {
        add("missing", path + " does not exist: this login will fail until it does");
        return out;
    }
    const mode_t mode = *facts.mode;
    if (!S_ISREG(mode)) {
        add("not_a_file", path + " is not a regular file");
        return out;
    }
    // Group-readable is allowed on purpose (a `ticketd` group shared with the admin); anyone
    // else reading it has the mailbox password, anyone else writing it chooses what we send.
    if (mode & S_IROTH)
        add("other_readable", path + " is readable by every user (mode " + octal(mode) +
                                  "): anyone on this machine can read the password; chmod o-rwx " + path);
    if (mode & (S_IWGRP | S_IWOTH))
        add("writable", path + " is writable by " + ((mode & S_IWOTH) ? "every user" : "its group") + " (mode " +
                            octal(mode) + "); chmod go-w " + path);
    if (facts.blank) add("empty", path + " is empty: this login will fail until it holds the password");
    return out;
}

FileFacts secret_file_facts(const std::string& path) {
    FileFacts facts;
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return facts;  // missing (or a directory we cannot search)
    facts.mode = st.st_mode;
    if (!S_ISREG(st.st_mode)) return facts;
    if (st.st_size == 0) {
        facts.blank = true;
        return facts;
    }
    // Only as much as a password could be: the daemon trims white space the same way.
    std::ifstream in(path, std::ios::binary);
    if (!in) return facts;  // not readable by whoever runs check: nothing more to say
    char buf[4096];
    in.read(buf, sizeof buf);
    std::string head(buf, static_cast<std::size_t>(in.gcount()));
    facts.blank = head.find_first_not_of(" \t\r\n") == std::string::npos && st.st_size <= 4096;
    return facts;
}

std::vector<SecretFileFinding> check_secret_files(const Config& config) {
    std::vector<SecretFileFinding> out;
    auto check = [&](const std::string& key, const std::string& at, const std::string& path) {
        if (path.empty()) return;
        auto found = judge_secret_file(key, at, path, secret_file_facts(path));
        out.insert(out.end(), found.begin(), found.end());
    };
    for (const auto& a : config.imap) check("imap." + a.name + ".password_file", a.password_file_at, a.password_file);
    if (config.smtp) check("smtp.password_file", config.smtp->password_file_at, config.smtp->password_file);
    return out;
}

}  // namespace ticketd::config
