#include "config/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>

#include <arpa/inet.h>

#include "config/reader.h"
#include "config/report_digests.h"
#include "config/rules_loader.h"
#include "config/sla_loader.h"
#include "config/csat.h"
#include "config/templates.h"
#include "config/values.h"

namespace ticketd::config {

std::string ConfigError::to_string() const {
    std::ostringstream out;
    if (line > 0) out << file << ":" << line << ":" << column << ": " << message;
    else out << file << ": " << message;  // no position: the file itself is the problem
    return out.str();
}

std::string default_path() {
    if (const char* env = std::getenv("TICKETD_CONFIG"); env && *env) return env;
    return "/etc/ticketd/ticketd.yaml";
}

namespace {

bool valid_address(const std::string& a) {
    auto at = a.find('@');
    return at != std::string::npos && at > 0 && at + 1 < a.size() &&
           a.find('@', at + 1) == std::string::npos &&
           std::none_of(a.begin(), a.end(), [](unsigned char c) { return c <= ' ' || c == '<' || c == '>'; });
}

void read_desk(Reader& r, const YAML::Node& node, DeskConfig& desk, const std::string& base_dir) {
    YAML::Mark addresses_mark = node.Mark(), tag_mark = node.Mark();
    bool have_addresses = false, have_database = false;
    r.map(node, "desk",
          {
              {"name", [&](const YAML::Node& n, const std::string& p) { r.string(n, p, desk.name); }},
              {"addresses",
               [&](const YAML::Node& n, const std::string& p) {
                   addresses_mark = n.Mark();
                   have_addresses = true;
                   r.string_list(n, p, desk.addresses);
               }},
              {"subject_tag",
               [&](const YAML::Node& n, const std::string& p) {
                   tag_mark = n.Mark();
                   r.string(n, p, desk.subject_tag);
               }},
              {"database",
               [&](const YAML::Node& n, const std::string& p) {
                   have_database = true;
                   r.string(n, p, desk.database);
               }},
              {"hostname", [&](const YAML::Node& n, const std::string& p) { r.string(n, p, desk.hostname); }},
              {"reopen_window",
               [&](const YAML::Node& n, const std::string& p) { r.duration(n, p, desk.reopen_window); }},
          });
    if (!node.IsMap()) return;
    if (!have_addresses || desk.addresses.empty())
        r.error(addresses_mark, "desk.addresses: at least one support address is required");
    for (auto& a : desk.addresses) {
        std::transform(a.begin(), a.end(), a.begin(), [](unsigned char c) { return std::tolower(c); });
        if (!valid_address(a)) r.error(addresses_mark, "desk.addresses: '" + a + "' is not an email address");
    }
    bool tag_ok = !desk.subject_tag.empty() && desk.subject_tag.size() <= 32 &&
                  std::all_of(desk.subject_tag.begin(), desk.subject_tag.end(), [](unsigned char c) {
                      return std::isalnum(c) || c == '-' || c == '_' || c == '.';
                  });
    if (!tag_ok)
        r.error(tag_mark, "desk.subject_tag: use 1 to 32 letters, digits, '-', '_' or '.' (got '" +
                              desk.subject_tag + "')");
    if (!have_database || desk.database.empty()) {
        r.error(node.Mark(), "desk.database: the path of the SQLite database is required");
    } else if (desk.database != ":memory:" && std::filesystem::path(desk.database).is_relative()) {
        // Relative to the config file, not to wherever the daemon was started from.
        desk.database = (std::filesystem::path(base_dir) / desk.database).lexically_normal().string();
    }
    if (desk.hostname.empty() && !desk.addresses.empty()) {
        auto at = desk.addresses[0].find('@');
        if (at != std::string::npos) desk.hostname = desk.addresses[0].substr(at + 1);
    }
}

void read_limits(Reader& r, const YAML::Node& node, parsers::Limits& limits) {
    r.map(node, "limits",
          {
              {"max_message_size",
               [&](const YAML::Node& n, const std::string& p) {
                   r.size(n, p, limits.max_message_bytes, 1024, std::uint64_t(1) << 31);
               }},
              {"max_header_line",
               [&](const YAML::Node& n, const std::string& p) {
                   r.size(n, p, limits.max_header_line, 998, std::uint64_t(16) << 20);
               }},
              {"max_header_size",
               [&](const YAML::Node& n, const std::string& p) {
                   r.size(n, p, limits.max_header_bytes, 4096, std::uint64_t(64) << 20);
               }},
              {"max_parts",
               [&](const YAML::Node& n, const std::string& p) { r.size(n, p, limits.max_parts, 1, 100000); }},
              {"max_depth",
               [&](const YAML::Node& n, const std::string& p) { r.integer(n, p, limits.max_depth, 1, 1000); }},
          });
}

void read_imap(Reader& r, const YAML::Node& node, std::vector<ImapAccount>& accounts,
               const std::string& base_dir) {
    if (!node.IsSequence()) return r.error(node.Mark(), "imap: expected a list of mailboxes");
    std::set<std::string> names;
    for (const auto& item : node) {
        ImapAccount a;
        std::string after = "seen", start_from = "all";
        YAML::Mark after_mark = item.Mark(), url_mark = item.Mark(), name_mark = item.Mark(),
                   start_mark = item.Mark();
        r.map(item, "imap[]",
              {
                  {"name",
                   [&](const YAML::Node& n, const std::string& p) {
                       name_mark = n.Mark();
                       r.string(n, p, a.name);
                   }},
                  {"url",
                   [&](const YAML::Node& n, const std::string& p) {
                       url_mark = n.Mark();
                       r.string(n, p, a.url);
                   }},
                  {"username", [&](const YAML::Node& n, const std::string& p) { r.string(n, p, a.username); }},
                  {"password_file",
                   [&](const YAML::Node& n, const std::string& p) {
                       a.password_file_at = r.position(n.Mark());
                       r.string(n, p, a.password_file);
                   }},
                  {"xoauth2_token_command",
                   [&](const YAML::Node& n, const std::string& p) { r.string(n, p, a.xoauth2_token_command); }},
                  {"poll_interval",
                   [&](const YAML::Node& n, const std::string& p) { r.duration(n, p, a.poll_interval); }},
                  {"after_ingest",
                   [&](const YAML::Node& n, const std::string& p) {
                       after_mark = n.Mark();
                       r.string(n, p, after);
                   }},
                  {"processed_folder",
                   [&](const YAML::Node& n, const std::string& p) { r.string(n, p, a.processed_folder); }},
                  {"tls_verify", [&](const YAML::Node& n, const std::string& p) { r.boolean(n, p, a.tls_verify); }},
                  {"ca_file", [&](const YAML::Node& n, const std::string& p) { r.string(n, p, a.ca_file); }},
                  {"require_starttls",
                   [&](const YAML::Node& n, const std::string& p) { r.boolean(n, p, a.require_starttls); }},
                  {"batch_size",
                   [&](const YAML::Node& n, const std::string& p) { r.integer(n, p, a.batch_size, 1, 10000); }},
                  {"connections",
                   [&](const YAML::Node& n, const std::string& p) { r.integer(n, p, a.connections, 1, 16); }},
                  {"max_fetch_attempts",
                   [&](const YAML::Node& n, const std::string& p) { r.integer(n, p, a.max_fetch_attempts, 1, 100); }},
                  {"start_from",
                   [&](const YAML::Node& n, const std::string& p) {
                       start_mark = n.Mark();
                       r.string(n, p, start_from);
                   }},
                  {"connect_timeout",
                   [&](const YAML::Node& n, const std::string& p) { r.duration(n, p, a.connect_timeout); }},
                  {"timeout",
                   [&](const YAML::Node& n, const std::string& p) { r.duration(n, p, a.transfer_timeout); }},
                  {"alert_after",
                   [&](const YAML::Node& n, const std::string& p) { r.duration(n, p, a.alert_after); }},
                  {"trusted_agents",
                   [&](const YAML::Node& n, const std::string& p) { r.boolean(n, p, a.trusted_agents); }},
              });
        if (!item.IsMap()) continue;
        if (a.name.empty()) r.error(name_mark, "imap[]: every mailbox needs a name");
        else if (!names.insert(a.name).second) r.error(name_mark, "imap[]: the name '" + a.name + "' is used twice");
        if (a.url.rfind("imaps://", 0) != 0 && a.url.rfind("imap://", 0) != 0)
            r.error(url_mark, "imap." + a.name + ".url: expected imaps://host[:port]/MAILBOX or imap://...");
        if (a.username.empty()) r.error(item.Mark(), "imap." + a.name + ": username is required");
        if (a.password_file.empty() == a.xoauth2_token_command.empty())
            r.error(item.Mark(), "imap." + a.name + ": give exactly one of password_file and xoauth2_token_command");
        if (!a.password_file.empty() && std::filesystem::path(a.password_file).is_relative())
            a.password_file = (std::filesystem::path(base_dir) / a.password_file).lexically_normal().string();
        if (!a.ca_file.empty() && std::filesystem::path(a.ca_file).is_relative())
            a.ca_file = (std::filesystem::path(base_dir) / a.ca_file).lexically_normal().string();
        if (after == "seen") a.after_ingest = ImapAccount::AfterIngest::seen;
        else if (after == "move") a.after_ingest = ImapAccount::AfterIngest::move;
        else if (after == "delete") a.after_ingest = ImapAccount::AfterIngest::remove;
        else r.error(after_mark, "imap." + a.name + ".after_ingest: expected move, seen or delete, got '" + after + "'");
        if (a.after_ingest == ImapAccount::AfterIngest::move && a.processed_folder.empty())
            r.error(after_mark, "imap." + a.name + ": after_ingest: move needs processed_folder");
        if (a.poll_interval < std::chrono::seconds(1))
            r.error(item.Mark(), "imap." + a.name + ".poll_interval: must be at least 1s");
        if (start_from == "all") a.start_from = ImapAccount::StartFrom::all;
        else if (start_from == "new") a.start_from = ImapAccount::StartFrom::now;
        else if (auto d = parse_iso_date(start_from)) {
            a.start_from = ImapAccount::StartFrom::since;
            a.since_year = d->year;
            a.since_month = d->month;
            a.since_day = d->day;
        } else {
            r.error(start_mark, "imap." + a.name + ".start_from: expected all, new or a date (YYYY-MM-DD), got '" +
                                    start_from + "'");
        }
        accounts.push_back(std::move(a));
    }
}

std::string relative_to(const std::string& base_dir, const std::string& path) {
    if (path.empty() || std::filesystem::path(path).is_absolute()) return path;
    return (std::filesystem::path(base_dir) / path).lexically_normal().string();
}

void read_smtp(Reader& r, const YAML::Node& node, SmtpConfig& s, const std::string& base_dir) {
    YAML::Mark url_mark = node.Mark(), from_mark = node.Mark(), reply_mark = node.Mark();
    r.map(node, "smtp",
          {
              {"url",
               [&](const YAML::Node& n, const std::string& p) {
                   url_mark = n.Mark();
                   r.string(n, p, s.url);
               }},
              {"username", [&](const YAML::Node& n, const std::string& p) { r.string(n, p, s.username); }},
              {"password_file",
               [&](const YAML::Node& n, const std::string& p) {
                   s.password_file_at = r.position(n.Mark());
                   r.string(n, p, s.password_file);
               }},
              {"xoauth2_token_command",
               [&](const YAML::Node& n, const std::string& p) { r.string(n, p, s.xoauth2_token_command); }},
              {"ca_file", [&](const YAML::Node& n, const std::string& p) { r.string(n, p, s.ca_file); }},
              {"tls_verify", [&](const YAML::Node& n, const std::string& p) { r.boolean(n, p, s.tls_verify); }},
              {"require_starttls",
               [&](const YAML::Node& n, const std::string& p) { r.boolean(n, p, s.require_starttls); }},
              {"from",
               [&](const YAML::Node& n, const std::string& p) {
                   from_mark = n.Mark();
                   r.string(n, p, s.from);
               }},
              {"reply_to",
               [&](const YAML::Node& n, const std::string& p) {
                   reply_mark = n.Mark();
                   r.string(n, p, s.reply_to);
               }},
              {"connect_timeout",
               [&](const YAML::Node& n, const std::string& p) { r.duration(n, p, s.connect_timeout); }},
              {"timeout", [&](const YAML::Node& n, const std::string& p) { r.duration(n, p, s.transfer_timeout); }},
              {"give_up_after",
               [&](const YAML::Node& n, const std::string& p) { r.duration(n, p, s.give_up_after); }},
              {"alert_after",
               [&](const YAML::Node& n, const std::string& p) { r.duration(n, p, s.alert_after); }},
          });
    if (!node.IsMap()) return;
    if (s.url.rfind("smtps://", 0) != 0 && s.url.rfind("smtp://", 0) != 0)
        r.error(url_mark, "smtp.url: expected smtps://host[:port] or smtp://host[:port] (STARTTLS)");
    // Authentication is optional (a local relay needs none), but half of it is a mistake.
    if (s.username.empty() && (!s.password_file.empty() || !s.xoauth2_token_command.empty()))
        r.error(node.Mark(), "smtp: password_file or xoauth2_token_command needs a username");
    if (!s.username.empty() && s.password_file.empty() == s.xoauth2_token_command.empty())
        r.error(node.Mark(), "smtp: with a username, give exactly one of password_file and xoauth2_token_command");
    s.password_file = relative_to(base_dir, s.password_file);
    s.ca_file = relative_to(base_dir, s.ca_file);
    for (auto* a : {&s.from, &s.reply_to})
        std::transform(a->begin(), a->end(), a->begin(), [](unsigned char c) { return std::tolower(c); });
    if (!s.from.empty() && !valid_address(s.from))
        r.error(from_mark, "smtp.from: '" + s.from + "' is not an email address");
    if (!s.reply_to.empty() && !valid_address(s.reply_to))
        r.error(reply_mark, "smtp.reply_to: '" + s.reply_to + "' is not an email address");
    if (s.connect_timeout < std::chrono::seconds(1) || s.transfer_timeout < std::chrono::seconds(1))
        r.error(node.Mark(), "smtp: connect_timeout and timeout must be at least 1s");
}

void read_auto_reply(Reader& r, const YAML::Node& node, AutoReplyConfig& a, YAML::Mark& template_mark) {
    r.map(node, "auto_reply",
          {
              {"enabled", [&](const YAML::Node& n, const std::string& p) { r.boolean(n, p, a.enabled); }},
              {"template",
               [&](const YAML::Node& n, const std::string& p) {
                   template_mark = n.Mark();
                   r.string(n, p, a.template_name);
               }},
              {"max_per_sender_per_hour",
               [&](const YAML::Node& n, const std::string& p) {
                   r.integer(n, p, a.max_per_sender_per_hour, 0, 1000);
               }},
          });
}

/// "host:port" with host an IPv4 literal, "[IPv6]" or localhost; empty string when valid.
/// "host:port" with host an IPv4 literal, "[IPv6]" or localhost; empty string when valid.
std::string parse_listen(const std::string& listen, std::string& host, std::uint16_t& port) {
    auto colon = listen.rfind(':');
    if (colon == std::string::npos || colon == 0)
        return "expected host:port, like 127.0.0.1:9469 or [::1]:9469";
    std::string h = listen.substr(0, colon), p = listen.substr(colon + 1);
    if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
    else if (h.find(':') != std::string::npos) return "write an IPv6 address in brackets: [::1]:9469";
    if (h == "localhost") h = "127.0.0.1";
    unsigned char buf[16];
    if (inet_pton(AF_INET, h.c_str(), buf) != 1 && inet_pton(AF_INET6, h.c_str(), buf) != 1)
        return "'" + h + "' is not an IP address (or localhost)";
    auto n = parse_int(p);
    if (!n || *n < 1 || *n > 65535) return "port '" + p + "' is not 1 to 65535";
    host = h;
    port = static_cast<std::uint16_t>(*n);
    return "";
}

bool loopback(const std::string& host) {
    unsigned char v4[4], v6[16];
    if (inet_pton(AF_INET, host.c_str(), v4) == 1) return v4[0] == 127;
    if (inet_pton(AF_INET6, host.c_str(), v6) == 1) {
        static const unsigned char one[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
        return std::equal(v6, v6 + 16, one);
    }
    return false;
}

void read_retention(Reader& r, const YAML::Node& node, RetentionConfig& ret) {
    YAML::Mark mark = node.Mark();
    std::chrono::seconds raw{0};
    bool given = false;
    r.map(node, "retention",
          {
              {"raw_mail_after",
               [&](const YAML::Node& n, const std::string& p) {
                   mark = n.Mark();
                   given = true;
                   r.duration(n, p, raw);
               }},
          });
    if (!given) return;
    if (raw < std::chrono::hours(24))
        return r.error(mark, "retention.raw_mail_after: at least 1d (the raw mail is the only copy "
                             "of what was received exactly)");
    ret.raw_mail_after = raw;
}

void read_metrics(Reader& r, const YAML::Node& node, MetricsConfig& m) {
    YAML::Mark listen_mark = node.Mark();
    r.map(node, "metrics",
          {
              {"listen",
               [&](const YAML::Node& n, const std::string& p) {
                   listen_mark = n.Mark();
                   r.string(n, p, m.listen);
               }},
              {"allow_remote", [&](const YAML::Node& n, const std::string& p) { r.boolean(n, p, m.allow_remote); }},
          });
    if (!node.IsMap()) return;
    if (m.listen.empty()) return r.error(listen_mark, "metrics.listen: the address to serve /metrics on, like 127.0.0.1:9469");
    if (auto err = parse_listen(m.listen, m.host, m.port); !err.empty())
        return r.error(listen_mark, "metrics.listen: " + err);
    if (!loopback(m.host) && !m.allow_remote)
        r.error(listen_mark, "metrics.listen: " + m.host +
                                 " is not a loopback address; the metrics name accounts and volumes, so "
                                 "set metrics.allow_remote: true to serve them beyond this host");
}

void read_logging(Reader& r, const YAML::Node& node, LoggingConfig& logging) {
    YAML::Mark level_mark = node.Mark();
    r.map(node, "logging",
          {{"level", [&](const YAML::Node& n, const std::string& p) {
                level_mark = n.Mark();
                r.string(n, p, logging.level);
            }}});
    static const std::set<std::string> levels{"trace", "debug", "info", "warn", "error", "critical", "off"};
    if (!levels.count(logging.level))
        r.error(level_mark, "logging.level: expected one of trace, debug, info, warn, error, critical, off");
}

LoadResult load_document(const std::string& yaml, const std::string& name) {
    Reader r(name);
    auto cfg = std::make_shared<Config>();
    cfg->path = name;
    std::string base_dir = std::filesystem::path(name).parent_path().string();
    if (base_dir.empty()) base_dir = ".";

    YAML::Node root;
    try {
        root = YAML::Load(yaml);
    } catch (const YAML::ParserException& e) {
        r.error(e.mark, e.msg);
        return {nullptr, std::move(r.errors())};
    }
    if (!root.IsDefined() || root.IsNull()) {
        r.error(YAML::Mark(), "the file is empty; at least 'desk:' is required");
        r.errors().back().line = 1, r.errors().back().column = 1;
        return {nullptr, std::move(r.errors())};
    }
    bool have_desk = false, have_templates = false;
    ConfigError sla_at;  // where `sla:` is written (issue 6)
    YAML::Mark templates_mark = root.Mark(), auto_reply_mark = root.Mark();
    YAML::Mark reports_mark = root.Mark();  // `reports:` (issue 9)
    r.map(root, "",
          {
              {"desk",
               [&](const YAML::Node& n, const std::string&) {
                   have_desk = true;
                   read_desk(r, n, cfg->desk, base_dir);
               }},
              {"limits", [&](const YAML::Node& n, const std::string&) { read_limits(r, n, cfg->limits); }},
              {"logging", [&](const YAML::Node& n, const std::string&) { read_logging(r, n, cfg->logging); }},
              {"metrics", [&](const YAML::Node& n, const std::string&) { read_metrics(r, n, cfg->metrics); }},
              {"retention", [&](const YAML::Node& n, const std::string&) { read_retention(r, n, cfg->retention); }},
              {"imap", [&](const YAML::Node& n, const std::string&) { read_imap(r, n, cfg->imap, base_dir); }},
              {"smtp",
               [&](const YAML::Node& n, const std::string&) {
                   cfg->smtp.emplace();
                   read_smtp(r, n, *cfg->smtp, base_dir);
               }},
              {"templates",
               [&](const YAML::Node& n, const std::string& p) {
                   templates_mark = n.Mark();
                   have_templates = true;
                   r.string(n, p, cfg->templates_dir);
               }},
              {"auto_reply",
               [&](const YAML::Node& n, const std::string&) {
                   auto_reply_mark = n.Mark();
                   read_auto_reply(r, n, cfg->auto_reply, auto_reply_mark);
               }},
              {"agents", [&](const YAML::Node& n, const std::string&) { read_agents(r, n, cfg->agents); }},
              {"trusted_authserv_ids",
               [&](const YAML::Node& n, const std::string& p) {
                   r.string_list(n, p, cfg->trusted_authserv_ids);
                   for (auto& id : cfg->trusted_authserv_ids)
                       std::transform(id.begin(), id.end(), id.begin(), [](unsigned char c) { return std::tolower(c); });
               }},
              {"queues", [&](const YAML::Node& n, const std::string&) { read_queues(r, n, cfg->queues); }},
              {"csat", [&](const YAML::Node& n, const std::string&) { read_csat(r, n, cfg->csat); }},  // issue 9
              {"reports",
               [&](const YAML::Node& n, const std::string&) {
                   reports_mark = n.Mark();
                   read_report_digests(r, n, cfg->reports);
               }},
              {"rules",
               [&](const YAML::Node& n, const std::string&) { read_rule_sources(r, n, base_dir, cfg->rule_sources); }},
              {"sla",
               [&](const YAML::Node& n, const std::string& p) {
                   sla_at = {name, n.Mark().line + 1, n.Mark().column + 1, ""};
                   r.string(n, p, cfg->sla_file);
               }},
          });
    if (root.IsMap() && !have_desk) r.error(root.Mark(), "'desk:' is required (name, addresses, subject_tag, database)");
    if (cfg->smtp && !cfg->desk.addresses.empty()) {
        if (cfg->smtp->from.empty()) cfg->smtp->from = cfg->desk.addresses[0];
        if (cfg->smtp->reply_to.empty()) cfg->smtp->reply_to = cfg->desk.addresses[0];
    }
    // Templates: a missing or broken one is a config error now, with the file name, never a
    // failure at the moment a mail should go out.
    if (cfg->templates_dir.empty()) cfg->templates_dir = "templates";
    cfg->templates_dir = relative_to(base_dir, cfg->templates_dir);
    const bool need_templates = cfg->smtp && (cfg->auto_reply.enabled || !cfg->agents.empty() || cfg->csat.enabled);
    if (have_templates || need_templates) {
        std::error_code ec;
        if (!std::filesystem::is_directory(cfg->templates_dir, ec)) {
            r.error(templates_mark, "templates: '" + cfg->templates_dir + "' is not a directory" +
                                        (have_templates ? "" : " (the default, needed by smtp: and auto_reply:)"));
        } else {
            cfg->templates = load_templates(cfg->templates_dir, r.errors());
        }
    }
    if (need_templates && std::filesystem::is_directory(cfg->templates_dir) &&
        !std::filesystem::exists(std::filesystem::path(cfg->templates_dir) /
                                 (cfg->auto_reply.template_name + ".txt")))
        r.error(auto_reply_mark, "auto_reply.template: no template '" + cfg->auto_reply.template_name +
                                     "' (expected " + cfg->templates_dir + "/" + cfg->auto_reply.template_name +
                                     ".txt)");
    if (!cfg->reports.empty() && !cfg->smtp)
        r.error(reports_mark, "reports: mailing digests needs smtp: (or remove reports:)");
    // Agents by mail (issue 5): what they are sent, checked now like the acknowledgement.
    if (cfg->smtp && !cfg->agents.empty() && std::filesystem::is_directory(cfg->templates_dir))
        for (const char* name : {"agent_notification", "relayed_reply", "agent_command_error", "agent_unverified",
                                 "delivery_failure"})
            if (!std::filesystem::exists(std::filesystem::path(cfg->templates_dir) / (std::string(name) + ".txt")))
                r.error(templates_mark, std::string("templates: no template '") + name + "' (expected " +
                                            cfg->templates_dir + "/" + name + ".txt; needed by smtp: with agents:)");
    check_csat(r, *cfg, root);  // csat.queues named, csat.template there (issue 9)
    // Rules last: they name the queues, agents and templates read above (issue 4).
    load_rule_files(rule_files(cfg->rule_sources), cfg->rules, r.errors());
    if (r.errors().empty()) validate_rules(*cfg, r.errors());
    if (!cfg->sla_file.empty()) load_sla_policies(*cfg, base_dir, sla_at, r.errors());
    if (!r.errors().empty()) return {nullptr, std::move(r.errors())};
    return {std::move(cfg), {}};
}

}  // namespace

LoadResult load_string(const std::string& yaml, const std::string& name) {
    return load_document(yaml, name);
}

LoadResult load_file(const std::string& path) {
    auto text = read_whole_file(path);
    if (!text) return {nullptr, {{path, 0, 0, std::string("cannot read the file: ") + std::strerror(errno)}}};
    return load_document(*text, path);
}

}  // namespace ticketd::config
