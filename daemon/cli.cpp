#include "daemon/cli.h"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include "parsers/parse.h"
#include "parsers/summary.h"

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
        return 66;  // EX_NOINPUT
    }
    auto result = parsers::parse(raw);
    if (auto* err = std::get_if<parsers::ParseError>(&result)) {
        std::fprintf(stderr, "ticketd parse: %s: %s (%s)\n", file.c_str(), err->message.c_str(),
                     err->code.c_str());
        return 65;  // EX_DATAERR
    }
    const auto& msg = std::get<parsers::Message>(result);
    if (json) {
        std::cout << parsers::to_summary_json(msg).dump(1) << "\n";
    } else {
        std::cout << parsers::to_summary_json(msg).dump(2) << "\n";
    }
    return 0;
}

}  // namespace

int run_cli(int argc, char** argv) {
    CLI::App app{"ticketd: a support mailbox turned into a ticket desk"};
    app.require_subcommand(1);

    std::string parse_file;
    bool parse_json = false;
    auto* parse = app.add_subcommand("parse", "Parse one message and print what ticketd sees");
    parse->add_option("file", parse_file, "message file (.eml), or - for stdin")->required();
    parse->add_flag("--json", parse_json, "print the JSON summary");

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? 0 : 64;  // EX_USAGE
    }
    if (*parse) return cmd_parse(parse_file, parse_json);
    return 64;
}

}  // namespace ticketd::daemon
