#pragma once
// The configuration snapshot: loaded once, immutable, swapped whole on reload (DESIGN.md #10).

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "parsers/parse.h"

namespace ticketd::config {

struct DeskConfig {
    std::string name = "Support";
    std::vector<std::string> addresses;  ///< our own addresses, lower-case; [0] is the main one
    std::string subject_tag = "TICKET";  ///< the PREFIX in "[PREFIX #N]"
    std::string database = "/var/lib/ticketd/ticketd.db";
    std::string hostname;                ///< right-hand side of our Message-IDs (default: domain of addresses[0])
    /// A reply to a closed ticket within this window reopens it; later, it opens a new linked ticket.
    std::chrono::seconds reopen_window = std::chrono::hours(24 * 14);
};

/// One IMAP mailbox to empty into tickets (issue 3).
struct ImapAccount {
    std::string name;                   ///< stable id, used in the inbox cursor and logs
    std::string url;                    ///< imaps://host:993/INBOX or imap://host/INBOX
    std::string username;
    std::string password_file;          ///< file holding the password (never logged)
    std::string xoauth2_token_command;  ///< alternative: command printing an OAuth2 token
    std::chrono::seconds poll_interval = std::chrono::seconds(60);
    enum class AfterIngest { seen, move, remove } after_ingest = AfterIngest::seen;
    std::string processed_folder = "Processed";  ///< for after_ingest: move
    bool tls_verify = true;             ///< verify the server certificate and host name
    std::string ca_file;                ///< private CA bundle
    bool require_starttls = true;       ///< imap:// must upgrade to TLS unless turned off
    int batch_size = 50;                ///< messages stored per transaction
    int connections = 4;                ///< parallel fetch connections
    std::chrono::seconds connect_timeout = std::chrono::seconds(15);
    std::chrono::seconds transfer_timeout = std::chrono::seconds(120);
};

struct LoggingConfig {
    std::string level = "info";
};

struct Config {
    std::string path;  ///< the file it was loaded from
    DeskConfig desk;
    parsers::Limits limits;
    std::vector<ImapAccount> imap;
    LoggingConfig logging;
};

/// One problem in a config file, pointing at the text (1-based line and column).
struct ConfigError {
    std::string file;
    int line = 0;
    int column = 0;
    std::string message;
    std::string to_string() const;  ///< "file:line:col: message"
};

struct LoadResult {
    std::shared_ptr<const Config> config;  ///< null when errors is not empty
    std::vector<ConfigError> errors;
};

/// Load and validate. Unknown keys and wrong types are errors. Never throws.
LoadResult load_file(const std::string& path);
/// Same, from text (tests); `name` is used in error messages.
LoadResult load_string(const std::string& yaml, const std::string& name = "<string>");

/// The default path: $TICKETD_CONFIG, else /etc/ticketd/ticketd.yaml.
std::string default_path();

}  // namespace ticketd::config
