#pragma once
// Password files (imap[].password_file, smtp.password_file) judged by their permissions before
// the daemon reads them: `ticketd check` prints what is found, the daemon logs it at start and
// at every reload (event=config.password_file). Every finding is a warning, never a refusal:
// see docs/security.md ("Permissions") for why.

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "config/config.h"

namespace ticketd::config {

/// What stat() and a read told us about one file; nullopt mode means it does not exist.
struct FileFacts {
    std::optional<mode_t> mode;  ///< st_mode (type and permission bits) of the file a path names
    bool blank = false;          ///< readable by us and holding nothing but white space
};

/// One problem with one password file.
struct SecretFileFinding {
    std::string key;      ///< "imap.support.password_file", "smtp.password_file"
    std::string at;       ///< "file:line:col" of that key in the config
    std::string path;     ///< the file
    std::string problem;  ///< stable word for logs: missing, not_a_file, empty, other_readable, writable
    std::string message;  ///< one line for people, with the fix
    std::string to_string() const;  ///< "file:line:col: warning: key: message"
};

/// Pure: the problems of one file given its facts (no I/O).
std::vector<SecretFileFinding> judge_secret_file(const std::string& key, const std::string& at,
                                                 const std::string& path, const FileFacts& facts);

/// stat()s (and, when readable, reads) the file at `path`.
FileFacts secret_file_facts(const std::string& path);

/// Every password_file of the config, judged.
std::vector<SecretFileFinding> check_secret_files(const Config& config);

}  // namespace ticketd::config
