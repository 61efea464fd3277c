#include "daemon/cli.h"

#include <CLI/CLI.hpp>
#include <sys/stat.h>
#include <spdlog/spdlog.h>
#include <algorithm>
#include <memory>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include "config/config.h"
#include "config/settings.h"
#include "config/secret_files.h"
#include "daemon/cli_inbox.h"
#include "daemon/cli_util.h"
#include "daemon/cli_rules.h"
#include "daemon/cli_backup.h"
#include "daemon/cli_sla.h"
#include "daemon/cli_status.h"
#include "daemon/cli_outbox.h"
#include "daemon/cli_report.h"
#include "daemon/logging.h"
#include "daemon/service.h"
#include "metrics/allocator.h"
#include "parsers/parse.h"
#include "parsers/summary.h"
#include "store/database.h"
#include "tickets/json.h"
#include "tickets/sla.h"
#include "tickets/pipeline.h"
#include "tickets/query.h"

namespace ticketd::daemon {

namespace {

bool read_all(const std::string& path, std::string& out) {
    if (path == "-") {
        out.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
        return true;
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) return false;
    std::ostringstream ss;
    ss << in.rdbuf();
    out = ss.str();
    return true;
}

int cmd_parse(const std::string& file, bool json) {
    std::string raw;
    if (!read_all(file, raw)) {
        std::fprintf(stderr, "ticketd parse: cannot read %s\n", file.c_str());
        return kExNoInput;
    }
    auto result = parsers::parse(raw);
    if (auto* err = std::get_if<parsers::ParseError>(&result)) {
        std::fprintf(stderr, "ticketd parse: %s: %s (%s)\n", file.c_str(), err->message.c_str(),
                     err->code.c_str());
        return kExDataErr;
    }
    const auto& msg = std::get<parsers::Message>(result);
    if (json) {
        std::cout << parsers::to_summary_json(msg).dump(1) << "\n";
    } else {
        std::cout << parsers::to_summary_json(msg).dump(2) << "\n";
    }
    return 0;
}



/// `ticketd ingest`: files or stdin into the inbox, then through the pipeline. As an MTA pipe
/// (`-`) the exit status is the contract: 0 once the message is committed (even if it had to be
/// quarantined: it is kept), 75 for anything that may work later, so the MTA keeps the mail.
int cmd_ingest(const std::string& config_path, std::vector<std::string> files, bool trusted_agents) {
    if (files.empty()) files.push_back("-");
    bool from_pipe = std::find(files.begin(), files.end(), "-") != files.end();
    auto cfg = load_config_or_report(config_path);
    if (!cfg) return from_pipe ? kExTempFail : kExConfig;

    std::unique_ptr<store::Database> db;
    try {
        db = std::make_unique<store::Database>(cfg->desk.database);
    } catch (const store::Error& e) {
        std::cerr << "ticketd ingest: cannot open " << cfg->desk.database << ": " << e.what() << "\n";
        return kExTempFail;
    }

    int status = 0;
    for (const auto& file : files) {
        std::string raw;
        if (file == "-") {
            // Bound what we hold in memory; the parser's own cap then quarantines what is over it.
            const std::size_t cap = cfg->limits.max_message_bytes * 2 + 4096;
            raw.reserve(64 * 1024);
            char buf[65536];
            std::size_t n;
            while ((n = std::fread(buf, 1, sizeof buf, stdin)) > 0) {
                raw.append(buf, n);
                if (raw.size() > cap) {
                    std::cerr << "ticketd ingest: message on stdin exceeds " << cap
                              << " bytes (limits.max_message_size)\n";
                    return kExDataErr;  // the MTA returns it to the sender: nothing vanishes
                }
            }
            if (std::ferror(stdin)) {
                std::cerr << "ticketd ingest: error reading stdin\n";
                return kExTempFail;
            }
        } else if (!read_all(file, raw)) {
            std::cerr << "ticketd ingest: cannot read " << file << "\n";
            status = kExNoInput;
            continue;
        }
        std::string source = file == "-" ? "pipe" : "file:" + file;
        try {
            auto out = tickets::ingest_raw(*db, cfg, source, raw, trusted_agents);
            std::cout << (file == "-" ? "stdin" : file) << ": " << tickets::to_string(out.outcome);
            if (out.ticket_number) std::cout << " #" << *out.ticket_number;
            if (out.linked_from) std::cout << " (follows #" << *out.linked_from << ")";
            if (!out.detail.empty()) std::cout << " (" << out.detail << ")";
            std::cout << "\n";
        } catch (const store::Error& e) {
            std::cerr << "ticketd ingest: " << (file == "-" ? "stdin" : file) << ": "
                      << (e.temporary() ? "temporary failure, try again: " : "") << e.what() << "\n";
            if (from_pipe || e.temporary()) return kExTempFail;
            status = kExTempFail;
        }
    }
    return status;
}


int cmd_tickets_list(const std::string& config_path, const std::string& status, bool json, int limit) {
    auto cfg = load_config_or_report(config_path);
    if (!cfg) return kExConfig;
    store::ListFilter filter;
    if (!status.empty()) {
        filter.status = store::parse_status(status);
        if (!filter.status) {
            std::cerr << "ticketd tickets list: unknown status '" << status
                      << "' (open, pending, resolved, closed)\n";
            return kExUsage;
        }
    }
    filter.limit = limit;
    auto db = open_existing(*cfg);
    auto list = tickets::list_tickets(*db, filter);
    if (json) std::cout << tickets::list_json(list).dump(2) << "\n";
    else std::cout << tickets::render_list(list);
    return 0;
}

int cmd_tickets_show(const std::string& config_path, std::int64_t number, bool json) {
    auto cfg = load_config_or_report(config_path);
    if (!cfg) return kExConfig;
    auto db = open_existing(*cfg);
    auto view = tickets::show_ticket(*db, number);
    if (!view) {
        std::cerr << "ticketd tickets show: no ticket #" << number << "\n";
        return 1;
    }
    if (json) {
        auto j = tickets::show_json(*view, cfg->desk);
        if (db->schema_version() >= 6) j["sla"] = tickets::sla_json(*db, *cfg, view->ticket.id, db->now());  // issue 6
        std::cout << j.dump(2) << "\n";
    } else {
        std::cout << tickets::render_show(*view, cfg->desk);
        if (db->schema_version() >= 6)
            if (auto sla = tickets::render_sla(*db, *cfg, view->ticket.id, db->now()); !sla.empty()) std::cout << "\n" << sla;
    }
    return 0;
}

/// `ticketd run`: the daemon (or one cycle of it with --once).
int cmd_run(const std::string& config_path, bool once, const std::string& log_level) {
    // Log at the requested level while the config loads, then at the config's own level.
    setup_logging(log_level.empty() ? "info" : log_level);
    boost::asio::io_context io;
    ServiceOptions options;
    options.config_path = config_path;
    Service service(io, options);
    if (!service.configure()) return kExConfig;
    if (log_level.empty()) spdlog::set_level(spdlog::level::from_str(service.config()->logging.level));
    return once ? service.run_once() : service.run();
}

/// `ticketd check`: every problem on its own line as file:line:col: message; exit 0 or 1.
int cmd_check(const std::string& config_path) {
    auto loaded = config::load_file(config_path);
    for (const auto& e : loaded.errors) std::cerr << e.to_string() << "\n";
    if (!loaded.config) return 1;
    // Warnings only (exit 0): `check` gates every start (ExecStartPre) and reload.
    for (const auto& f : config::check_secret_files(*loaded.config)) std::cerr << f.to_string() << "\n";
    std::cout << config_path << ": OK (desk '" << loaded.config->desk.name << "', "
              << loaded.config->imap.size() << " mailbox(es), " << loaded.config->rules.rules.size()
              << " rule(s), " << loaded.config->rules.tests.size() << " rule test(s) passed)\n";
    return 0;
}

}  // namespace

int run_cli(int argc, char** argv) {
    CLI::App app{"ticketd: a support mailbox turned into a ticket desk"};
    app.require_subcommand(1);
    std::string config_path = config::default_path();
    app.add_option("--config", config_path,
                   "configuration file (default: $TICKETD_CONFIG or /etc/ticketd/ticketd.yaml)");
    app.fallthrough();  // `ticketd check --config F` as well as `ticketd --config F check`
    app.set_version_flag("--version", [] {
        return std::string("ticketd ") + TICKETD_VERSION + "\nallocator: " +
               metrics::describe(metrics::allocator_in_use());
    });

    std::string parse_file;
    bool parse_json = false;
    auto* parse = app.add_subcommand("parse", "Parse one message and print what ticketd sees");
    parse->add_option("file", parse_file, "message file (.eml), or - for stdin")->required();
    parse->add_flag("--json", parse_json, "print the JSON summary");

    auto* check = app.add_subcommand("check", "Validate the configuration (file:line:col errors)");
    bool check_settings = false;
    check->add_flag("--settings", check_settings,
                    "print the reference of every config key (markdown, as in docs/config.md) instead");

    std::vector<std::string> ingest_files;
    auto* ingest = app.add_subcommand(
        "ingest", "File messages as tickets; '-' (or nothing) reads one message from stdin (MTA pipe)");
    ingest->add_option("files", ingest_files, "message files (.eml), or - for stdin");
    bool ingest_trusted_agents = false;
    ingest->add_flag("--trusted-agents", ingest_trusted_agents,
                     "mail from agents' addresses counts as theirs without Authentication-Results "
                     "(only for a transport outsiders cannot write to)");

    bool run_once = false;
    std::string log_level;
    auto* run = app.add_subcommand("run", "Run the daemon: poll the mailboxes, file tickets");
    run->add_flag("--once", run_once, "one full cycle (poll every mailbox, process, flush), then exit");
    run->add_option("--log-level", log_level, "trace, debug, info, warn, error (default: logging.level)")
        ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));

    auto* tickets_cmd = app.add_subcommand("tickets", "Inspect tickets");
    tickets_cmd->require_subcommand(1);
    std::string list_status;
    bool list_json = false;
    int list_limit = 100;
    auto* tlist = tickets_cmd->add_subcommand("list", "List tickets, newest first");
    tlist->add_option("--status", list_status, "only this status (open, pending, resolved, closed)");
    tlist->add_flag("--json", list_json, "print a JSON array of tickets");
    tlist->add_option("--limit", list_limit, "at most this many (default 100)")->check(CLI::Range(1, 1000000));
    std::int64_t show_number = 0;
    bool show_json = false;
    auto* tshow = tickets_cmd->add_subcommand("show", "Show one ticket: its conversation and trail");
    tshow->add_option("number", show_number, "ticket number")->required();
    tshow->add_flag("--json", show_json, "print the ticket as JSON");

    auto outbox_cmd = add_outbox_commands(app, config_path);

    auto status_cmd = add_status_command(app, config_path);
    auto backup_cmd = add_backup_command(app, config_path);
    auto rules_cmd = add_rules_commands(app, config_path);

    auto inbox_cmd = add_inbox_commands(app, config_path);
    auto report_cmd = add_report_command(app, config_path);
    auto sla_cmd = add_sla_commands(app, config_path);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? 0 : kExUsage;
    }
    // Every file a command creates (the database, its -wal and -shm, backups, exports) holds
    // mail: owner-only whatever the shell's umask. The unit sets UMask=0077 too; this covers a
    // ticketd run by hand, by cron or by an MTA pipe. One place, before any command runs.
    ::umask(0077);
    if (*parse) return cmd_parse(parse_file, parse_json);
    if (*check && check_settings) return std::cout << config::settings_markdown(), 0;
    if (*check) return cmd_check(config_path);
    try {
        if (*ingest) return cmd_ingest(config_path, ingest_files, ingest_trusted_agents);
        if (*run) return cmd_run(config_path, run_once, log_level);
        if (*tlist) return cmd_tickets_list(config_path, list_status, list_json, list_limit);
        if (*tshow) return cmd_tickets_show(config_path, show_number, show_json);
        if (auto rc = outbox_cmd()) return *rc;
        if (auto rc = status_cmd()) return *rc;
        if (auto rc = backup_cmd()) return *rc;
        if (auto rc = rules_cmd()) return *rc;
        if (auto rc = inbox_cmd()) return *rc;
        if (auto rc = report_cmd()) return *rc;
        if (auto rc = sla_cmd()) return *rc;
    } catch (const store::Error& e) {
        std::cerr << "ticketd: database: " << e.what() << "\n";
        return e.temporary() ? kExTempFail : 1;
    }
    return 64;
}

}  // namespace ticketd::daemon
