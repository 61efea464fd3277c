// The rules' speed-ups must not change an answer: the one-pass literal search against
// std::string::find, the table-driven case folding against ICU, and a prepared rule set against
// the same rules searching the body leaf by leaf.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "config/rules_loader.h"
#include "parsers/parse.h"
#include "rules/literals.h"
#include "rules/rules.h"
#include "tests/support/paths.h"

namespace ticketd {
namespace {

std::vector<char> by_find(const std::vector<std::string>& literals, const std::string& text) {
    std::vector<char> found;
    for (const auto& l : literals) found.push_back(text.find(l) != std::string::npos ? 1 : 0);
    return found;
}

TEST(LiteralSet, FindsWhatFindFinds) {
    // Overlapping literals, prefixes and suffixes of each other, duplicates and an empty one,
    // over a small alphabet so that partial matches and failure links are exercised.
    const std::vector<std::string> literals{"a", "ab", "bab", "abab", "b", "bba", "", "ab", "aaaa", "c", "babbab"};
    rules::LiteralSet set(literals);
    std::mt19937 rng(42);
    for (int round = 0; round < 2000; ++round) {
        std::string text(static_cast<std::size_t>(rng() % 40), 'x');
        for (auto& c : text) c = "abcx"[rng() % (round % 2 ? 4 : 2)];
        ASSERT_EQ(set.find_all(text), by_find(literals, text)) << "text: " << text;
    }
    EXPECT_EQ(set.find_all(""), by_find(literals, ""));
}

TEST(LiteralSet, OneStartByteAndEveryByteValue) {
    // One possible first byte takes the memchr path; literals using all 256 byte values take the
    // table without byte classes.
    const std::vector<std::string> one{"reference 1", "reference 12", "ref"};
    rules::LiteralSet a(one);
    for (std::string text : {"no", "a ref", "reference 123", "reference 2 and reference 1", "rrreference 12"})
        EXPECT_EQ(a.find_all(text), by_find(one, text)) << text;

    std::vector<std::string> all;
    for (int c = 0; c < 256; c += 2) all.push_back(std::string{static_cast<char>(c), static_cast<char>(c + 1)});
    rules::LiteralSet b(all);
    std::mt19937 rng(7);
    for (int round = 0; round < 200; ++round) {
        std::string text(64, '\0');
        for (auto& c : text) c = static_cast<char>(rng() % 256);
        ASSERT_EQ(b.find_all(text), by_find(all, text));
    }
}

void append_utf8(char32_t cp, std::string& out) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

TEST(Fold, EqualsIcuForEveryBmpCodePoint) {
    std::string all;
    for (char32_t cp = 0; cp < 0x10000; ++cp) {
        if (cp >= 0xD800 && cp <= 0xDFFF) continue;
        std::string one;
        append_utf8(cp, one);
        ASSERT_EQ(rules::fold(one), rules::fold_with_icu(one)) << "U+" << std::hex << static_cast<unsigned>(cp);
        all += one;
    }
    EXPECT_EQ(rules::fold(all), rules::fold_with_icu(all));
    // Beyond the table: the supplementary planes (Deseret capitals fold), mixed with the BMP.
    std::string astral = "A\xC3\x84";
    for (char32_t cp : {0x10400u, 0x1E900u, 0x1F600u}) append_utf8(cp, astral);
    EXPECT_EQ(rules::fold(astral), rules::fold_with_icu(astral));
}

TEST(Fold, EqualsIcuOnBrokenUtf8) {
    // Random bytes biased towards UTF-8 shapes: truncated sequences, stray continuation bytes,
    // overlong forms, surrogates, C0/C1/F5..FF.
    std::mt19937 rng(1234);
    const unsigned char pieces[][4] = {{'A', 0, 0, 0},    {0xC3, 0x84, 0, 0}, {0xC3, 0, 0, 0},    {0x84, 0, 0, 0},
                                       {0xE2, 0x82, 0, 0}, {0xE2, 0x82, 0xAC, 0}, {0xED, 0xA0, 0x80, 0},
                                       {0xE0, 0x80, 0xAF, 0}, {0xC0, 0xAF, 0, 0}, {0xF0, 0x90, 0x90, 0x80},
                                       {0xF0, 0x90, 0, 0}, {0xFF, 0, 0, 0},    {0xCE, 0x90, 0, 0}, {0xE1, 0xBA, 0x9E, 0}};
    for (int round = 0; round < 5000; ++round) {
        std::string text;
        const int n = static_cast<int>(rng() % 12);
        for (int i = 0; i < n; ++i) {
            if (rng() % 5 == 0) {
                text += static_cast<char>(rng() % 256);
                continue;
            }
            const auto& p = pieces[rng() % std::size(pieces)];
            for (unsigned char c : p)
                if (c) text += static_cast<char>(c);
        }
        ASSERT_EQ(rules::fold(text), rules::fold_with_icu(text)) << ::testing::PrintToString(text);
    }
}

const char* kBodyRules = R"(rules:
  - { name: one, when: { body: { contains: [invoice, "GRÜSSE"] } }, then: { tags: [one] } }
  - { name: two, when: { body: { contains: "Invoice", case_sensitive: true } }, then: { tags: [two] } }
  - { name: three, when: { not: { body: { contains: [the, und] } } }, then: { tags: [three] } }
  - { name: four, when: { all: [ { body: { contains: "e" } }, { subject: { contains: re } } ] }, then: { tags: [four] } }
  - { name: five, when: { body: { contains: [straße, "http"] } }, then: { tags: [five] } }
)";

std::vector<parsers::Message> sample_messages() {
    std::vector<parsers::Message> out;
    std::vector<std::filesystem::path> dirs{testing::data_dir()};
    if (!testing::corpus_dir().empty()) dirs.push_back(testing::corpus_dir() / "parse");
    for (const auto& d : dirs) {
        std::error_code ec;
        for (const auto& e : std::filesystem::recursive_directory_iterator(d, ec)) {
            if (!e.is_regular_file() || e.path().extension() == ".json" || e.path().extension() == ".md") continue;
            auto parsed = parsers::parse(testing::read_file(e.path()));
            if (auto* m = std::get_if<parsers::Message>(&parsed)) out.push_back(std::move(*m));
        }
    }
    return out;
}

std::vector<std::string> outcome_of(const rules::RuleSet& set, const parsers::Message& m) {
    auto o = rules::evaluate(set, rules::make_facts(m, rules::Context::new_ticket, {}, {"support@acme.example"}));
    std::vector<std::string> fired;
    for (const auto& f : o.fired) fired.push_back(f.rule);
    return fired;
}

TEST(PreparedRules, SameOutcomeAsLeafByLeaf) {
    rules::RuleSet prepared;
    std::vector<config::ConfigError> errors;
    config::load_rule_text(kBodyRules, "r.yaml", prepared, errors);
    ASSERT_TRUE(errors.empty());
    ASSERT_TRUE(prepared.body_folded && prepared.body_raw);  // the loader prepares

    rules::RuleSet plain = prepared;  // the same rules, searched leaf by leaf
    plain.body_folded.reset();
    plain.body_raw.reset();

    const auto messages = sample_messages();
    ASSERT_GT(messages.size(), 10u);
    std::size_t fired = 0;
    for (const auto& m : messages) {
        const auto want = outcome_of(plain, m);
        ASSERT_EQ(outcome_of(prepared, m), want) << m.subject;
        fired += want.size();
    }
    EXPECT_GT(fired, 0u);  // the rules do fire on some of these messages
}

TEST(PreparedRules, AStaleIndexIsNotTrusted) {
    rules::RuleSet set;
    std::vector<config::ConfigError> errors;
    config::load_rule_text(kBodyRules, "r.yaml", set, errors);
    ASSERT_TRUE(errors.empty());
    auto m = parsers::parse("From: a@b.example\nSubject: x\n\nplease find the refund attached\n");
    const auto& msg = std::get<parsers::Message>(m);
    // Rule one now looks for "refund": the index (made for "invoice") no longer fits its leaf.
    set.rules[0].when.leaf.values = {"refund"};
    EXPECT_EQ(outcome_of(set, msg), std::vector<std::string>{"one"});
    rules::prepare(set);
    EXPECT_EQ(outcome_of(set, msg), std::vector<std::string>{"one"});
}

}  // namespace
}  // namespace ticketd
