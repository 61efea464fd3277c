// The admins' rules at scale (issue 4): 1,000 rules evaluated for every message of a corpus-like
// set (the shared corpus when present, else tests/data and examples/demo), with the time to load
// and validate them. Parsing is done once up front and not timed; what is timed per message is
// what ingestion adds: building the facts (case folding included) and evaluating every rule.
//
// usage: bench_rules [--rules N] [--corpus DIR] [--evaluations N] [--slowest N]
// --slowest N prints the N messages with the highest median time, their sizes, and what their
// time goes to (building the facts, and the rules grouped by the fields they test).
// Per message both wall-clock and thread CPU time are reported: on the shared machine the
// wall-clock tail also counts time spent waiting for a core.
// Aims (docs/benchmarks.md, "Rules"): p99 per message under 1 ms, load+validate under 200 ms.

#include <algorithm>
#include <time.h>

#include <chrono>
#include <map>
#include <set>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "config/rules_loader.h"
#include "parsers/parse.h"
#include "rules/rules.h"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

/// A realistic mix, the shapes admins write: domain lists, subject keywords and regexes, header
/// tests, body phrases, address lists, nested any/all/not, replies on ticket state. No rule stops,
/// so every message meets all of them.
std::string make_rules(int n) {
    std::string y = "rules:\n";
    for (int i = 0; i < n; ++i) {
        const std::string id = std::to_string(i);
        y += "  - name: rule " + id + "\n";
        switch (i % 10) {
            case 0:
                y += "    when: { from: { domain: [customer" + id + ".example, partner" + id + ".example, corp" + id +
                     ".example] } }\n    then: { priority: high, tags: [vip" + id + "] }\n";
                break;
            case 1:
                y += "    when: { subject: { contains: [\"order " + id + "\", \"invoice " + id +
                     "\"] } }\n    then: { queue: q" + id + " }\n";
                break;
            case 2:
                y += "    when: { subject: { regex: '\\b(outage|down|incident)[- ]?" + id +
                     "\\b' } }\n    then: { priority: urgent, tags: [outage] }\n";
                break;
            case 3:
                y += "    when: { header: { name: X-Customer-Tier, equals: [gold" + id + ", platinum" + id +
                     "] } }\n    then: { tags: [tier" + id + "] }\n";
                break;
            case 4:
                y += "    when: { body: { contains: \"reference number " + id + "\" } }\n    then: { tags: [ref] }\n";
                break;
            case 5:
                y += "    when:\n      all:\n        - from: { ends_with: \"@dept" + id +
                     ".example\" }\n        - not: { subject: { starts_with: \"re:\" } }\n"
                     "    then: { assign: agent" + id + "@example.com }\n";
                break;
            case 6:
                y += "    when: { from: { in: [a" + id + "@x.example, b" + id + "@x.example, c" + id +
                     "@x.example, d" + id + "@x.example] } }\n    then: { spam: true }\n";
                break;
            case 7:
                y += "    on: [reply]\n    when:\n      any:\n        - status: { equals: [resolved, closed] }\n"
                     "        - tags: { equals: waiting" + id + " }\n    then: { tags: [back" + id + "] }\n";
                break;
            case 8:
                y += "    when: { attachment: { filename: { matches: \"invoice-" + id +
                     "-*.pdf\" } } }\n    then: { queue: billing }\n";
                break;
            case 9:
                y += "    when:\n      any:\n        - subject: { matches: \"*ticket " + id +
                     "*\" }\n        - size: { gt: " + std::to_string(5 + i % 7) + "M }\n"
                     "    then: { notify: [team" + id + "@example.com] }\n";
                break;
        }
    }
    return y;
}

std::vector<fs::path> corpus_files(const fs::path& corpus, const fs::path& source) {
    std::vector<fs::path> files;
    auto add_dir = [&](const fs::path& d) {
        std::error_code ec;
        if (!fs::is_directory(d, ec)) return;
        for (const auto& e : fs::recursive_directory_iterator(d, ec))
            if (e.is_regular_file() && e.path().extension() != ".md" && e.path().extension() != ".json" &&
                e.path().extension() != ".yaml")
                files.push_back(e.path());
    };
    if (!corpus.empty()) add_dir(corpus);
    if (files.empty()) {
        add_dir(source / "tests" / "data");
        add_dir(source / "examples" / "demo");
    }
    std::sort(files.begin(), files.end());
    return files;
}

double thread_cpu_us() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}

void fields_of(const ticketd::rules::Condition& c, std::set<std::string>& out) {
    if (c.kind == ticketd::rules::Condition::Kind::leaf)
        out.insert(std::string(ticketd::rules::to_string(c.leaf.field)) + " " + ticketd::rules::to_string(c.leaf.op));
    for (const auto& child : c.children) fields_of(child, out);
}

/// "body contains", "from ends_with + subject starts_with": what a rule tests, for grouping.
std::string shape_of(const ticketd::rules::Rule& r) {
    std::set<std::string> fields;
    fields_of(r.when, fields);
    std::string s;
    for (const auto& f : fields) s += (s.empty() ? "" : " + ") + f;
    return s.empty() ? "always" : s;
}

double percentile(std::vector<double> v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    std::size_t i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
    return v[std::min(i, v.size() - 1)];
}

}  // namespace

int main(int argc, char** argv) {
    int n_rules = 1000;
    long evaluations = 20000;
    int slowest = 0;
    fs::path corpus = fs::path(TICKETD_SOURCE_DIR) / ".." / "shared" / "corpus";
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--rules")) n_rules = std::atoi(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--corpus")) corpus = argv[i + 1];
        else if (!std::strcmp(argv[i], "--evaluations")) evaluations = std::atol(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--slowest")) slowest = std::atoi(argv[i + 1]);
        else {
            std::fprintf(stderr, "usage: bench_rules [--rules N] [--corpus DIR] [--evaluations N] [--slowest N]\n");
            return 64;
        }
    }

    // Load and validate: YAML to the model (regexes and globs compiled), then the whole-set
    // checks (unreachable rules). The median of several loads, as the daemon does it on reload.
    const std::string yaml = make_rules(n_rules);
    std::vector<double> load_ms;
    ticketd::rules::RuleSet set;
    for (int round = 0; round < 7; ++round) {
        ticketd::rules::RuleSet fresh;
        std::vector<ticketd::config::ConfigError> errors;
        const auto t0 = Clock::now();
        ticketd::config::load_rule_text(yaml, "bench.yaml", fresh, errors);
        const auto problems = ticketd::rules::unreachable_rules(fresh);
        load_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
        if (!errors.empty() || !problems.empty()) {
            std::fprintf(stderr, "bench_rules: the generated rules do not load: %s\n",
                         errors.empty() ? problems[0].message.c_str() : errors[0].to_string().c_str());
            return 1;
        }
        set = std::move(fresh);
    }

    std::vector<ticketd::parsers::Message> messages;
    std::vector<fs::path> paths;
    std::uint64_t bytes = 0;
    for (const auto& f : corpus_files(corpus, TICKETD_SOURCE_DIR)) {
        auto parsed = ticketd::parsers::parse(slurp(f));
        if (auto* m = std::get_if<ticketd::parsers::Message>(&parsed)) {
            bytes += m->raw_size;
            messages.push_back(std::move(*m));
            paths.push_back(f);
        }
    }
    if (messages.empty()) {
        std::fprintf(stderr, "bench_rules: no messages found\n");
        return 1;
    }

    const std::vector<std::string> ours{"support@example.com"};
    std::vector<double> per_message_us, per_message_cpu_us;
    per_message_us.reserve(static_cast<std::size_t>(evaluations));
    per_message_cpu_us.reserve(static_cast<std::size_t>(evaluations));
    std::vector<std::vector<double>> by_message(messages.size());
    std::size_t fired = 0;
    ticketd::rules::TicketState resolved;
    resolved.status = "resolved";
    for (long i = 0; i < evaluations; ++i) {
        const auto& m = messages[static_cast<std::size_t>(i) % messages.size()];
        const bool reply = i % 4 == 3;  // a quarter replies, so on: [reply] rules run too
        const double c0 = thread_cpu_us();
        const auto t0 = Clock::now();
        auto facts = ticketd::rules::make_facts(m, reply ? ticketd::rules::Context::reply : ticketd::rules::Context::new_ticket,
                                                reply ? resolved : ticketd::rules::TicketState{}, ours);
        auto outcome = ticketd::rules::evaluate(set, facts);
        per_message_us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
        per_message_cpu_us.push_back(thread_cpu_us() - c0);
        by_message[static_cast<std::size_t>(i) % messages.size()].push_back(per_message_cpu_us.back());
        fired += outcome.fired.size();
    }

    std::printf("rules: %d, messages: %zu distinct (%.1f KB average), evaluations: %ld, rules fired: %zu\n", n_rules,
                messages.size(), static_cast<double>(bytes) / 1024.0 / static_cast<double>(messages.size()), evaluations,
                fired);
    std::printf("per message (facts + %d rules): median %.1f us, p90 %.1f us, p99 %.1f us, max %.1f us\n", n_rules,
                percentile(per_message_us, 0.5), percentile(per_message_us, 0.9), percentile(per_message_us, 0.99),
                percentile(per_message_us, 1.0));
    std::printf("per message, thread CPU time: median %.1f us, p90 %.1f us, p99 %.1f us, max %.1f us\n",
                percentile(per_message_cpu_us, 0.5), percentile(per_message_cpu_us, 0.9),
                percentile(per_message_cpu_us, 0.99), percentile(per_message_cpu_us, 1.0));
    std::printf("load + validate %d rules (%zu KB of YAML): median %.1f ms, max %.1f ms\n", n_rules, yaml.size() / 1024,
                percentile(load_ms, 0.5), percentile(load_ms, 1.0));
    if (slowest > 0) {
        // Each rule group alone, so the cost of a group is visible (the facts are built once).
        std::map<std::string, ticketd::rules::RuleSet> groups;
        for (const auto& r : set.rules) groups[shape_of(r)].rules.push_back(r);
        for (auto& [shape, g] : groups) ticketd::rules::prepare(g);
        std::vector<std::size_t> order(messages.size());
        for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
        auto median_of = [&](std::size_t i) { return percentile(by_message[i], 0.5); };
        std::sort(order.begin(), order.end(), [&](auto a, auto b) { return median_of(a) > median_of(b); });
        order.resize(std::min<std::size_t>(order.size(), static_cast<std::size_t>(slowest)));
        std::printf("slowest %zu messages (median thread CPU time of their evaluations):\n", order.size());
        for (auto i : order) {
            const auto& m = messages[i];
            const double c0 = thread_cpu_us();
            auto facts = ticketd::rules::make_facts(m, ticketd::rules::Context::new_ticket, {}, ours);
            const double facts_us = thread_cpu_us() - c0;
            std::printf("  %.0f us  %s: raw %llu B, body %zu B (folded %zu B, %s), %zu headers, %zu attachments; facts %.0f us\n",
                        median_of(i), fs::relative(paths[i], corpus).string().c_str(),
                        static_cast<unsigned long long>(m.raw_size), facts.body.raw.size(), facts.body.folded.size(),
                        std::all_of(m.body.begin(), m.body.end(), [](unsigned char c) { return c < 0x80; }) ? "ASCII"
                                                                                                           : "non-ASCII",
                        m.headers.size(), m.attachments.size(), facts_us);
            std::vector<std::pair<double, std::string>> costs;
            for (const auto& [shape, g] : groups) {
                std::vector<double> t;
                for (int k = 0; k < 5; ++k) {
                    const double g0 = thread_cpu_us();
                    auto o = ticketd::rules::evaluate(g, facts);
                    t.push_back(thread_cpu_us() - g0);
                    fired += o.fired.size() > 1000000 ? 1 : 0;  // keep the call
                }
                costs.push_back({percentile(t, 0.5), shape + " (" + std::to_string(g.rules.size()) + " rules)"});
            }
            std::sort(costs.rbegin(), costs.rend());
            for (std::size_t k = 0; k < std::min<std::size_t>(3, costs.size()); ++k)
                std::printf("      %7.0f us  %s\n", costs[k].first, costs[k].second.c_str());
        }
    }
    const bool ok = percentile(per_message_us, 0.99) < 1000.0 && percentile(load_ms, 0.5) < 200.0;
    std::printf("aims (p99 < 1 ms, load < 200 ms): %s\n", ok ? "met" : "NOT met");
    return 0;
}
