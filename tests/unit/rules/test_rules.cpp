// The rules language: loading (exact file:line:col errors), every operator, case folding on
// UTF-8, order/override/stop, on: new/reply, unreachable rules, rule-file tests, hostile input.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>

#include "config/config.h"
#include "config/rules_loader.h"
#include "parsers/parse.h"
#include "rules/rules.h"
#include "tests/support/paths.h"

namespace ticketd {
namespace {

using testing::TempDir;

std::vector<std::string> lines(const std::vector<config::ConfigError>& errors) {
    std::vector<std::string> out;
    for (const auto& e : errors) out.push_back(e.to_string());
    return out;
}

rules::RuleSet load(const std::string& yaml, std::vector<std::string>* errors = nullptr) {
    rules::RuleSet set;
    std::vector<config::ConfigError> errs;
    config::load_rule_text(yaml, "r.yaml", set, errs);
    if (errors) *errors = lines(errs);
    else EXPECT_TRUE(errs.empty()) << ::testing::PrintToString(lines(errs));
    return set;
}

parsers::Message message(const std::string& raw) {
    auto parsed = parsers::parse(raw);
    EXPECT_TRUE(std::holds_alternative<parsers::Message>(parsed));
    return std::get<parsers::Message>(parsed);
}

void put(const std::filesystem::path& p, const std::string& content) {
    std::filesystem::create_directories(p.parent_path());
    testing::write_file(p, content);
}

const std::vector<std::string> kOurs{"support@acme.example", "billing@acme.example"};

rules::Outcome run(const rules::RuleSet& set, const std::string& raw,
                   rules::Context ctx = rules::Context::new_ticket, rules::TicketState ticket = {}) {
    return rules::evaluate(set, rules::make_facts(message(raw), ctx, ticket, kOurs));
}

std::vector<std::string> fired(const rules::Outcome& o) {
    std::vector<std::string> out;
    for (const auto& f : o.fired) out.push_back(f.rule);
    return out;
}

const char* kVip = "From: Ann <ann@BigCorp.example>\nTo: support@acme.example\nSubject: Help\n\nHello";

TEST(RulesLoad, TheIssueExampleLoadsAndEvaluates) {
    auto set = load(R"(rules:
  - name: VIP customers
    when:
      any:
        - from: { domain: [bigcorp.example, megacorp.example] }
        - header: { name: X-Customer-Tier, equals: gold }
    then: { priority: high, tags: [vip], queue: key-accounts }
  - name: Outage reports
    on: [new]
    when:
      all:
        - subject: { regex: '\b(down|outage)\b' }
        - not: { from: { equals: monitoring@example.com } }
    then: { priority: urgent, tags: [outage], stop: true }
)");
    ASSERT_EQ(set.rules.size(), 2u);
    auto o = run(set, kVip);
    EXPECT_EQ(o.priority, "high");
    EXPECT_EQ(o.add_tags, std::vector<std::string>{"vip"});
    EXPECT_EQ(o.queue, "key-accounts");

    o = run(set, "From: x@y.example\nX-Customer-Tier: GOLD\nSubject: The site is DOWN\n\nhelp");
    EXPECT_EQ(fired(o), (std::vector<std::string>{"VIP customers", "Outage reports"}));
    EXPECT_EQ(o.priority, "urgent");  // the later rule overrides
    EXPECT_EQ(o.add_tags, (std::vector<std::string>{"outage", "vip"}));
    EXPECT_EQ(o.stopped_by, "Outage reports");

    o = run(set, "From: monitoring@example.com\nSubject: outage\n\nx");
    EXPECT_TRUE(o.fired.empty());
}

TEST(RulesLoad, ErrorsPointAtTheTextWithHints) {
    std::vector<std::string> errors;
    load(R"(rules:
  - name: a
    when: { subjct: { contains: x } }
    then: { priority: hihg }
  - name: b
    when: { subject: { regex: '(unclosed' } }
    then: { tags: [x], colour: red }
  - name: a
    when: { size: { contains: big } }
    then: { stop: maybe }
)",
         &errors);
    ASSERT_EQ(errors.size(), 7u) << ::testing::PrintToString(errors);
    EXPECT_EQ(errors[0], "r.yaml:3:13: unknown condition 'subjct' (did you mean 'subject'?)");
    EXPECT_EQ(errors[1], "r.yaml:4:23: rules[0].then.priority: expected one of low, normal, high, urgent, got 'hihg'");
    EXPECT_EQ(errors[2],
              "r.yaml:6:31: rules[1].when.subject.regex: bad regex '(unclosed': missing ): (unclosed");
    EXPECT_EQ(errors[3], "r.yaml:7:24: unknown key 'rules[1].then.colour'");
    EXPECT_EQ(errors[4], "r.yaml:9:31: rules[2].when.size.contains: size takes equals, gt, ge, lt or le");
    EXPECT_EQ(errors[5], "r.yaml:10:19: rules[2].then.stop: expected true or false, got 'maybe'");
    EXPECT_EQ(errors[6], "r.yaml:8:11: rules[2]: the rule name 'a' is already used at r.yaml:2:5");
}

TEST(RulesLoad, WrongTypesAndMissingParts) {
    std::vector<std::string> errors;
    load(R"(rules:
  - name: no then
    when: { subject: { contains: x, equals: y } }
  - name: bad on
    on: [later]
    when: { header: { equals: x } }
    then: { auto_reply: true }
tests: nope
)",
         &errors);
    ASSERT_EQ(errors.size(), 6u) << ::testing::PrintToString(errors);
    EXPECT_EQ(errors[0], "r.yaml:3:22: rules[0].when.subject: one operator per condition; combine several with all:");
    EXPECT_EQ(errors[1], "r.yaml:2:5: rules[0]: 'then:' is required (what the rule does)");
    EXPECT_EQ(errors[2], "r.yaml:5:9: rules[1].on: expected new or reply, got 'later'");
    EXPECT_EQ(errors[3], "r.yaml:6:21: rules[1].when.header: 'name:' is required (the header field, like X-Customer-Tier)");
    EXPECT_EQ(errors[4], "r.yaml:7:25: rules[1].then.auto_reply: name the template to send (auto_reply: NAME), or false");
    EXPECT_EQ(errors[5], "r.yaml:8:8: tests: expected a list of tests");
}

TEST(RulesLoad, YamlSyntaxErrorHasAPosition) {
    std::vector<std::string> errors;
    load("rules:\n  - name: x\n    when: { subject: [unclosed\n", &errors);
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_EQ(errors[0].rfind("r.yaml:", 0), 0u);
    EXPECT_NE(errors[0].find(":4:"), std::string::npos) << errors[0];
}

TEST(RulesEval, TextOperatorsAreCaseInsensitiveOnUtf8) {
    auto set = load(R"(rules:
  - { name: eq, when: { subject: { equals: "ÄRGER MIT DER STRASSE" } }, then: { tags: [eq] } }
  - { name: contains, when: { body: { contains: [nothing, "GRÜSSE"] } }, then: { tags: [contains] } }
  - { name: starts, when: { subject: { starts_with: "ärger" } }, then: { tags: [starts] } }
  - { name: ends, when: { subject: { ends_with: "straße" } }, then: { tags: [ends] } }
  - { name: glob, when: { subject: { matches: "*mit*" } }, then: { tags: [glob] } }
  - { name: regex, when: { subject: { regex: 'ärger\s+MIT' } }, then: { tags: [regex] } }
  - { name: sensitive, when: { subject: { contains: "ärger", case_sensitive: true } }, then: { tags: [sensitive] } }
)");
    auto o = run(set,
                 "From: a@b.example\nSubject: =?UTF-8?Q?=C3=84rger_mit_der_Stra=C3=9Fe?=\n"
                 "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\nViele Grüße\n");
    EXPECT_EQ(o.add_tags, (std::vector<std::string>{"contains", "ends", "eq", "glob", "regex", "starts"}));
}

TEST(RulesEval, AddressOperators) {
    auto set = load(R"(rules:
  - { name: domain, when: { from: { domain: bigcorp.example } }, then: { tags: [domain] } }
  - { name: not-a-suffix, when: { from: { domain: corp.example } }, then: { tags: [suffix] } }
  - { name: in, when: { from: { in: [x@y.example, Ann@Mail.BigCorp.example] } }, then: { tags: [in] } }
  - { name: recipient, when: { recipient: { equals: billing@acme.example } }, then: { tags: [recipient] } }
  - { name: cc, when: { cc: { exists: true } }, then: { tags: [cc] } }
  - { name: nocc, when: { cc: { exists: false } }, then: { tags: [nocc] } }
)");
    auto o = run(set, "From: ann@mail.bigcorp.example\nTo: Billing+1042.abc@ACME.example\nSubject: x\n\nx");
    EXPECT_EQ(o.add_tags, (std::vector<std::string>{"domain", "in", "nocc", "recipient"}));
    o = run(set, "From: ann@notbigcorp.example\nTo: a@b.example\nCc: c@d.example\nDelivered-To: billing@acme.example\nSubject: x\n\nx");
    EXPECT_EQ(o.add_tags, (std::vector<std::string>{"cc", "recipient"}));
}

TEST(RulesEval, InReadsAFileOfAddresses) {
    TempDir dir;
    put(dir / "vip.txt", "# our VIPs\nAnn@BigCorp.example\n\n  bob@x.example  # the CEO\n");
    put(dir / "r.yaml", "rules:\n  - { name: vip, when: { from: { in: { file: vip.txt } } }, then: { priority: high } }\n");
    rules::RuleSet set;
    std::vector<config::ConfigError> errs;
    config::load_rule_files({(dir / "r.yaml").string()}, set, errs);
    ASSERT_TRUE(errs.empty()) << ::testing::PrintToString(lines(errs));
    EXPECT_EQ(run(set, "From: bob@X.example\nSubject: x\n\nx").priority, "high");
    EXPECT_EQ(run(set, "From: eve@x.example\nSubject: x\n\nx").priority, std::nullopt);
    EXPECT_EQ(set.files.size(), 2u);  // the rule file and the address list: both are watched
}

TEST(RulesEval, HeadersAttachmentsSizeClassification) {
    auto set = load(R"(rules:
  - { name: hdr, when: { header: { name: x-priority, starts_with: "1" } }, then: { tags: [hdr] } }
  - { name: hdr-missing, when: { header: { name: X-Nope, exists: false } }, then: { tags: [nohdr] } }
  - { name: pdf, when: { attachment: { filename: { matches: "*.PDF" } } }, then: { tags: [pdf] } }
  - { name: type, when: { attachment: { type: { starts_with: application/ } } }, then: { tags: [type] } }
  - { name: any-att, when: { attachment: { exists: true } }, then: { tags: [att] } }
  - { name: big, when: { size: { gt: 100 } }, then: { tags: [big] } }
  - { name: small, when: { size: { lt: 1K } }, then: { tags: [small] } }
  - { name: human, when: { classification: requester }, then: { tags: [human] } }
)");
    const std::string raw =
        "From: a@b.example\nX-Priority: 1 (Highest)\nSubject: invoice\nMIME-Version: 1.0\n"
        "Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nsee attached\n"
        "--b\nContent-Type: application/pdf\nContent-Disposition: attachment; filename=\"Invoice-42.pdf\"\n"
        "Content-Transfer-Encoding: base64\n\nJVBERi0=\n--b--\n";
    auto o = run(set, raw);
    EXPECT_EQ(o.add_tags, (std::vector<std::string>{"att", "big", "hdr", "human", "nohdr", "pdf", "small", "type"}));
    o = run(set, "From: MAILER-DAEMON@x.example\nAuto-Submitted: auto-replied\nSubject: Out of office\n\nAway");
    EXPECT_EQ(o.add_tags, (std::vector<std::string>{"nohdr", "small"}));
}

TEST(RulesEval, OrderOverrideStopAndContext) {
    auto set = load(R"(rules:
  - { name: first, when: { subject: { contains: a } }, then: { priority: low, queue: one, tags: [a, b], notify: [x@y.example] } }
  - { name: replies, on: reply, when: { status: closed }, then: { tags: [reopened], remove_tags: [b] } }
  - { name: second, on: [new, reply], when: { subject: { contains: a } }, then: { priority: high, auto_reply: false, notify: [x@y.example, z@y.example], stop: true } }
  - { name: never-here, when: { subject: { contains: a } }, then: { priority: urgent } }
)");
    auto o = run(set, "From: a@b.example\nSubject: a\n\nx");
    EXPECT_EQ(fired(o), (std::vector<std::string>{"first", "second"}));
    EXPECT_EQ(o.priority, "high");
    EXPECT_EQ(o.queue, "one");
    EXPECT_EQ(o.auto_reply, (rules::AutoReply{false, ""}));
    EXPECT_EQ(o.notify, (std::vector<std::string>{"x@y.example", "z@y.example"}));

    rules::TicketState closed;
    closed.status = "closed";
    o = run(set, "From: a@b.example\nSubject: a\n\nx", rules::Context::reply, closed);
    EXPECT_EQ(fired(o), (std::vector<std::string>{"first", "replies", "second"}));
    EXPECT_EQ(o.add_tags, (std::vector<std::string>{"a", "reopened"}));
    EXPECT_EQ(o.remove_tags, std::vector<std::string>{"b"});
    ASSERT_EQ(o.fired[1].changes, (std::vector<std::string>{"tags+reopened", "tags-b"}));
}

TEST(RulesEval, TraceNamesTheDecidingCondition) {
    auto set = load(R"(rules:
  - name: both
    when:
      all:
        - from: { domain: bigcorp.example }
        - subject: { contains: urgent }
    then: { priority: high }
  - name: replies only
    on: reply
    then: { tags: [r] }
  - name: catch all
    then: { tags: [all] }
)");
    std::vector<rules::RuleTrace> trace;
    rules::evaluate(set, rules::make_facts(message(kVip), rules::Context::new_ticket, {}, kOurs), &trace);
    ASSERT_EQ(trace.size(), 3u);
    EXPECT_EQ(trace[0].result, rules::RuleTrace::Result::not_matched);
    EXPECT_EQ(trace[0].decided_by, "subject contains 'urgent' (r.yaml:6:11)");
    EXPECT_EQ(trace[1].result, rules::RuleTrace::Result::wrong_context);
    EXPECT_EQ(trace[2].result, rules::RuleTrace::Result::matched);
    EXPECT_EQ(trace[2].decided_by, "");
}

TEST(RulesEval, UnreachableRulesAreFound) {
    auto set = load(R"(rules:
  - { name: new catch-all, on: new, then: { spam: true, stop: true } }
  - { name: dead, on: new, when: { subject: { contains: x } }, then: { priority: high } }
  - { name: alive on replies, when: { subject: { contains: x } }, then: { priority: high } }
  - { name: reply stopper, on: reply, when: { all: [] }, then: { stop: true } }
  - { name: dead too, then: { priority: low } }
)");
    auto problems = rules::unreachable_rules(set);
    ASSERT_EQ(problems.size(), 2u);
    EXPECT_EQ(problems[0].at.to_string(), "r.yaml:3:5");
    EXPECT_EQ(problems[0].message,
              "rule 'dead' can never fire: rule 'new catch-all' (r.yaml:2:5) always matches and stops");
    EXPECT_EQ(problems[1].at.to_string(), "r.yaml:6:5");
}

TEST(RulesEval, HostileInputIsLinearTime) {
    // (a+)+$ backtracks exponentially in PCRE-style engines; RE2 stays linear.
    auto set = load(R"(rules:
  - { name: evil, when: { body: { regex: '(a+)+$' } }, then: { tags: [x] } }
  - { name: evil-glob, when: { body: { matches: '*a*a*a*a*a*a*a*a*a*b' } }, then: { tags: [y] } }
)");
    std::string body(200000, 'a');
    body += "!";
    const auto start = std::chrono::steady_clock::now();
    auto o = run(set, "From: a@b.example\nSubject: x\n\n" + body + "\n");
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    EXPECT_TRUE(o.add_tags.empty());
    EXPECT_LT(ms.count(), 2000) << "regex evaluation took " << ms.count() << " ms";
}

TEST(RulesEval, FoldAndGlob) {
    EXPECT_EQ(rules::fold("Straße ÄÖÜ ABC"), "strasse äöü abc");
    EXPECT_EQ(rules::fold("\xff\xfe broken"), "\xff\xfe broken");
    EXPECT_EQ(rules::glob_to_regex("inv*.pdf"), "inv.*\\.pdf");
    EXPECT_EQ(rules::glob_to_regex("a?[!0-9]"), "a.[^0-9]");
}

TEST(RulesTests, PassingAndFailingExpectations) {
    TempDir dir;
    put(dir / "m.eml", "From: ann@bigcorp.example\nSubject: Invoice 42\n\nPlease pay");
    put(dir / "r.yaml", R"(rules:
  - { name: vip, when: { from: { domain: bigcorp.example } }, then: { priority: high, tags: [vip] } }
  - { name: invoices, when: { subject: { contains: invoice } }, then: { queue: billing } }
tests:
  - name: inline passes
    message: "From: Ann <ann@bigcorp.example>\nSubject: Help\n\nHello"
    expect: { priority: high, tags: [vip], rules: [vip] }
  - name: eml passes
    eml: m.eml
    expect: { queue: billing, spam: false }
  - name: wrong
    message: "From: x@y.example\nSubject: Hi\n\nHello"
    expect: { priority: high, tags: [vip], auto_reply: false }
)");
    rules::RuleSet set;
    std::vector<config::ConfigError> errs;
    config::load_rule_files({(dir / "r.yaml").string()}, set, errs);
    ASSERT_TRUE(errs.empty()) << ::testing::PrintToString(lines(errs));
    auto problems = rules::run_tests(set, kOurs);
    ASSERT_EQ(problems.size(), 3u);
    EXPECT_EQ(problems[0].at.line, 11);
    EXPECT_EQ(problems[0].message, "test 'wrong' failed: expected priority high, got (unchanged)");
    EXPECT_EQ(problems[1].message, "test 'wrong' failed: expected tags [vip], got []");
    EXPECT_EQ(problems[2].message, "test 'wrong' failed: expected auto_reply false, got (desk default)");
}

TEST(RulesConfig, MainConfigLoadsRulesAndValidatesReferences) {
    TempDir dir;
    put(dir / "rules.d" / "10-first.yaml", R"(rules:
  - { name: route, when: { subject: { contains: invoice } }, then: { queue: biling, assign: Bob, notify: [billing, carol@acme.example, nobody] } }
)");
    put(dir / "rules.d" / "20-second.yaml", R"(rules:
  - { name: reply, then: { auto_reply: welcom, stop: true } }
  - { name: late, when: { subject: { contains: x } }, then: { priority: low } }
)");
    put(dir / "rules.d" / "notes.txt", "not a rule file");
    put(dir / "templates" / "welcome.txt", "Subject: Re: {{ticket.subject}}\n\nThanks\n");
    put(dir / "t.yaml", R"(desk: { addresses: [support@acme.example], database: t.db }
agents:
  - { address: Bob@acme.example, name: Bob, queues: [billing] }
queues: [general]
rules: rules.d
)");
    auto r = config::load_file((dir / "t.yaml").string());
    ASSERT_FALSE(r.config);
    auto errs = lines(r.errors);
    const std::string d = (dir / "rules.d").string() + "/";
    ASSERT_EQ(errs.size(), 4u) << ::testing::PrintToString(errs);
    EXPECT_EQ(errs[0], d + "10-first.yaml:2:77: rule 'route': unknown queue 'biling' (did you mean 'billing'?)");
    EXPECT_EQ(errs[1], d + "10-first.yaml:2:136: rule 'route': notify 'nobody' is not an agent, a queue or an email address");
    EXPECT_EQ(errs[2], d + "20-second.yaml:2:40: rule 'reply': unknown template 'welcom' (did you mean 'welcome'?)");
    EXPECT_EQ(errs[3], d + "20-second.yaml:3:5: rule 'late' can never fire: rule 'reply' (" + d +
                           "20-second.yaml:2:5) always matches and stops");

    put(dir / "rules.d" / "10-first.yaml", R"(rules:
  - { name: route, when: { subject: { contains: invoice } }, then: { queue: billing, assign: Bob, notify: [billing] } }
)");
    put(dir / "rules.d" / "20-second.yaml", R"(rules:
  - { name: reply, when: { subject: { contains: x } }, then: { auto_reply: welcome } }
tests:
  - { name: routed, message: "From: a@b.example\nSubject: Invoice\n\nx", expect: { queue: billing, assign: bob@acme.example } }
)");
    r = config::load_file((dir / "t.yaml").string());
    ASSERT_TRUE(r.config) << ::testing::PrintToString(lines(r.errors));
    EXPECT_EQ(r.config->rules.rules.size(), 2u);
    EXPECT_EQ(r.config->rules.rules[0].then.assign, "bob@acme.example");  // names resolve to addresses
    EXPECT_EQ(r.config->rules.rules[0].name, "route");                    // name order: 10- before 20-
}

TEST(RulesConfig, AFailingRuleTestRejectsTheConfig) {
    TempDir dir;
    put(dir / "r.yaml", R"(rules:
  - { name: vip, when: { from: { domain: bigcorp.example } }, then: { priority: high } }
tests:
  - { name: vip is urgent, message: "From: a@bigcorp.example\nSubject: x\n\nx", expect: { priority: urgent } }
)");
    put(dir / "t.yaml", "desk: { addresses: [s@acme.example], database: t.db }\nrules: [r.yaml]\n");
    auto r = config::load_file((dir / "t.yaml").string());
    ASSERT_FALSE(r.config);
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_EQ(r.errors[0].to_string(),
              (dir / "r.yaml").string() + ":4:5: test 'vip is urgent' failed: expected priority urgent, got high");
}

TEST(RulesConfig, MissingRulePathIsAnError) {
    auto r = config::load_string("desk: { addresses: [s@acme.example], database: t.db }\nrules: nowhere.yaml\n",
                                 "/tmp/ticketd-rules-test/t.yaml");
    ASSERT_FALSE(r.config);
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_EQ(r.errors[0].to_string(),
              "/tmp/ticketd-rules-test/t.yaml:2:8: rules: '/tmp/ticketd-rules-test/nowhere.yaml' does not exist "
              "(a rule file or a directory of them)");
}

}  // namespace
}  // namespace ticketd
