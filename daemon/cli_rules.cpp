#include "daemon/cli_rules.h"

#include <CLI/CLI.hpp>

#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "config/config.h"
#include "parsers/parse.h"
#include "rules/rules.h"
#include "store/database.h"
#include "store/tickets.h"

namespace ticketd::daemon {

namespace {

constexpr int kExDataErr = 65, kExNoInput = 66, kExConfig = 78;  // sysexits.h

struct RulesArgs {
    std::string file;
    std::string on = "new";
    std::int64_t ticket = 0;
    CLI::App* test = nullptr;
};

const char* result_text(rules::RuleTrace::Result r) {
    switch (r) {
        case rules::RuleTrace::Result::matched: return "MATCHED";
        case rules::RuleTrace::Result::not_matched: return "no match";
        case rules::RuleTrace::Result::wrong_context: return "skipped";
        case rules::RuleTrace::Result::not_reached: return "not reached";
    }
    return "?";
}

/// The ticket a reply would land on, read-only, for `--ticket N`.
std::optional<rules::TicketState> ticket_state(const config::Config& cfg, std::int64_t number) {
    store::OpenOptions opts;
    opts.create = false;
    store::Database db(cfg.desk.database, opts);
    store::Tickets tickets(db);
    auto t = tickets.by_number(number);
    if (!t) return std::nullopt;
    rules::TicketState s;
    s.status = store::to_string(t->status);
    s.priority = store::to_string(t->priority);
    s.queue = t->queue;
    s.tags = t->tags;
    return s;
}

int cmd_rules_test(const std::string& config_path, const RulesArgs& args) {
    auto loaded = config::load_file(config_path);
    for (const auto& e : loaded.errors) std::cerr << e.to_string() << "\n";
    if (!loaded.config) return kExConfig;
    const config::Config& cfg = *loaded.config;

    std::string raw;
    if (args.file == "-") {
        std::ostringstream ss;
        ss << std::cin.rdbuf();
        raw = ss.str();
    } else {
        std::ifstream in(args.file, std::ios::binary);
        if (!in) {
            std::cerr << "ticketd rules test: cannot read " << args.file << "\n";
            return kExNoInput;
        }
        std::ostringstream ss;
        ss << in.rdbuf();
        raw = ss.str();
    }
    auto parsed = parsers::parse(raw, cfg.limits);
    if (auto* err = std::get_if<parsers::ParseError>(&parsed)) {
        std::cerr << "ticketd rules test: " << args.file << ": " << err->message << " (" << err->code << ")\n";
        return kExDataErr;
    }
    rules::Context context = args.on == "reply" ? rules::Context::reply : rules::Context::new_ticket;
    rules::TicketState ticket;
    if (args.ticket > 0) {
        auto state = ticket_state(cfg, args.ticket);
        if (!state) {
            std::cerr << "ticketd rules test: no ticket #" << args.ticket << "\n";
            return 1;
        }
        ticket = *state;
        context = rules::Context::reply;
    }
    const auto facts = rules::make_facts(std::get<parsers::Message>(parsed), context, ticket, cfg.desk.addresses);
    std::vector<rules::RuleTrace> trace;
    const auto outcome = rules::evaluate(cfg.rules, facts, &trace);

    std::cout << "dry run: " << args.file << " as a " << (context == rules::Context::reply ? "reply" : "new ticket")
              << ", " << cfg.rules.rules.size() << " rule(s); nothing is written\n";
    for (const auto& t : trace) {
        std::cout << "  " << result_text(t.result) << ": '" << t.rule << "' (" << t.at.to_string() << ")";
        switch (t.result) {
            case rules::RuleTrace::Result::matched:
            case rules::RuleTrace::Result::not_matched:
                std::cout << (t.decided_by.empty() ? " (no conditions)" : " decided by " + t.decided_by);
                break;
            case rules::RuleTrace::Result::wrong_context:
                std::cout << " (does not run on " << (context == rules::Context::reply ? "replies" : "new tickets") << ")";
                break;
            case rules::RuleTrace::Result::not_reached:
                std::cout << " (stopped by '" << outcome.stopped_by << "')";
                break;
        }
        std::cout << "\n";
    }
    std::cout << "outcome:\n" << rules::describe(outcome);
    for (const auto& f : outcome.fired) {
        std::cout << "  '" << f.rule << "' changed:";
        for (const auto& c : f.changes) std::cout << " " << c;
        std::cout << "\n";
    }
    return 0;
}

}  // namespace

std::function<std::optional<int>()> add_rules_commands(CLI::App& app, const std::string& config_path) {
    auto args = std::make_shared<RulesArgs>();
    auto* rules_cmd = app.add_subcommand("rules", "Work with the admins' rules");
    rules_cmd->require_subcommand(1);
    args->test = rules_cmd->add_subcommand(
        "test", "Dry run: which rules match a message, which condition decided, and the outcome");
    args->test->add_option("file", args->file, "message file (.eml), or - for stdin")->required();
    args->test->add_option("--on", args->on, "evaluate as a new ticket or a reply (default new)")
        ->check(CLI::IsMember({"new", "reply"}));
    args->test->add_option("--ticket", args->ticket,
                           "evaluate as a reply to this ticket, with its status, priority, tags and queue");
    return [args, &config_path]() -> std::optional<int> {
        if (*args->test) return cmd_rules_test(config_path, *args);
        return std::nullopt;
    };
}

}  // namespace ticketd::daemon
