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

// Each reader below: the table pass first (settings.cpp: keys, types, ranges, choices), then what one
// row cannot say, in code.
void read_desk(Reader& r, const YAML::Node& node, DeskConfig& desk, const std::string& base_dir) {
    const Seen seen = read_settings(r, node, "desk", &desk);
    if (!node.IsMap()) return;
    if (desk.addresses.empty())
        r.error(seen.mark("addresses", node.Mark()), "desk.addresses: at least one support address is required");
    bool tag_ok = !desk.subject_tag.empty() && desk.subject_tag.size() <= 32 &&
                  std::all_of(desk.subject_tag.begin(), desk.subject_tag.end(), [](unsigned char c) {
                      return std::isalnum(c) || c == '-' || c == '_' || c == '.';
                  });
    if (!tag_ok)
        r.error(seen.mark("subject_tag", node.Mark()),
                "desk.subject_tag: use 1 to 32 letters, digits, '-', '_' or '.' (got '" + desk.subject_tag + "')");
    if (!seen.has("database") || desk.database.empty()) {
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
    read_settings(r, node, "limits", &limits);  // the rows say it all: sizes and their ranges
}

void read_imap(Reader& r, const YAML::Node& node, std::vector<ImapAccount>& accounts,
               const std::string& base_dir) {
    if (!node.IsSequence()) return r.error(node.Mark(), "imap: expected a list of mailboxes");
    std::set<std::string> names;
    for (const auto& item : node) {
        ImapAccount a;
        const Seen seen = walk_settings(r, item, "imap[]", &a);
        if (!item.IsMap()) continue;
        const YAML::Mark name_mark = seen.mark("name", item.Mark()), url_mark = seen.mark("url", item.Mark()),
                         after_mark = seen.mark("after_ingest", item.Mark());
        if (seen.has("password_file")) a.password_file_at = r.position(seen.mark("password_file", item.Mark()));
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
        // after_ingest and start_from, named by the mailbox once its name is known.
        check_choices(r, seen, "imap[]", &a, "imap." + a.name);
        if (a.after_ingest == ImapAccount::AfterIngest::move && a.processed_folder.empty())
            r.error(after_mark, "imap." + a.name + ": after_ingest: move needs processed_folder");
        if (a.poll_interval < std::chrono::seconds(1))
            r.error(item.Mark(), "imap." + a.name + ".poll_interval: must be at least 1s");
        accounts.push_back(std::move(a));
    }
}

std::string relative_to(const std::string& base_dir, const std::string& path) {
    if (path.empty() || std::filesystem::path(path).is_absolute()) return path;
    return (std::filesystem::path(base_dir) / path).lexically_normal().string();
}

void read_smtp(Reader& r, const YAML::Node& node, SmtpConfig& s, const std::string& base_dir) {
    const Seen seen = read_settings(r, node, "smtp", &s);
    if (!node.IsMap()) return;
    if (seen.has("password_file")) s.password_file_at = r.position(seen.mark("password_file", node.Mark()));
    if (s.url.rfind("smtps://", 0) != 0 && s.url.rfind("smtp://", 0) != 0)
        r.error(seen.mark("url", node.Mark()),
                "smtp.url: expected smtps://host[:port] or smtp://host[:port] (STARTTLS)");
    // Authentication is optional (a local relay needs none), but half of it is a mistake.
    if (s.username.empty() && (!s.password_file.empty() || !s.xoauth2_token_command.empty()))
        r.error(node.Mark(), "smtp: password_file or xoauth2_token_command needs a username");
    if (!s.username.empty() && s.password_file.empty() == s.xoauth2_token_command.empty())
        r.error(node.Mark(), "smtp: with a username, give exactly one of password_file and xoauth2_token_command");
    s.password_file = relative_to(base_dir, s.password_file);
    s.ca_file = relative_to(base_dir, s.ca_file);
    // from and reply_to are lower-cased and checked by their rows (Kind::address).
    if (s.connect_timeout < std::chrono::seconds(1) || s.transfer_timeout < std::chrono::seconds(1))
        r.error(node.Mark(), "smtp: connect_timeout and timeout must be at least 1s");
}

void read_auto_reply(Reader& r, const YAML::Node& node, AutoReplyConfig& a, YAML::Mark& template_mark) {
    template_mark = read_settings(r, node, "auto_reply", &a).mark("template", template_mark);
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
    const Seen seen = read_settings(r, node, "retention", &ret);
    if (!ret.raw_mail_after || *ret.raw_mail_after >= std::chrono::hours(24)) return;
    ret.raw_mail_after.reset();
    r.error(seen.mark("raw_mail_after", node.Mark()),
            "retention.raw_mail_after: at least 1d (the raw mail is the only copy of what was received exactly)");
}

void read_metrics(Reader& r, const YAML::Node& node, MetricsConfig& m) {
    const Seen seen = read_settings(r, node, "metrics", &m);
    if (!node.IsMap()) return;
    const YAML::Mark listen_mark = seen.mark("listen", node.Mark());
    if (m.listen.empty()) return r.error(listen_mark, "metrics.listen: the address to serve /metrics on, like 127.0.0.1:9469");
    if (auto err = parse_listen(m.listen, m.host, m.port); !err.empty())
        return r.error(listen_mark, "metrics.listen: " + err);
    if (!loopback(m.host) && !m.allow_remote)
        r.error(listen_mark, "metrics.listen: " + m.host +
                                 " is not a loopback address; the metrics name accounts and volumes, so "
                                 "set metrics.allow_remote: true to serve them beyond this host");
}

void read_logging(Reader& r, const YAML::Node& node, LoggingConfig& logging) {
    read_settings(r, node, "logging", &logging);  // level is a choice row
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
    // The top level: sections go to their readers (hooks); templates, sla and trusted_authserv_ids
    // are stored by their rows.
    ConfigError sla_at;  // where `sla:` is written (issue 6)
    YAML::Mark auto_reply_mark = root.Mark();
    const Seen top = walk_settings(
        r, root, "", cfg.get(),
        {
            {"desk", [&](const YAML::Node& n, const std::string&) { read_desk(r, n, cfg->desk, base_dir); }},
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
            {"auto_reply",
             [&](const YAML::Node& n, const std::string&) {
                 auto_reply_mark = n.Mark();
                 read_auto_reply(r, n, cfg->auto_reply, auto_reply_mark);
             }},
            {"agents", [&](const YAML::Node& n, const std::string&) { read_agents(r, n, cfg->agents); }},
            {"queues", [&](const YAML::Node& n, const std::string&) { read_queues(r, n, cfg->queues); }},
            {"csat", [&](const YAML::Node& n, const std::string&) { read_csat(r, n, cfg->csat); }},  // issue 9
            {"security", [&](const YAML::Node& n, const std::string&) { read_settings(r, n, "security", &cfg->security); }},
            {"reports", [&](const YAML::Node& n, const std::string&) { read_report_digests(r, n, cfg->reports); }},
            {"rules",
             [&](const YAML::Node& n, const std::string&) { read_rule_sources(r, n, base_dir, cfg->rule_sources); }},
        });
    const bool have_desk = top.has("desk"), have_templates = top.has("templates");
    const YAML::Mark templates_mark = top.mark("templates", root.Mark());
    const YAML::Mark reports_mark = top.mark("reports", root.Mark());  // `reports:` (issue 9)
    if (top.has("sla")) {
        const YAML::Mark m = top.mark("sla", root.Mark());
        sla_at = {name, m.line + 1, m.column + 1, ""};
    }
    for (auto& id : cfg->trusted_authserv_ids)
        std::transform(id.begin(), id.end(), id.begin(), [](unsigned char c) { return std::tolower(c); });
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
