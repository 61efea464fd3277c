#pragma once
// The configuration snapshot: loaded once, immutable, swapped whole on reload (DESIGN.md #10).

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "parsers/parse.h"
#include "rules/rules.h"
#include "sla/policy.h"

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
    std::string password_file_at;       ///< "file:line:col" of password_file, for warnings about it
    std::string xoauth2_token_command;  ///< alternative: command printing an OAuth2 token
    std::chrono::seconds poll_interval = std::chrono::seconds(60);
    enum class AfterIngest { seen, move, remove } after_ingest = AfterIngest::seen;
    std::string processed_folder = "Processed";  ///< for after_ingest: move
    bool tls_verify = true;             ///< verify the server certificate and host name
    std::string ca_file;                ///< private CA bundle
    bool require_starttls = true;       ///< imap:// must upgrade to TLS unless turned off
    int batch_size = 50;                ///< messages stored per transaction
    int connections = 4;                ///< parallel fetch connections
    /// A message whose fetch fails this many cycles in a row is left on the server and kept as
    /// a quarantined placeholder, so it cannot block the mail behind it.
    int max_fetch_attempts = 3;
    /// Where a mailbox's first poll begins: every message in it (`all`), only mail that arrives
    /// from now on (`new`), or mail that arrived on or after a date (`since`), so that connecting
    /// a mailbox with years of history does not file (and acknowledge) all of it.
    enum class StartFrom { all, now, since } start_from = StartFrom::all;
    int since_year = 0, since_month = 0, since_day = 0;  ///< for `since`
    std::chrono::seconds connect_timeout = std::chrono::seconds(15);
    std::chrono::seconds transfer_timeout = std::chrono::seconds(120);
    /// A mailbox failing this long (every retry failed) is logged once as an error; each failed
    /// retry before and after is a warning. 0: the first failure is already an error.
    std::chrono::seconds alert_after = std::chrono::minutes(15);
    /// Mail from an agent's address arriving through this mailbox counts as the agent's even
    /// without Authentication-Results (issue 5): only for a mailbox nobody outside can write to.
    bool trusted_agents = false;
};

/// Where outgoing mail goes (issue 5). Absent: nothing is queued or sent.
struct SmtpConfig {
    std::string url;                    ///< smtps://host:465 or smtp://host:587 (the path is the EHLO name)
    std::string username;               ///< empty: no authentication (a local relay)
    std::string password_file;          ///< file holding the password (never logged)
    std::string password_file_at;       ///< "file:line:col" of password_file, for warnings about it
    std::string xoauth2_token_command;  ///< alternative: command printing an OAuth2 token
    std::string ca_file;                ///< private CA bundle
    bool tls_verify = true;             ///< verify the server certificate and host name
    bool require_starttls = true;       ///< smtp:// must upgrade to TLS unless turned off
    std::string from;                   ///< envelope and From address (default: desk.addresses[0])
    std::string reply_to;               ///< Reply-To (default: desk.addresses[0])
    std::chrono::seconds connect_timeout = std::chrono::seconds(15);
    std::chrono::seconds transfer_timeout = std::chrono::seconds(60);
    /// A mail still refused with 4xx or network errors after this long is marked failed.
    std::chrono::seconds give_up_after = std::chrono::hours(48);
    /// The server failing this long (every attempt deferred: no connection, TLS, authentication,
    /// 4xx) is logged once as an error (event=smtp.server_failing); each deferral is a warning.
    std::chrono::seconds alert_after = std::chrono::minutes(15);
    /// SMTP sessions the sender keeps open in parallel; a ticket's mails always share one (their
    /// order holds). 1: one mail at a time, as before 2026-12-06.
    int connections = 2;
};

/// Acknowledgements to requesters (issue 5).
struct AutoReplyConfig {
    bool enabled = true;                      ///< only takes effect with `smtp:`
    std::string template_name = "acknowledgement";
    int max_per_sender_per_hour = 3;          ///< automatic mails to one address in any hour
};

/// One mail template: `NAME.txt` (a `Subject:` line, a blank line, the text body) and optionally
/// `NAME.html` (the HTML alternative), both mustache. Validated at load, rendered per mail.
struct MailTemplate {
    std::string name;
    std::string text_file, html_file;  ///< for error messages; html_file "" when there is none
    std::string subject;               ///< mustache source of the subject line
    std::string text;                  ///< mustache source of the text body
    std::string html;                  ///< mustache source of the HTML body, "" when none
};

/// The Prometheus endpoint (issue 7). Without `metrics.listen` there is none.
struct MetricsConfig {
    std::string listen;         ///< as written: "127.0.0.1:9469", "[::1]:9469", "localhost:9469"
    std::string host;           ///< the IP literal to bind ("127.0.0.1", "::1")
    std::uint16_t port = 0;
    /// The metrics carry account names and volumes: a non-loopback address must be asked for.
    bool allow_remote = false;
    bool enabled() const { return !listen.empty(); }
};

/// Someone who works tickets (issue 5 uses them for mail; rules assign and notify them).
struct Agent {
    std::string address;              ///< lower-case
    std::string name;
    std::vector<std::string> queues;  ///< the queues this agent serves
};

/// Limits on what strangers may try (issue 8).
struct SecurityConfig {
    /// Messages naming an existing ticket with a wrong token that one sender may send within
    /// token_guessing_window before it is logged (threading.token_guessing) and that sender gets
    /// no more acknowledgements (the mail is still filed). 0: not counted.
    int token_guessing_limit = 5;
    std::chrono::seconds token_guessing_window = std::chrono::hours(24);
};

struct LoggingConfig {
    std::string level = "info";
};

/// How long what is no longer needed is kept (issue 7). Unset: kept for ever.
struct RetentionConfig {
    /// The raw bytes of mail whose ticket has been closed this long are dropped; the ticket, its
    /// messages (text, headers) and attachments stay, and so do the inbox rows' size and sha256.
    std::optional<std::chrono::seconds> raw_mail_after;
};

/// One `reports:` entry (issue 9): `{every: daily|weekly|monthly, to: [..], queue, tag, tz}`.
struct ReportDigest {
    std::string every;            ///< daily, weekly, monthly
    std::vector<std::string> to;  ///< lower-case addresses
    std::string queue, tag;       ///< "" for all
    std::string tz;               ///< IANA zone of the periods; "" = the report's default
    /// Names this digest for good in report_digests: the same entry after a restart or reload is
    /// the same digest, so a period already mailed is not mailed again.
    std::string key() const;
};

/// Satisfaction ratings by email (`csat:`, issue 9): when a ticket is resolved, its requester is
/// asked for a one-word rating. Off unless enabled; nothing is sent without `smtp:`.
struct CsatConfig {
    bool enabled = false;
    std::vector<std::string> queues;  ///< only tickets in these queues; empty: every queue
    enum class Scale { good_bad, one_to_five } scale = Scale::good_bad;  ///< what the mail asks for
    std::string template_name = "csat_request";
    /// At most one request per ticket in this long (a reopen and a new resolution within it ask
    /// no second time).
    std::chrono::seconds min_interval = std::chrono::hours(24 * 7);
};

struct Config {
    std::string path;  ///< the file it was loaded from
    DeskConfig desk;
    parsers::Limits limits;
    std::vector<ImapAccount> imap;
    LoggingConfig logging;
    MetricsConfig metrics;
    RetentionConfig retention;
    std::optional<SmtpConfig> smtp;
    std::string templates_dir;  ///< default: `templates` next to the config file
    std::map<std::string, MailTemplate> templates;  ///< by name, every template in templates_dir
    AutoReplyConfig auto_reply;
    SecurityConfig security;
    std::vector<Agent> agents;
    /// authserv-ids (RFC 8601) whose Authentication-Results vouch for an agent's mail (issue 5).
    std::vector<std::string> trusted_authserv_ids;
    std::vector<std::string> queues;        ///< declared with `queues:`; agents' queues count too
    std::vector<std::string> rule_sources;  ///< what `rules:` names: files and directories
    rules::RuleSet rules;                   ///< loaded, validated and tested (issue 4)
    std::string sla_file;                   ///< `sla:` (issue 6), absolute; "" when there is none
    sla::Policies sla;                      ///< loaded from sla_file; no policies without one
    std::vector<ReportDigest> reports;      ///< scheduled report digests (issue 9)
    CsatConfig csat;                        ///< satisfaction ratings by email (issue 9)
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
