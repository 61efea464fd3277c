// The rules loader, then the loaded rules evaluated over a fixed message (regexes, globs, case
// folding) and the whole-set checks (unreachable rules). Inline `tests:` are run too: they parse
// the messages the input carries.
#include <cstddef>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "config/rules_loader.h"
#include "parsers/parse.h"
#include "rules/rules.h"

namespace {

const ticketd::parsers::Message& sample() {
    static const ticketd::parsers::Message m = [] {
        auto r = ticketd::parsers::parse(
            "From: Ann Example <ann@bigcorp.example>\r\n"
            "To: support@example.com, billing@example.com\r\n"
            "Subject: Invoice 42: Straße kaputt, URGENT\r\n"
            "Message-ID: <a1@bigcorp.example>\r\n"
            "List-Unsubscribe: <mailto:u@x.example>\r\n"
            "X-Customer-Tier: gold\r\n"
            "MIME-Version: 1.0\r\n"
            "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
            "--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThe printer is on fire. ÉTÉ\r\n"
            "--b\r\nContent-Type: application/pdf; name=\"inv 42.pdf\"\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\nJVBERi0=\r\n--b--\r\n");
        return std::get<ticketd::parsers::Message>(std::move(r));
    }();
    return m;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace ticketd;
    const std::string yaml(reinterpret_cast<const char*>(data), size);
    rules::RuleSet set;
    std::vector<config::ConfigError> errors;
    config::load_rule_text(yaml, "fuzz-rules.yaml", set, errors);
    if (!errors.empty()) return 0;
    const std::vector<std::string> ours = {"support@example.com"};
    rules::TicketState ticket;
    ticket.tags = {"vip", "Ärger"};
    for (auto ctx : {rules::Context::new_ticket, rules::Context::reply}) {
        const auto facts = rules::make_facts(sample(), ctx, ticket, ours);
        std::vector<rules::RuleTrace> trace;
        (void)rules::describe(rules::evaluate(set, facts, &trace));
    }
    (void)rules::unreachable_rules(set);
    (void)rules::run_tests(set, ours);
    return 0;
}
