// The pre-scan jumps over body lines that hold no "--" (prescan); prescan_every_line reads every
// line. Both must give the same result (mended bytes, warnings, message/rfc822 bodies, leaf
// bodies, header blocks, part count, depth, errors) on the corpus, the test data and generated
// MIME structures full of dashes, delimiters, stray boundaries (in bodies and header fields),
// NULs and cut-off endings.

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <span>
#include <filesystem>
#include <string>
#include <vector>

#include "parsers/header_block.h"
#include "parsers/limits.h"
#include "tests/unit/parsers/mime_generator.h"
#include "tests/support/paths.h"

namespace fs = std::filesystem;
namespace tp = ticketd::parsers;
using ticketd::testing::Generator;

namespace {

std::string describe(const std::variant<tp::Prescan, tp::ParseError>& r) {
    if (const auto* e = std::get_if<tp::ParseError>(&r)) return "error " + e->code + ": " + e->message;
    const auto& p = std::get<tp::Prescan>(r);
    std::string s = "changed " + std::to_string(p.changed) + " skipped " + std::to_string(p.skipped) + " parts " + std::to_string(p.parts) + " depth " +
                    std::to_string(p.depth) + "\nrfc822:";
    for (const auto& [b, e] : p.rfc822_bodies) s += " " + std::to_string(b) + "-" + std::to_string(e);
    s += "\nleaves:";
    for (const auto& [b, e] : p.leaf_bodies) s += " " + std::to_string(b) + "-" + std::to_string(e);
    s += "\nheader blocks:";
    for (const auto& [b, e] : p.header_blocks) s += " " + std::to_string(b) + "-" + std::to_string(e);
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

}  // namespace

TEST(Prescan, SkippingBodyLinesEqualsReadingEveryLineOnGeneratedMime) {
    for (std::uint32_t seed = 1; seed <= 3000; ++seed) {
        const std::string raw = Generator(seed).message();
        expect_same(raw, "seed " + std::to_string(seed));
        if (HasFatalFailure()) return;
    }
}

TEST(Prescan, SkippingBodyLinesEqualsReadingEveryLineOnRichGeneratedMime) {
    // Rich: header fields with NULs, stray boundaries and dashes at every offset, odd blank lines.
    for (std::uint32_t seed = 1; seed <= 3000; ++seed) {
        const std::string raw = Generator(seed, true).message();
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

// Lines dropped from the very front (before anything else is mended) cost no copy of the
// message: the bytes to parse start after them. A later mend still copies, from there.
TEST(Prescan, LinesDroppedFromTheFrontAreSkippedWithoutACopy) {
    const std::string body = "Subject: hi\r\nContent-Type: text/plain\r\n\r\nbody\r\n";
    const std::string raw = "not a field\r\nnor this\r\n" + body;
    const auto r = tp::prescan(raw, {});
    ASSERT_TRUE(std::holds_alternative<tp::Prescan>(r));
    const auto& p = std::get<tp::Prescan>(r);
    EXPECT_FALSE(p.changed);
    EXPECT_TRUE(p.mended.empty());
    EXPECT_EQ(p.skipped, raw.size() - body.size());
    EXPECT_EQ(p.bytes(raw), body);
    ASSERT_EQ(p.header_blocks.size(), 1u);
    EXPECT_EQ(p.header_blocks[0].first, 0u);  // positions are in the bytes to parse
    EXPECT_EQ(p.header_blocks[0].second, body.find("body"));
    ASSERT_EQ(p.leaf_bodies.size(), 1u);
    EXPECT_EQ(p.bytes(raw).substr(p.leaf_bodies[0].first, 4), "body");
    EXPECT_EQ(p.warnings.size(), 1u);  // "malformed header line skipped", once

    // A bad line after a good one is mended the usual way: a copy without it.
    const std::string later = "Subject: hi\r\nnot a field\r\n\r\nbody\r\n";
    const auto rq = tp::prescan(later, {});
    const auto& q = std::get<tp::Prescan>(rq);
    EXPECT_TRUE(q.changed);
    EXPECT_EQ(q.skipped, 0u);
    EXPECT_EQ(q.bytes(later), "Subject: hi\r\n\r\nbody\r\n");

    // Skipped, then mended: the copy starts after the skipped lines.
    const std::string both = "not a field\r\nSubject: hi\r\nnor this\r\n\r\nbody\r\n";
    const auto rb = tp::prescan(both, {});
    const auto& b = std::get<tp::Prescan>(rb);
    EXPECT_TRUE(b.changed);
    EXPECT_EQ(b.bytes(both), "Subject: hi\r\n\r\nbody\r\n");
    expect_same(raw, "front");
    expect_same(both, "front and later");
}

namespace {

struct BlockCounts {
    std::size_t blocks = 0, read = 0, readable = 0;
};

/// Every header block the pre-scan kept the lines of must read, from them, exactly as
/// read_header_block reads the bytes: the same fields (names, values, folds joined, extents),
/// the same empty line and end. Blocks it did not keep are left to read_header_block.
void expect_lines_read_as_bytes(const std::string& raw, const std::string& what, BlockCounts& n,
                                const tp::Limits& limits = {}) {
    const auto r = tp::prescan(raw, limits);
    const auto* ps = std::get_if<tp::Prescan>(&r);
    if (!ps) return;
    const std::string_view bytes = ps->bytes(raw);
    ASSERT_EQ(ps->block_reads.size(), ps->header_blocks.size()) << what;
    for (std::size_t k = 0; k < ps->header_blocks.size(); ++k) {
        const auto [b, e] = ps->header_blocks[k];
        const auto& br = ps->block_reads[k];
        ++n.blocks;
        const auto again = e <= bytes.size() ? tp::read_header_block(bytes, b) : std::nullopt;
        if (again && again->end == e) ++n.readable;
        if (!br.read) continue;
        ++n.read;
        ASSERT_TRUE(again.has_value()) << what << ": block " << k << " kept, but read_header_block refuses it";
        ASSERT_LE(br.first, br.last);
        ASSERT_LE(br.last, ps->field_lines.size());
        const auto from_lines = tp::header_block_from_lines(
            bytes, std::span<const tp::HeaderLine>(ps->field_lines.data() + br.first, br.last - br.first), br.blank_line, e);
        ASSERT_EQ(from_lines.fields.size(), again->fields.size()) << what << ": block " << k;
        for (std::size_t f = 0; f < again->fields.size(); ++f) {
            const auto& x = from_lines.fields[f];
            const auto& y = again->fields[f];
            EXPECT_EQ(x.name, y.name) << what << ": block " << k << " field " << f;
            EXPECT_EQ(x.value, y.value) << what << ": block " << k << " field " << f;
            EXPECT_EQ(x.begin, y.begin) << what << ": block " << k << " field " << f;
            EXPECT_EQ(x.end, y.end) << what << ": block " << k << " field " << f;
        }
        EXPECT_EQ(from_lines.blank_line, again->blank_line) << what << ": block " << k;
        EXPECT_EQ(from_lines.end, again->end) << what << ": block " << k;
    }
}

}  // namespace

// Found by review: a block whose empty line is a lone LF, with a CR the pre-scan writes right
// after it later (the end of an empty message/rfc822 at the end of the input, or right before a
// delimiter): mimetic reads LF CR as one line end, so the kept lines no longer stand for it.
TEST(Prescan, ABlockEndingInLfBeforeAWrittenCrIsNotKept) {
    BlockCounts n;
    const std::string at_end = "Content-Type: message/rfc822\n\n";
    expect_lines_read_as_bytes(at_end, "message at the end", n);
    const std::string before_delimiter =
        "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: message/rfc822\n\n--b\r\n"
        "Content-Type: text/plain\r\n\r\nx\r\n--b--\r\n";
    expect_lines_read_as_bytes(before_delimiter, "message before a delimiter", n);
    const std::string digest =
        "Content-Type: multipart/digest; boundary=b\r\n\r\n--b\r\nX-A: 1\n\n--b\r\n\r\nSubject: y\r\n\r\nz\r\n--b--\r\n";
    expect_lines_read_as_bytes(digest, "digest part", n);
    // The attached message's first field dropped (header block over max_header_bytes): its
    // empty line "\r\n" now follows the outer block's lone LF.
    tp::Limits small;
    small.max_header_bytes = 30;
    const std::string dropped =
        "Content-Type: message/rfc822\n\nSubject: xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n\r\nbody\n";
    expect_lines_read_as_bytes(dropped, "first field of the message dropped", n, small);
    EXPECT_GT(n.read, 0u);  // the outer blocks are still kept
}

TEST(Prescan, HeaderLinesKeptReadAsReadHeaderBlockReadsTheBytes) {
    BlockCounts generated;
    // Lines skipped at the front (no copy) move every position the kept lines hold.
    for (const char* raw : {"not a field\r\nnor this\r\nSubject: hi\r\nX-A: b\r\n c\r\n\r\nbody\r\n",
                            "not a field\nSubject: hi\nnor this\n\nbody\n"})
        expect_lines_read_as_bytes(raw, "front skip", generated);
    for (std::uint32_t seed = 1; seed <= 3000; ++seed) {
        expect_lines_read_as_bytes(Generator(seed).message(), "seed " + std::to_string(seed), generated);
        expect_lines_read_as_bytes(Generator(seed, true).message(), "rich seed " + std::to_string(seed), generated);
        if (HasFatalFailure()) return;
    }
    // The rich inputs hold blocks the lines cannot stand for (bare CRs, NULs, LF CR): some are
    // left to read_header_block (and the generator mends many more), but far from all.
    EXPECT_GT(generated.read, generated.blocks / 3);
    EXPECT_LT(generated.read, generated.blocks);

    BlockCounts files;
    std::vector<fs::path> dirs = {ticketd::testing::data_dir()};
    if (const auto corpus = ticketd::testing::corpus_dir(); !corpus.empty())
        for (const char* sub : {"parse", "robust", "bounces"}) dirs.push_back(corpus / sub);
    for (const auto& dir : dirs) {
        if (!fs::exists(dir)) continue;
        for (const auto& e : fs::recursive_directory_iterator(dir)) {
            if (!e.is_regular_file()) continue;
            expect_lines_read_as_bytes(ticketd::testing::read_file(e.path()), e.path().string(), files);
            if (HasFatalFailure()) return;
        }
    }
    // Real mail: nearly every block read_header_block accepts is kept by the pre-scan already
    // (94% of the corpus's; most of the others had their multipart boundary renamed).
    std::printf("[ figures  ] header blocks: %zu, kept by the pre-scan %zu, readable again %zu\n", files.blocks,
                files.read, files.readable);
    EXPECT_GE(files.read * 100, files.readable * 90);
}
