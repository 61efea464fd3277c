// read_simple_content_type against mimetic's own ContentType on generated values: whenever the
// fast reading accepts a value, every part of mimetic's reading must agree (type, subtype,
// parameter list, str(), multipart and message/rfc822, boundary). The generator aims at the
// edges of the accepted form (blanks around every separator, quotes and semicolons inside them,
// backslashes, comments, empty pieces, 8-bit bytes), and the test counts how often the fast
// reading was taken, so that a reader that always declines would not pass unnoticed.

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>
#include <mimetic/mimetic.h>

#include "parsers/content_type.h"
#include "parsers/headers.h"
#include "tests/unit/parsers/mime_generator.h"

namespace tp = ticketd::parsers;
using ticketd::testing::Rng;

namespace {


std::string generate(Rng& r) {
    static const std::vector<std::string> types = {"text", "TEXT", "Multipart", "multipart", "message", "MESSAGE",
                                                   "application", "x-foo", "image", "", "te xt", "t\xe9xt"};
    static const std::vector<std::string> subtypes = {"plain", "html", "mixed", "alternative", "rfc822", "RFC822",
                                                      "octet-stream", "vnd.ms-excel", "", "pl ain", "x+y"};
    static const std::vector<std::string> names = {"charset", "boundary", "BOUNDARY", "name", "format",
                                                   "name*0", "name*1*", "filename*", "x", "", "na me", "b="};
    static const std::vector<std::string> values = {"utf-8", "us-ascii", "=_Part_1_2", "----=_NextPart", "a/b",
                                                    "a b", "a;b", "a\"b", "a\\b", "x(y)", "", "=", "\xc3\xa9",
                                                    "flowed", "utf-8''%e2%82%ac", "1.2.3", "<a@b>", "?q:[]"};
    static const std::vector<std::string> blanks = {"", "", "", " ", "\t", "  ", " \t"};
    std::string v = r.below(8) == 0 ? r.pick(blanks) : "";
    v += r.pick(types);
    if (r.below(12) != 0) v += "/";
    v += r.pick(subtypes);
    if (r.below(10) == 0) v += r.pick(blanks);
    const std::size_t params = r.below(4);
    for (std::size_t k = 0; k < params; ++k) {
        if (r.below(15) != 0) v += ";";
        v += r.pick(blanks);
        v += r.pick(names);
        v += r.pick(blanks);
        if (r.below(15) != 0) v += "=";
        v += r.pick(blanks);
        const bool quoted = r.below(2) == 0;
        if (quoted) v += "\"";
        v += r.pick(values);
        if (quoted && r.below(12) != 0) v += "\"";
        if (r.below(3) == 0) v += r.pick(blanks);
    }
    if (r.below(8) == 0) v += ";";
    if (r.below(8) == 0) v += r.pick(blanks);
    if (r.below(20) == 0) v += " (comment)";
    return v;
}

}  // namespace

TEST(SimpleContentType, AgreesWithMimeticOnGeneratedValues) {
    Rng r{12345};
    std::size_t accepted = 0;
    const std::size_t total = 60000;
    for (std::size_t k = 0; k < total; ++k) {
        const std::string v = generate(r);
        // The pre-scan hands it the value with the blanks after the colon; mimetic's boundary
        // does not depend on them.
        const auto lead = v.find_first_not_of(" \t");
        if (lead != std::string::npos && lead > 0) {
            if (const auto trimmed = tp::read_simple_content_type(std::string_view(v).substr(lead))) {
                ASSERT_EQ(trimmed->boundary(), mimetic::ContentType{v}.param("boundary")) << v;
            }
        }
        const auto fast = tp::read_simple_content_type(v);
        if (!fast) continue;
        ++accepted;
        // The pre-scan takes type and subtype from it in place of parse_content_type's.
        const auto ours = tp::parse_content_type(v, false);
        ASSERT_EQ(tp::ascii_lower(fast->type), ours.type) << v;
        ASSERT_EQ(tp::ascii_lower(fast->subtype), ours.subtype) << v;
        const mimetic::ContentType m{v};
        ASSERT_EQ(fast->type, std::string(m.type())) << v;
        ASSERT_EQ(fast->subtype, std::string(m.subtype())) << v;
        ASSERT_EQ(fast->str(), m.str()) << v;
        ASSERT_EQ(fast->is_multipart(), m.isMultipart()) << v;
        ASSERT_EQ(fast->is_message_rfc822(), m.type() == "message" && m.subtype() == "rfc822") << v;
        ASSERT_EQ(fast->boundary(), m.param("boundary")) << v;
        std::vector<std::pair<std::string, std::string>> split, theirs;
        for (const auto& [name, value] : fast->params) split.emplace_back(name, value);
        for (const auto& p : m.paramList()) theirs.emplace_back(std::string(p.name()), p.value());
        ASSERT_EQ(split, theirs) << v;
    }
    EXPECT_GT(accepted, total / 8) << accepted << " of " << total;
    EXPECT_LT(accepted, total * 9 / 10) << "the generator no longer reaches the values left to mimetic";
}

TEST(SimpleContentType, ReadsTheUsualForms) {
    const auto ct = tp::read_simple_content_type("multipart/alternative; boundary=\"----=_Part_7\"; charset=utf-8");
    ASSERT_TRUE(ct);
    EXPECT_EQ(ct->type, "multipart");
    EXPECT_EQ(ct->subtype, "alternative");
    EXPECT_TRUE(ct->is_multipart());
    EXPECT_EQ(ct->boundary(), "----=_Part_7");
    ASSERT_EQ(ct->params.size(), 2u);
    EXPECT_EQ(ct->str(), "multipart/alternative; boundary=\"----=_Part_7\"; charset=\"utf-8\"");
    EXPECT_TRUE(tp::read_simple_content_type("Message/RFC822")->is_message_rfc822());
    EXPECT_TRUE(tp::read_simple_content_type("text/plain;")->params.empty());
}

TEST(SimpleContentType, TypeTakesExactlyTheTokenBytes) {
    // RFC 2045: a token is printable ASCII without blanks and tspecials; every other byte in the
    // type leaves the value to mimetic. All 256 bytes, and more parameters than it holds.
    const std::string_view tspecials = "()<>@,;:\\\"/[]?=";
    for (int c = 0; c < 256; ++c) {
        const bool token = c > 0x20 && c < 0x7f && tspecials.find(static_cast<char>(c)) == std::string_view::npos;
        const std::string v = std::string("te") + static_cast<char>(c) + "xt/plain";
        EXPECT_EQ(tp::read_simple_content_type(v).has_value(), token) << c;
    }
    std::string many = "text/plain";
    for (int i = 0; i < 9; ++i) many += "; p" + std::to_string(i) + "=v";
    EXPECT_FALSE(tp::read_simple_content_type(many));
    many.resize(many.rfind(';'));
    ASSERT_TRUE(tp::read_simple_content_type(many));
    EXPECT_EQ(tp::read_simple_content_type(many)->params.size(), 8u);
}

TEST(SimpleContentType, LeavesEverythingElseToMimetic) {
    for (const char* v : {"text/plain (comment)", "text/plain; name=\"a\\\"b\"", "text /plain", "text/plain ; x=1",
                          "text/plain; x=\"a;b\"", "text/plain; x", "text/plain;; x=1", "text", "/plain",
                          "text/plain; name=caf\xc3\xa9", "text/plain; x=\"open", ""})
        EXPECT_FALSE(tp::read_simple_content_type(v)) << v;
}
