// The pre-scan jumps over body lines that hold no "--" (prescan); prescan_every_line reads every
// line. Both must give the same result (mended bytes, warnings, message/rfc822 bodies, part
// count, depth, errors) on the corpus, the test data and generated MIME structures full of
// dashes, delimiters, stray boundaries and cut-off endings.

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "parsers/limits.h"
#include "tests/support/paths.h"

namespace fs = std::filesystem;
namespace tp = ticketd::parsers;

namespace {

std::string describe(const std::variant<tp::Prescan, tp::ParseError>& r) {
    if (const auto* e = std::get_if<tp::ParseError>(&r)) return "error " + e->code + ": " + e->message;
    const auto& p = std::get<tp::Prescan>(r);
    std::string s = "changed " + std::to_string(p.changed) + " parts " + std::to_string(p.parts) + " depth " +
                    std::to_string(p.depth) + "\nrfc822:";
    for (const auto& [b, e] : p.rfc822_bodies) s += " " + std::to_string(b) + "-" + std::to_string(e);
    s += "\nwarnings:";
    for (const auto& w : p.warnings) s += " [" + w + "]";
    s += "\nmended:\n" + p.mended;
    return s;
}

void expect_same(const std::string& raw, const std::string& what, const tp::Limits& limits = {}) {
    const auto fast = tp::prescan(raw, limits);
    const auto slow = tp::prescan_every_line(raw, limits);
    ASSERT_EQ(describe(fast), describe(slow)) << what;
}

struct Rng {
    std::uint32_t x = 2463534242u;
    std::uint32_t next() {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        return x;
    }
    std::size_t below(std::size_t n) { return next() % n; }
};

// A random MIME structure whose bodies hold every kind of line with dashes in it.
class Generator {
public:
    explicit Generator(std::uint32_t seed) { rng_.x = seed * 2654435761u + 1; }

    std::string message() {
        std::string out = "From: a@example.com\r\nSubject: generated\r\n";
        entity(out, 0);
        // Cut the end off now and then: an unclosed multipart, a header without a body.
        if (rng_.below(4) == 0 && out.size() > 10) out.resize(out.size() - rng_.below(out.size() / 2));
        return out;
    }

private:
    std::string eol() { return rng_.below(5) == 0 ? "\n" : "\r\n"; }

    std::string boundary() {
        // Few names, so that boundaries repeat and prefix one another across levels.
        static const char* names[] = {"b", "b1", "bb", "x-y", "=_part", "--", "b--"};
        return names[rng_.below(sizeof names / sizeof *names)];
    }

    void body_lines(std::string& out, const std::vector<std::string>& open) {
        const std::size_t n = rng_.below(8);
        for (std::size_t i = 0; i < n; ++i) {
            const std::string b = open.empty() ? "zz" : open[rng_.below(open.size())];
            switch (rng_.below(12)) {
                case 0: out += "plain words without any dash"; break;
                case 1: out += "-- "; break;
                case 2: out += "--"; break;
                case 3: out += "text with -- inside and --" + b + " after it"; break;  // stray boundary
                case 4: out += "--" + b + "x"; break;                                  // a delimiter prefix
                case 5: out += "-"; break;
                case 6: out += "a-b-c-"; break;
                case 7: out += "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo="; break;
                case 8: out += "--" + b + "--"; break;                                 // a closing delimiter
                case 9: out += std::string(rng_.below(300), '-'); break;
                case 10: out += "\r"; break;
                default: {
                    for (std::size_t k = rng_.below(60); k > 0; --k) {
                        const char c = "ab-\r: \t=\x80"[rng_.below(9)];
                        out.push_back(c);
                    }
                }
            }
            out += eol();
        }
    }

    void entity(std::string& out, int depth) {
        const std::size_t kind = depth > 4 ? 0 : rng_.below(4);
        if (kind == 1) {  // multipart
            const std::string b = boundary();
            out += "Content-Type: multipart/mixed; boundary=\"" + b + "\"" + eol() + eol();
            open_.push_back(b);
            body_lines(out, open_);  // preamble
            for (std::size_t parts = 1 + rng_.below(3); parts > 0; --parts) {
                out += "--" + b + eol();
                if (rng_.below(6) == 0) continue;  // a delimiter straight after a delimiter
                entity(out, depth + 1);
            }
            if (rng_.below(5) != 0) out += "--" + b + "--" + eol();
            open_.pop_back();
            body_lines(out, open_);  // epilogue
        } else if (kind == 2) {  // message/rfc822
            out += "Content-Type: message/rfc822" + eol();
            if (rng_.below(4) == 0) out += "Content-Transfer-Encoding: base64" + eol();
            out += eol() + "Subject: inner" + eol();
            entity(out, depth + 1);
        } else {
            if (rng_.below(2)) out += "Content-Type: text/plain" + eol();
            if (rng_.below(8) == 0) out += "--" + boundary() + eol();  // a delimiter among the fields
            out += eol();
            body_lines(out, open_);
        }
    }

    Rng rng_;
    std::vector<std::string> open_;
};

}  // namespace

TEST(Prescan, SkippingBodyLinesEqualsReadingEveryLineOnGeneratedMime) {
    for (std::uint32_t seed = 1; seed <= 3000; ++seed) {
        const std::string raw = Generator(seed).message();
        expect_same(raw, "seed " + std::to_string(seed));
        if (HasFatalFailure()) return;
    }
}

TEST(Prescan, SkippingBodyLinesEqualsReadingEveryLineUnderTightLimits) {
    tp::Limits tight;
    tight.max_parts = 5;
    tight.max_depth = 3;
    tight.max_header_line = 40;
    tight.max_header_bytes = 200;
    for (std::uint32_t seed = 1; seed <= 1000; ++seed) {
        expect_same(Generator(seed).message(), "seed " + std::to_string(seed), tight);
        if (HasFatalFailure()) return;
    }
}

TEST(Prescan, SkippingBodyLinesEqualsReadingEveryLineOnCorpusAndTestData) {
    std::vector<fs::path> dirs = {ticketd::testing::data_dir()};
    if (const auto corpus = ticketd::testing::corpus_dir(); !corpus.empty())
        for (const char* sub : {"parse", "robust", "bounces"}) dirs.push_back(corpus / sub);
    std::size_t files = 0;
    for (const auto& dir : dirs) {
        if (!fs::exists(dir)) continue;
        for (const auto& e : fs::recursive_directory_iterator(dir)) {
            if (!e.is_regular_file()) continue;
            expect_same(ticketd::testing::read_file(e.path()), e.path().string());
            if (HasFatalFailure()) return;
            ++files;
        }
    }
    EXPECT_GT(files, 50u);
}

TEST(Prescan, DelimiterRightAfterALongBodyWithoutDashesIsFound) {
    std::string raw = "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n";
    for (int i = 0; i < 1000; ++i) raw += "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=\r\n";
    raw += "--b\r\nContent-Type: message/rfc822\r\n\r\nSubject: in\r\n\r\nx\r\n--b--\r\n";
    const auto r = tp::prescan(raw, {});
    ASSERT_TRUE(std::holds_alternative<tp::Prescan>(r));
    const auto& p = std::get<tp::Prescan>(r);
    EXPECT_EQ(p.parts, 4u);  // the message, two parts, the enclosed message
    ASSERT_EQ(p.rfc822_bodies.size(), 1u);
    EXPECT_EQ(raw.substr(p.rfc822_bodies[0].first, p.rfc822_bodies[0].second - p.rfc822_bodies[0].first),
              "Subject: in\r\n\r\nx");
    expect_same(raw, "long body");
}
