// read_header_block against mimetic's own header reading on generated blocks: whenever the
// in-place reading accepts a block, mimetic must read the same fields (names and values, in
// order) and start the body at the same byte. The generator writes what real and broken mail
// holds (folds, blank folds, blanks before the colon, empty values, 8-bit values, CRLF and LF
// and mixed line ends) and what mimetic reads its own way (bare CRs, LF CR pairs, NULs, lines
// that are not fields, a fold first, no empty line), and the test counts both outcomes.

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>
#include <mimetic/mimetic.h>

#include "parsers/header_block.h"
#include "tests/unit/parsers/mime_generator.h"

namespace tp = ticketd::parsers;
using ticketd::testing::Rng;

namespace {


std::string generate(Rng& r) {
    // No Content-Type: mimetic's value() writes that one out again from its own parse (the
    // skeleton hands it to mimetic for that reason).
    static const std::vector<std::string> names = {"From", "Subject", "X-Mailer", "received", "DKIM-Signature", "A",
                                                   "X-Odd!#$%&'*+-.^_`|~", "Subject ", "To\t", "Na me", ":",
                                                   "X\xc3\xa9", ""};
    static const std::vector<std::string> values = {"hello", "", " ", "a b  c ", "=?utf-8?q?x?=", "caf\xc3\xa9",
                                                    "x:y:z", "\t lead", "trail \t", "a\rb", "a\0b", "\x01\x7f"};
    static const std::vector<std::string> eols = {"\r\n", "\r\n", "\r\n", "\n", "\n", "\r", "\n\r", "\r\r\n"};
    const bool lf = r.below(3) == 0;
    auto eol = [&]() -> std::string {
        if (r.below(25) == 0) return r.pick(eols);
        return lf ? "\n" : "\r\n";
    };
    std::string s;
    if (r.below(30) == 0) s += " folded first" + eol();
    const std::size_t fields = r.below(8);
    for (std::size_t k = 0; k < fields; ++k) {
        if (r.below(40) == 0) {
            s += "not a field line" + eol();
            continue;
        }
        s += r.pick(names);
        s += r.below(6) == 0 ? " :" : ":";
        if (r.below(4) != 0) s += r.below(3) == 0 ? "\t" : " ";
        s += std::string(r.pick(values));
        s += eol();
        const std::size_t folds = r.below(5) == 0 ? 1 + r.below(3) : 0;
        for (std::size_t f = 0; f < folds; ++f) {
            s += r.below(2) == 0 ? " " : "\t";
            if (r.below(3) == 0) s += "  ";
            s += r.below(5) == 0 ? "" : std::string(r.pick(values));
            s += eol();
        }
    }
    if (r.below(20) != 0) s += eol();  // the empty line
    s += r.below(10) == 0 ? "\rbody" : "body line" + eol() + "more";
    return s;
}

}  // namespace

TEST(HeaderBlock, AgreesWithMimeticOnGeneratedBlocks) {
    Rng r{777};
    std::size_t accepted = 0, folded = 0;
    const std::size_t total = 40000;
    for (std::size_t k = 0; k < total; ++k) {
        const std::string s = generate(r);
        const auto hb = tp::read_header_block(s, 0);
        if (!hb) continue;
        ++accepted;
        mimetic::MimeEntity e;
        e.load(s.begin(), s.end());
        std::vector<std::pair<std::string, std::string>> ours, theirs;
        for (const auto& f : hb->fields) ours.emplace_back(f.name, f.value);
        for (const auto& f : e.header()) theirs.emplace_back(std::string(f.name()), f.value());
        ASSERT_EQ(ours, theirs) << s;
        ASSERT_EQ(e.body(), s.substr(hb->end)) << s;
        ASSERT_LE(hb->blank_line, hb->end);
        for (const auto& f : hb->fields) {
            ASSERT_LT(f.begin, f.end);
            ASSERT_LE(f.end, hb->blank_line);
            ASSERT_EQ(s.compare(f.begin, f.name.size(), f.name), 0) << s;
        }
        if (!hb->folded.empty()) ++folded;
    }
    EXPECT_GT(accepted, total / 5) << accepted << " of " << total;
    EXPECT_LT(accepted, total * 9 / 10) << "the generator no longer reaches the blocks left to mimetic";
    EXPECT_GT(folded, total / 20);
}

TEST(HeaderBlock, ReadsFieldsInPlace) {
    const std::string s = "Subject: hello\r\n world\r\nFrom :\ta@b\r\nX-Empty:\r\n\r\nbody";
    const auto hb = tp::read_header_block(s, 0);
    ASSERT_TRUE(hb);
    ASSERT_EQ(hb->fields.size(), 3u);
    EXPECT_EQ(hb->fields[0].name, "Subject");
    EXPECT_EQ(hb->fields[0].value, "hello world");
    EXPECT_EQ(hb->fields[1].name, "From");
    EXPECT_EQ(hb->fields[1].value, "a@b");
    EXPECT_EQ(hb->fields[2].value, "");
    EXPECT_EQ(s.substr(hb->end), "body");
    // Moved blocks keep their folded values where the views point.
    std::vector<tp::HeaderBlock> many;
    for (int i = 0; i < 50; ++i) many.push_back(*tp::read_header_block(s, 0));
    for (const auto& b : many) EXPECT_EQ(b.fields[0].value, "hello world");
}

TEST(HeaderBlock, LeavesMimeticItsOwnReadings) {
    for (const char* s : {"A: b\rc\r\n\r\nx", "A: b\n\rC: d\n\nx", " fold first\r\n\r\nx", "A: b\r\nnot a field\r\n\r\nx",
                          "A: b\r\n", "A: b\r\n\r", ":x\r\n\r\nx", "A: b\r\r\n\r\nx", "A b: c\r\n\r\nx"})
        EXPECT_FALSE(tp::read_header_block(s, 0)) << s;
    const std::string nul("A: b\0c\r\n\r\nx", 12);
    EXPECT_FALSE(tp::read_header_block(nul, 0));
}
