// Rule-file `tests:`: the desk's policy checked like a unit test, and the outcome as text.
#include <algorithm>
#include <sstream>

#include "parsers/parse.h"
#include "rules/rules.h"

namespace ticketd::rules {

namespace {

std::string join(const std::vector<std::string>& v, const char* sep = ", ") {
    std::string out;
    for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
    return out;
}

std::string list_text(const std::vector<std::string>& v) { return "[" + join(v) + "]"; }

std::string auto_reply_text(const std::optional<AutoReply>& a) {
    if (!a) return "(desk default)";
    return a->enabled ? a->template_name : "false";
}

}  // namespace

std::string describe(const Outcome& o) {
    std::ostringstream out;
    auto line = [&](const char* name, const std::optional<std::string>& v) {
        if (v) out << "  " << name << ": " << *v << "\n";
    };
    line("priority", o.priority);
    line("status", o.status);
    line("queue", o.queue);
    line("assign", o.assign);
    if (!o.add_tags.empty()) out << "  tags: +" << join(o.add_tags, " +") << "\n";
    if (!o.remove_tags.empty()) out << "  remove_tags: -" << join(o.remove_tags, " -") << "\n";
    if (o.auto_reply) out << "  auto_reply: " << auto_reply_text(o.auto_reply) << "\n";
    if (!o.notify.empty()) out << "  notify: " << join(o.notify) << "\n";
    out << "  spam: " << (o.spam ? "yes" : "no") << "\n";
    std::vector<std::string> names;
    for (const auto& f : o.fired) names.push_back(f.rule);
    out << "  rules fired: " << (names.empty() ? "none" : join(names));
    if (!o.stopped_by.empty()) out << " (stopped by '" << o.stopped_by << "')";
    out << "\n";
    return out.str();
}

std::vector<Problem> run_tests(const RuleSet& rules, const std::vector<std::string>& our_addresses) {
    std::vector<Problem> problems;
    for (const auto& test : rules.tests) {
        auto fail = [&](const std::string& what) {
            problems.push_back({test.at, "test '" + test.name + "' failed: " + what});
        };
        auto parsed = parsers::parse(test.message);
        if (auto* err = std::get_if<parsers::ParseError>(&parsed)) {
            fail("the message cannot be parsed: " + err->message);
            continue;
        }
        const Facts facts = make_facts(std::get<parsers::Message>(parsed), test.context, test.ticket, our_addresses);
        const Outcome got = evaluate(rules, facts);
        const Expectation& e = test.expect;
        auto check = [&](const char* name, const std::optional<std::string>& want,
                         const std::optional<std::string>& have) {
            if (want && want != have)
                fail(std::string("expected ") + name + " " + *want + ", got " + have.value_or("(unchanged)"));
        };
        check("priority", e.priority, got.priority);
        check("status", e.status, got.status);
        check("queue", e.queue, got.queue);
        check("assign", e.assign, got.assign);
        auto sorted = [](std::vector<std::string> v) {
            std::sort(v.begin(), v.end());
            v.erase(std::unique(v.begin(), v.end()), v.end());
            return v;
        };
        if (e.tags && sorted(*e.tags) != got.add_tags)
            fail("expected tags " + list_text(sorted(*e.tags)) + ", got " + list_text(got.add_tags));
        if (e.remove_tags && sorted(*e.remove_tags) != got.remove_tags)
            fail("expected remove_tags " + list_text(sorted(*e.remove_tags)) + ", got " + list_text(got.remove_tags));
        if (e.spam && *e.spam != got.spam)
            fail(std::string("expected spam ") + (*e.spam ? "true" : "false") + ", got " + (got.spam ? "true" : "false"));
        if (e.auto_reply) {
            // Expecting `false` is satisfied only by a rule saying so, not by silence.
            if (got.auto_reply != e.auto_reply)
                fail("expected auto_reply " + auto_reply_text(e.auto_reply) + ", got " + auto_reply_text(got.auto_reply));
        }
        if (e.notify && sorted(*e.notify) != sorted(got.notify))
            fail("expected notify " + list_text(sorted(*e.notify)) + ", got " + list_text(sorted(got.notify)));
        if (e.rules) {
            std::vector<std::string> names;
            for (const auto& f : got.fired) names.push_back(f.rule);
            if (names != *e.rules) fail("expected rules " + list_text(*e.rules) + " to fire, got " + list_text(names));
        }
    }
    return problems;
}

}  // namespace ticketd::rules
