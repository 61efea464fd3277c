// Inputs the fuzzers (fuzz/) crashed on, kept in tests/data/fuzz-regressions/, each run through
// what crashed: parse() and the `ticketd parse --json` summary, which must be valid UTF-8.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <variant>

#include "parsers/auth_results.h"
#include "parsers/parse.h"
#include "parsers/summary.h"
#include "tests/support/paths.h"

using namespace ticketd::parsers;
using ticketd::testing::data_dir;
using ticketd::testing::read_file;

namespace {

Message parsed(const std::string& name) {
    ParseResult r = parse(read_file(data_dir() / "fuzz-regressions" / name));
    if (auto* e = std::get_if<ParseError>(&r)) {
        ADD_FAILURE() << name << ": " << e->code << " " << e->message;
        return {};
    }
    return std::get<Message>(std::move(r));
}

}  // namespace

// "Content-Type:\xff": the byte went into the leaf's content type and made the summary throw
// (nlohmann type_error 316). A type that is not ASCII counts as absent: text/plain.
TEST(FuzzRegressions, ContentTypeNotAscii) {
    Message m = parsed("parse-content-type-not-ascii.eml");
    ASSERT_EQ(m.leaves.size(), 1u);
    EXPECT_EQ(m.leaves[0].content_type, "text/plain");
    EXPECT_NO_THROW((void)to_summary_json(m).dump());
}

// Every stored parse input: parse() and the summary neither crash nor throw.
TEST(FuzzRegressions, EveryParseInputSummarises) {
    int n = 0;
    for (const auto& e : std::filesystem::directory_iterator(data_dir() / "fuzz-regressions")) {
        if (e.path().filename().string().rfind("parse-", 0) != 0) continue;
        ++n;
        ParseResult r = parse(read_file(e.path()));
        if (auto* m = std::get_if<Message>(&r)) {
            EXPECT_NO_THROW((void)to_summary_json(*m).dump()) << e.path();
        }
    }
    EXPECT_GT(n, 0);
}

// A delivery-status part whose Diagnostic-Code ends in a 0xff byte: BounceInfo carried the raw
// byte into the summary. The report's fields are made UTF-8 like every other text.
TEST(FuzzRegressions, DsnDiagnosticNotUtf8) {
    Message m = parsed("parse-dsn-diagnostic-not-utf8.eml");
    ASSERT_TRUE(m.bounce.has_value());
    EXPECT_EQ(m.bounce->status, "5.2.1");
    EXPECT_EQ(m.bounce->diagnostic, "\xc3\xbf");  // 0xff read as windows-1252: U+00FF
    EXPECT_NO_THROW((void)to_summary_json(m).dump());
}

// Authentication-Results with a ')' whose '(' is missing: the lexer stopped on it without moving
// and looped for ever, allocating (any mail's header could hang the daemon). Now malformed.
TEST(FuzzRegressions, AuthResultsStrayParenthesis) {
    const std::string value = read_file(data_dir() / "fuzz-regressions" / "auth-results-stray-paren.txt");
    EXPECT_FALSE(parse_authentication_results(value).has_value());
    EXPECT_FALSE(parse_authentication_results("mx.example; dkim=pass) header.d=example.com").has_value());
    EXPECT_TRUE(parse_authentication_results("mx.example; dkim=pass (ok) header.d=example.com").has_value());
    std::vector<Header> headers = {{"Authentication-Results", value}};
    EXPECT_FALSE(verify_sender_domain(headers, "acme.example", {"mx.acme.example"}).verified);
}

// An unreadable 8-bit Date: its warning quoted the first 80 bytes of the value made UTF-8, and
// the cut fell inside a two-byte sequence. The cut now backs off to a character boundary.
TEST(FuzzRegressions, DateWarningCutInsideUtf8) {
    Message m = parsed("parse-date-cut-inside-utf8.eml");
    EXPECT_FALSE(m.date.has_value());
    bool warned = false;
    for (const auto& w : m.warnings)
        if (w.what.rfind("unreadable Date: ", 0) == 0) {
            warned = true;
            EXPECT_LE(w.what.size(), std::string("unreadable Date: ").size() + 80);
            EXPECT_NO_THROW((void)nlohmann::json(w.what).dump());
        }
    EXPECT_TRUE(warned);
    EXPECT_NO_THROW((void)to_summary_json(m).dump());
}

// A multipart whose part holds a lone CR line before the boundary: mimetic's parser throws
// (std::length_error) from inside the MimeEntity constructor, so ~MimeEntity never ran and every
// child part leaked. The leak shows under ASan (scripts/test.sh's build-asan) and valgrind; here
// the message must end as a clear error (or a message), never a crash.
TEST(FuzzRegressions, MimeticThrowingLeaksNoParts) {
    ParseResult r = parse(read_file(data_dir() / "fuzz-regressions" / "parse-mimetic-throws-leaks-parts.eml"));
    if (auto* e = std::get_if<ParseError>(&r)) {
        EXPECT_EQ(e->code, "internal") << e->message;
    }
}

// A long 8-bit List-Id: the classification reason quotes the header cut at 120 bytes, and the
// cut fell inside a UTF-8 sequence (the summary threw). It now backs off to a boundary.
TEST(FuzzRegressions, ClassificationReasonCutInsideUtf8) {
    Message m = parsed("parse-classify-reason-cut-inside-utf8.eml");
    EXPECT_EQ(m.classification, Classification::list);
    EXPECT_EQ(m.classification_reason.rfind("List-Id: ", 0), 0u) << m.classification_reason;
    EXPECT_NO_THROW((void)nlohmann::json(m.classification_reason).dump());
    EXPECT_NO_THROW((void)to_summary_json(m).dump());
}

// Same class as the two above, found by reading the other byte limits in parsers/: a bounce's
// X-Failed-Recipients quoted in the reason at 200 bytes, cut inside 'é'.
TEST(FuzzRegressions, FailedRecipientsReasonCutInsideUtf8) {
    Message m = parsed("parse-failed-recipients-cut-inside-utf8.eml");
    EXPECT_EQ(m.classification, Classification::bounce);
    EXPECT_EQ(m.classification_reason, "X-Failed-Recipients: " + std::string(199, 'a'));
    EXPECT_NO_THROW((void)to_summary_json(m).dump());
}
