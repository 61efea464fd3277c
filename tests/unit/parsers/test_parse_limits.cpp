// Hostile input: every limit gives a clear error or a warning, quickly, never a crash.

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "parsers/parse.h"

namespace tp = ticketd::parsers;

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

TEST(Limits, FourMegabyteHeaderLineIsTruncatedWithAWarning) {
    std::string raw = "From: a@example.com\r\nX-Big: " + std::string(4u << 20, 'x') + "\r\nSubject: after\r\n\r\nbody\r\n";
    const auto t0 = std::chrono::steady_clock::now();
    auto r = tp::parse(raw);
    EXPECT_LT(seconds_since(t0), 1.0);
    ASSERT_TRUE(std::holds_alternative<tp::Message>(r));
    const auto& m = std::get<tp::Message>(r);
    EXPECT_EQ(m.subject, "after");  // fields after the long one survive
    const auto* big = m.header("X-Big");
    ASSERT_NE(big, nullptr);
    EXPECT_LE(big->value.size(), tp::Limits{}.max_header_line);
    bool warned = false;
    for (const auto& w : m.warnings) warned |= w.what.find("X-Big") != std::string::npos;
    EXPECT_TRUE(warned);
}

TEST(Limits, LongFoldedHeaderIsTruncatedToo) {
    std::string v;
    for (int i = 0; i < 100000; ++i) v += " word\r\n";
    std::string raw = "Subject: start\r\n" + v + "From: a@example.com\r\n\r\nbody\r\n";
    const auto t0 = std::chrono::steady_clock::now();
    auto r = tp::parse(raw);
    EXPECT_LT(seconds_since(t0), 1.0);
    const auto& m = std::get<tp::Message>(r);
    EXPECT_LE(m.subject.size(), tp::Limits{}.max_header_line);
    EXPECT_EQ(m.from.size(), 1u);
}

TEST(Limits, HugeHeaderBlockDropsLaterFields) {
    std::string raw = "From: a@example.com\r\n";
    for (int i = 0; i < 40000; ++i) raw += "X-F" + std::to_string(i) + ": " + std::string(40, 'v') + "\r\n";
    raw += "\r\nbody\r\n";
    auto r = tp::parse(raw);
    ASSERT_TRUE(std::holds_alternative<tp::Message>(r));
    const auto& m = std::get<tp::Message>(r);
    EXPECT_LT(m.headers.size(), 40001u);
    EXPECT_FALSE(m.warnings.empty());
}

TEST(Limits, HundredThousandNestingLevelsIsAnError) {
    std::string raw;
    for (int i = 0; i < 100000; ++i)
        raw += "Content-Type: multipart/mixed; boundary=\"b" + std::to_string(i) + "\"\r\n\r\n--b" + std::to_string(i) + "\r\n";
    raw += "\r\nleaf\r\n";
    const auto t0 = std::chrono::steady_clock::now();
    auto r = tp::parse(raw);
    EXPECT_LT(seconds_since(t0), 1.0);
    ASSERT_TRUE(std::holds_alternative<tp::ParseError>(r));
    EXPECT_EQ(std::get<tp::ParseError>(r).code, "too_deep");
}

TEST(Limits, DeepMessageRfc822NestingIsAnError) {
    std::string raw;
    for (int i = 0; i < 100000; ++i) raw += "Content-Type: message/rfc822\r\n\r\n";
    raw += "Subject: core\r\n\r\nx\r\n";
    const auto t0 = std::chrono::steady_clock::now();
    auto r = tp::parse(raw);
    EXPECT_LT(seconds_since(t0), 1.0);
    ASSERT_TRUE(std::holds_alternative<tp::ParseError>(r));
    EXPECT_EQ(std::get<tp::ParseError>(r).code, "too_deep");
}

TEST(Limits, TenThousandPartsIsAnError) {
    std::string raw = "Content-Type: multipart/mixed; boundary=b\r\n\r\n";
    for (int i = 0; i < 10000; ++i) raw += "--b\r\nContent-Type: text/plain\r\n\r\npart\r\n";
    raw += "--b--\r\n";
    const auto t0 = std::chrono::steady_clock::now();
    auto r = tp::parse(raw);
    EXPECT_LT(seconds_since(t0), 1.0);
    ASSERT_TRUE(std::holds_alternative<tp::ParseError>(r));
    EXPECT_EQ(std::get<tp::ParseError>(r).code, "too_many_parts");
    EXPECT_FALSE(std::get<tp::ParseError>(r).message.empty());

    tp::Limits generous;
    generous.max_parts = 20000;
    auto ok = tp::parse(raw, generous);
    ASSERT_TRUE(std::holds_alternative<tp::Message>(ok));
    EXPECT_EQ(std::get<tp::Message>(ok).leaves.size(), 10000u);
}

TEST(Limits, WholeMessageSizeCapIsAnError) {
    tp::Limits small;
    small.max_message_bytes = 1000;
    auto r = tp::parse("Subject: x\r\n\r\n" + std::string(2000, 'a'), small);
    ASSERT_TRUE(std::holds_alternative<tp::ParseError>(r));
    EXPECT_EQ(std::get<tp::ParseError>(r).code, "too_large");
}

TEST(Limits, GarbageNeverThrows) {
    std::string junk;
    unsigned x = 12345;
    for (int i = 0; i < 200000; ++i) {
        x = x * 1103515245u + 12345u;
        const char alphabet[] = "--b\r\n:;=?\"<>()\0\x1b\xff Content-Type multipart/mixed boundary message/rfc822";
        junk.push_back(alphabet[(x >> 16) % (sizeof alphabet - 1)]);
    }
    EXPECT_NO_THROW({ auto r = tp::parse(junk); (void)r; });
}
