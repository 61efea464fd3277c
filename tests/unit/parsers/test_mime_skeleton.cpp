// build_message hands mimetic a skeleton of the message (its header blocks replaced by a marker
// field and the Content-Type mimetic needs, its leaf bodies by markers, mime.cpp), reads the
// fields in place and takes each leaf's bytes from the input. The result must be exactly what mimetic
// reading the whole input gives: on the corpus, the test data and generated MIME structures
// (odd blank lines, bodies starting with line ends, digests, encoded and fake messages, markers
// written by the sender). The tests also count how often the skeleton was used, so that a
// skeleton path that always falls back would not pass unnoticed.

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "parsers/limits.h"
#include "parsers/mime.h"
#include "tests/support/paths.h"
#include "tests/unit/parsers/describe_message.h"
#include "tests/unit/parsers/mime_generator.h"

namespace fs = std::filesystem;
namespace tp = ticketd::parsers;
using ticketd::testing::Generator;

namespace {

struct Both {
    std::string skeleton, bodies, plain;
    tp::MimeLoad used = tp::MimeLoad::plain;         ///< by the skeleton with header blocks
    tp::MimeLoad bodies_used = tp::MimeLoad::plain;  ///< by the skeleton of bodies alone
    bool parsed = false;
};

/// build_message every way over the pre-scanned input (as parse() calls it); the skeletons
/// whenever the message has a header block or body to leave out, not only when that pays.
Both build_both(const std::string& raw, const tp::Limits& limits = {}) {
    Both out;
    auto run = [&](tp::MimeLoad how, std::string& into) {
        auto scanned = tp::prescan(raw, limits);
        auto* ps = std::get_if<tp::Prescan>(&scanned);
        if (!ps) return false;
        tp::Message m;
        try {
            const auto used = tp::build_message(ps->bytes(raw), *ps, limits, m, how);
            if (how == tp::MimeLoad::skeleton_always) out.used = used;
            if (how == tp::MimeLoad::skeleton_bodies) out.bodies_used = used;
        } catch (const std::exception& e) {
            into = std::string("threw: ") + e.what();
            return true;
        }
        into = ticketd::testing::describe_message(m);
        return true;
    };
    out.parsed = run(tp::MimeLoad::skeleton_always, out.skeleton);
    run(tp::MimeLoad::skeleton_bodies, out.bodies);
    run(tp::MimeLoad::plain, out.plain);
    return out;
}

}  // namespace

TEST(MimeSkeleton, SameMessageAsPlainOnGeneratedMime) {
    std::size_t used = 0, bodies_used = 0, total = 0;
    // More by hand: TICKETD_SKELETON_SEEDS=200000 (the suite runs 4,000).
    const char* more = std::getenv("TICKETD_SKELETON_SEEDS");
    const std::uint32_t seeds = more ? static_cast<std::uint32_t>(std::strtoul(more, nullptr, 10)) : 4000;
    for (std::uint32_t seed = 1; seed <= seeds; ++seed) {
        const std::string raw = Generator(seed, true).message();
        const auto both = build_both(raw);
        if (!both.parsed) continue;
        ++total;
        if (both.used == tp::MimeLoad::skeleton) ++used;
        if (both.bodies_used == tp::MimeLoad::skeleton_bodies) ++bodies_used;
        ASSERT_EQ(both.skeleton, both.plain) << "seed " << seed << "\n" << raw;
        ASSERT_EQ(both.bodies, both.plain) << "seed " << seed << "\n" << raw;
    }
    // Many are cut off in a header or have only short bodies, and many are built to make the
    // skeleton fall back (markers of their own, bare CRs in fields).
    EXPECT_GT(total, seeds * 7 / 8);
    EXPECT_GT(used, total / 5) << used << " of " << total;
    EXPECT_GT(bodies_used, total / 8) << bodies_used << " of " << total;
}

TEST(MimeSkeleton, SameMessageAsPlainOnPlainGeneratedMimeUnderTightLimits) {
    tp::Limits tight;
    tight.max_parts = 5;
    tight.max_depth = 3;
    tight.max_header_line = 40;
    tight.max_header_bytes = 200;
    for (std::uint32_t seed = 1; seed <= 1500; ++seed) {
        for (bool rich : {false, true}) {
            const std::string raw = Generator(seed, rich).message();
            const auto both = build_both(raw, tight);
            ASSERT_EQ(both.skeleton, both.plain) << "seed " << seed << " rich " << rich << "\n" << raw;
            ASSERT_EQ(both.bodies, both.plain) << "seed " << seed << " rich " << rich << "\n" << raw;
        }
    }
}

TEST(MimeSkeleton, SameMessageAsPlainOnCorpusAndTestData) {
    std::vector<fs::path> dirs = {ticketd::testing::data_dir()};
    if (const auto corpus = ticketd::testing::corpus_dir(); !corpus.empty())
        for (const char* sub : {"parse", "robust", "bounces"}) dirs.push_back(corpus / sub);
    // More inputs by hand, e.g. what the fuzzers kept: TICKETD_SKELETON_DIRS=build-fuzz/corpus
    if (const char* more = std::getenv("TICKETD_SKELETON_DIRS")) dirs.emplace_back(more);
    std::size_t files = 0, used = 0;
    for (const auto& dir : dirs) {
        if (!fs::exists(dir)) continue;
        for (const auto& e : fs::recursive_directory_iterator(dir)) {
            if (!e.is_regular_file()) continue;
            const auto both = build_both(ticketd::testing::read_file(e.path()));
            ASSERT_EQ(both.skeleton, both.plain) << e.path();
            ASSERT_EQ(both.bodies, both.plain) << e.path();
            ++files;
            if (both.used == tp::MimeLoad::skeleton) ++used;
        }
    }
    EXPECT_GT(files, 50u);
    EXPECT_GT(used, files / 2) << used << " of " << files;
}

TEST(MimeSkeleton, AttachmentBytesComeFromTheInput) {
    std::string raw =
        "From: a@example.com\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\n"
        "Content-Type: text/plain\r\n\r\nhello, this body is longer than a marker would be\r\n--b\r\n"
        "Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n";
    for (int i = 0; i < 100; ++i) raw += "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=\r\n";
    raw += "--b--\r\n";
    const auto both = build_both(raw);
    EXPECT_EQ(both.used, tp::MimeLoad::skeleton);
    EXPECT_EQ(both.skeleton, both.plain);
    EXPECT_NE(both.skeleton.find("data hello, this body is longer than a marker would be\n"), std::string::npos);
}

TEST(MimeSkeleton, HeaderBlocksAlwaysLeftOutBodiesAloneOnlyWhenTheLargerShare) {
    std::string head = "From: a@example.com\nSubject: small body\n";
    for (int i = 0; i < 20; ++i) head += "X-Field-" + std::to_string(i) + ": a header field of some length\n";
    auto build = [](const std::string& raw) {
        auto scanned = tp::prescan(raw, {});
        auto& ps = std::get<tp::Prescan>(scanned);
        tp::Message m;
        return tp::build_message(raw, ps, {}, m);
    };
    // Fields read in place pay for any message.
    EXPECT_EQ(build(head + "\na body of forty bytes or so, not more...\n"), tp::MimeLoad::skeleton);
    // A LF line end followed by a CR is one line end to mimetic: the header blocks stay with it,
    // and the bodies alone are left out only when they are the larger share.
    EXPECT_EQ(build(head + "\n\ra body of forty bytes or so, not more...\n"), tp::MimeLoad::plain);
    EXPECT_EQ(build(head + "\n\r" + std::string(4000, 'x') + "\n"), tp::MimeLoad::skeleton_bodies);
    const auto both = build_both(head + "\n\ra body of forty bytes or so, not more...\n");
    EXPECT_EQ(both.used, tp::MimeLoad::skeleton_bodies);
    EXPECT_EQ(both.skeleton, both.plain);
}

TEST(MimeSkeleton, MarkerWrittenBySenderMeansPlainParse) {
    // In a body too short to leave out, so mimetic would read it.
    for (const char* marker : {"\x01\x02ticketd-leaf:0\x02", "\x01\x02ticketd-leaf:h1\x02"}) {
        const std::string raw =
            "From: a@example.com\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\n"
            "Content-Type: text/plain\r\n\r\nhello, this body is longer than a marker would be\r\n--b\r\n"
            "Content-Type: text/plain\r\n\r\n" + std::string(marker) + "\r\n--b--\r\n";
        const auto both = build_both(raw);
        EXPECT_EQ(both.used, tp::MimeLoad::plain);
        EXPECT_EQ(both.skeleton, both.plain);
    }
}

TEST(MimeSkeleton, MarkerWrittenBySenderInAHeaderLeftOutIsHarmless) {
    const std::string raw =
        "From: a@example.com\r\nX-Ticketd-Block: \x01\x02ticketd-leaf:h0\x02\r\n"
        "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\n"
        "Content-Type: text/plain\r\n\r\nhello, this body is longer than a marker would be\r\n--b\r\n"
        "Content-Type: text/plain\r\nSubject: \x01\x02ticketd-leaf:0\x02\r\n\r\nshort\r\n--b--\r\n";
    const auto both = build_both(raw);
    EXPECT_EQ(both.used, tp::MimeLoad::skeleton);
    EXPECT_EQ(both.skeleton, both.plain);
    EXPECT_NE(both.skeleton.find("H X-Ticketd-Block: \x01\x02ticketd-leaf:h0\x02\n"), std::string::npos);
}

TEST(MimeSkeleton, ContentTypeCopiedWithALoneLfBeforeTheEmptyLine) {
    // The first Content-Type goes to mimetic (not in the plain form, or a multipart) and ends in
    // a lone LF; in the skeleton the block's CR LF empty line follows it, and the body starts
    // with a CR. Were the copy left ending in LF, mimetic would read LF CR as one line end and
    // start the body a byte late (found by review; the copy now ends CR LF).
    const std::string leaf =
        "From: a@example.com\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\n"
        "Content-Type: text/plain\r\n\r\nhi\r\n--b\r\nContent-Type: application/octet-stream (x)\n"
        "Content-Disposition: attachment; filename=\"a.bin\"\r\n\r\n\rHELLO and enough bytes to be left out\r\n--b--\r\n";
    const std::string top =
        "From: a@example.com\r\nContent-Type: text/plain; charset=\"utf-8\"; x=\"a;b\"\nSubject: s\r\n\r\n"
        "\rHello there, this body is long enough to be blanked out.\r\n";
    const std::string no_delimiter =
        "From: a@example.com\r\nContent-Type: multipart/mixed; boundary=\"zz\"\nX-A: y\r\n\r\n"
        "\ra preamble and no delimiter line at all, long enough\r\n";
    for (const std::string& raw : {leaf, top, no_delimiter}) {
        const auto both = build_both(raw);
        EXPECT_EQ(both.used, tp::MimeLoad::skeleton) << raw;
        EXPECT_EQ(both.skeleton, both.plain) << raw;
        EXPECT_EQ(both.bodies, both.plain) << raw;
    }
}

TEST(MimeSkeleton, LongFoldedAddressFieldFromTheFuzzer) {
    // fuzz_skeleton's timeout: an 88 KB To of folded encoded words with colons in them. The
    // address reader scanned its whole phrase again at every colon (quadratic: 22 ms for the
    // field natively, past the fuzzer's 10 s under ASan); it now counts '@' as tokens come.
    // Every way of reading it gives the same Message, with its two addresses.
    const std::string raw =
        ticketd::testing::read_file(ticketd::testing::data_dir() / "fuzz-regressions" / "parse-long-address-field-colons.eml");
    const auto both = build_both(raw);
    EXPECT_EQ(both.skeleton, both.plain);
    EXPECT_EQ(both.bodies, both.plain);
    auto scanned = tp::prescan(raw, {});
    auto& ps = std::get<tp::Prescan>(scanned);
    tp::Message m;
    tp::build_message(ps.bytes(raw), ps, {}, m);
    ASSERT_EQ(m.to.size(), 2u);
    EXPECT_EQ(m.to[0].address, "test@test.com");
}

TEST(MimeSkeleton, BodyMimeticReadsAsAMessageMeansPlainParse) {
    // From fuzz_skeleton: "To: x\rContent-Type: message/rfc822" is one field to the pre-scan and
    // two to mimetic (a bare CR ends a line), so mimetic reads the body the pre-scan took for a
    // text leaf's as an attached message. In the skeleton that body is a marker, which mimetic
    // then found as the whole body of the "message" it made of it; the count of message/rfc822
    // parts around each marker now has to agree.
    const std::string raw = ticketd::testing::read_file(ticketd::testing::data_dir() / "fuzz-regressions" /
                                                        "parse-skeleton-bare-cr-content-type.eml");
    const auto both = build_both(raw);
    EXPECT_EQ(both.used, tp::MimeLoad::plain);
    EXPECT_EQ(both.bodies_used, tp::MimeLoad::plain);
    EXPECT_EQ(both.skeleton, both.plain);
    EXPECT_EQ(both.bodies, both.plain);
}

TEST(MimeSkeleton, HeaderEndMimeticReadsOtherwiseMeansPlainParse) {
    // "\r\r\n" ends the header for mimetic (a CR line end, then an empty CRLF line), not for the
    // pre-scan: the marker does not come back as a whole body, and the plain parse decides.
    const std::string raw =
        "From: a@example.com\r\nContent-Type: text/plain\r\r\nX-After: still a field for the pre-scan\r\n\r\n"
        "a body long enough to be blanked out of the skeleton, surely\r\n";
    const auto both = build_both(raw);
    EXPECT_EQ(both.used, tp::MimeLoad::plain);
    EXPECT_EQ(both.skeleton, both.plain);
}

// A walk that must start over (a message/rfc822 part mimetic would have to write out from the
// skeleton) leaves the message as it was: only the size and the pre-scan's warnings, as parse()
// hands it over (put back without a copy of the message), or anything else a caller put there
// (a copy). Either way the plain parse then sees what it would have seen first.
TEST(MimeSkeleton, StartingOverLeavesTheMessageAsItWas) {
    auto build = [](const std::string& raw, tp::MimeLoad how, bool with_subject, tp::MimeLoad* used) {
        auto scanned = tp::prescan(raw, {});
        auto* ps = std::get_if<tp::Prescan>(&scanned);
        if (!ps) return std::string("rejected");
        tp::Message m;
        m.raw_size = raw.size() + 7;
        m.warnings.push_back(tp::ParseWarning{"a warning from before"});
        if (with_subject) m.subject = "set by the caller";
        try {
            *used = tp::build_message(ps->bytes(raw), *ps, {}, m, how);
        } catch (const std::exception& e) {
            return std::string("threw: ") + e.what();  // mimetic on some malformed input, both ways
        }
        EXPECT_EQ(m.raw_size, raw.size() + 7);
        EXPECT_FALSE(m.warnings.empty());
        if (!m.warnings.empty()) {
            EXPECT_EQ(m.warnings.front().what, "a warning from before");
        }
        return ticketd::testing::describe_message(m);
    };
    // A bare CR makes "Content-Type: message/rfc822" a field of its own to mimetic only: the
    // walk meets a message the pre-scan never delimited, while the other part's body is left out
    // (this one starts over; the generated ones mostly do not).
    const std::string starts_over =
        "From: a@b\r\nDate: no date\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=XX\r\n\r\n--XX\r\n"
        "To: x\rContent-Type: message/rfc822\r\n\r\nSubject: in\r\n\r\nhi\r\n--XX\r\n"
        "Content-Type: text/plain\r\n\r\n" + std::string(100, 'b') + "\r\n--XX--\r\n";
    std::size_t plain_after_skeleton = 0;
    for (std::uint32_t seed = 0; seed <= 800; ++seed) {
        const std::string raw = seed == 0 ? starts_over : Generator(seed, true).message();
        for (bool with_subject : {false, true}) {
            tp::MimeLoad used = tp::MimeLoad::plain, unused = tp::MimeLoad::plain;
            const std::string skeleton = build(raw, tp::MimeLoad::skeleton_always, with_subject, &used);
            const std::string plain = build(raw, tp::MimeLoad::plain, with_subject, &unused);
            ASSERT_EQ(skeleton, plain) << "seed " << seed;
            plain_after_skeleton += used == tp::MimeLoad::plain;
            if (seed == 0) {
                EXPECT_EQ(used, tp::MimeLoad::plain);
            }
        }
    }
    EXPECT_GT(plain_after_skeleton, 0u);
}
