// The UID FETCH range answer parser (mail/imap_fetch_stream): literals counted in bytes, hostile
// bodies, pieces of any size, broken streams.

#include "mail/imap_fetch_stream.h"

#include <gtest/gtest.h>

#include <random>

namespace ticketd::mail {
namespace {

std::string response(int seq, std::uint64_t uid, const std::string& body) {
    return "* " + std::to_string(seq) + " FETCH (UID " + std::to_string(uid) + " RFC822.SIZE " +
           std::to_string(body.size()) + " BODY[] {" + std::to_string(body.size()) + "}\r\n" +
           body + ")\r\n";
}

/// A message a hostile sender could write: every line libcurl or a naive parser could misread.
std::string hostile_body() {
    std::string b = "From: x@example.com\r\nSubject: hostile\r\n\r\n";
    b += "A001 OK Fetch completed.\r\n";
    b += "B123 OK also\r\n";
    b += "* 5 FETCH (UID 99 RFC822.SIZE 3 BODY[] {3}\r\n";
    b += "abc)\r\n";
    b += "a line that ends like a literal {99}\r\n";
    b += "bare CR\rinside a line\r\n";
    b += std::string("NUL\0bytes\0here\r\n", 17);
    b += std::string(100 * 1024, 'x') + "\r\n";
    b += "A002 NO last line without CRLF";
    return b;
}

TEST(FetchStream, TwoResponsesAndTheCompletion) {
    FetchStreamParser p(1 << 20);
    std::string in = response(1, 10, "Subject: a\r\n\r\nhello\r\n") +
                     response(2, 12, "Subject: b\r\n\r\nworld\r\n") + "A005 OK Fetch completed.\r\n";
    ASSERT_TRUE(p.feed(in)) << p.error();
    ASSERT_EQ(p.items().size(), 2u);
    EXPECT_EQ(p.items()[0].uid, 10u);
    EXPECT_EQ(p.items()[0].body, "Subject: a\r\n\r\nhello\r\n");
    EXPECT_EQ(p.items()[0].size, p.items()[0].body.size());
    EXPECT_EQ(p.items()[1].uid, 12u);
    EXPECT_TRUE(p.items()[1].has_body);
    EXPECT_TRUE(p.complete());
    EXPECT_TRUE(p.completed_ok());
    EXPECT_FALSE(p.tag_like_line_in_literal());
    EXPECT_FALSE(p.in_literal());
}

TEST(FetchStream, HostileBodyComesOutByteForByteAndTagLikeLinesAreFlagged) {
    const std::string body = hostile_body();
    const std::string in = response(1, 7, body) + response(2, 8, "ok\r\n") + "A003 OK done\r\n";
    FetchStreamParser p(1 << 20);
    ASSERT_TRUE(p.feed(in)) << p.error();
    ASSERT_EQ(p.items().size(), 2u);
    EXPECT_EQ(p.items()[0].uid, 7u);
    EXPECT_EQ(p.items()[0].body, body);
    EXPECT_EQ(p.items()[1].uid, 8u);
    EXPECT_TRUE(p.completed_ok());
    EXPECT_TRUE(p.tag_like_line_in_literal());
}

TEST(FetchStream, TagLikeTextNotAtALineStartIsNotFlagged) {
    FetchStreamParser p(1 << 20);
    ASSERT_TRUE(p.feed(response(1, 7, "see A001 OK in the middle\r\na001 lower case\r\nA01 short\r\n")));
    EXPECT_FALSE(p.tag_like_line_in_literal());
    // The first line of a literal starts a line too.
    FetchStreamParser q(1 << 20);
    ASSERT_TRUE(q.feed(response(1, 7, "Z999 first line\r\n")));
    EXPECT_TRUE(q.tag_like_line_in_literal());
}

TEST(FetchStream, AnySplitGivesTheSameResult) {
    const std::string in = response(1, 3, hostile_body()) + "* 4 EXISTS\r\n" +
                           response(2, 4, "x\r\n") + "A009 OK done\r\n";
    FetchStreamParser whole(1 << 20);
    ASSERT_TRUE(whole.feed(in));
    std::mt19937 rng(42);
    for (int round = 0; round < 20; ++round) {
        FetchStreamParser p(1 << 20);
        std::size_t i = 0;
        while (i < in.size()) {
            std::size_t n = std::uniform_int_distribution<std::size_t>(1, round < 2 ? 1 : 5000)(rng);
            ASSERT_TRUE(p.feed(std::string_view(in).substr(i, n))) << p.error();
            i += n;
        }
        ASSERT_EQ(p.items().size(), whole.items().size());
        for (std::size_t k = 0; k < p.items().size(); ++k) {
            EXPECT_EQ(p.items()[k].uid, whole.items()[k].uid);
            EXPECT_EQ(p.items()[k].body, whole.items()[k].body);
        }
        EXPECT_TRUE(p.completed_ok());
        EXPECT_EQ(p.tag_like_line_in_literal(), whole.tag_like_line_in_literal());
    }
}

TEST(FetchStream, ACutStreamKeepsOnlyCompleteResponses) {
    const std::string in = response(1, 1, "one\r\n") + response(2, 2, "two two two\r\n");
    FetchStreamParser p(1 << 20);
    ASSERT_TRUE(p.feed(in.substr(0, in.size() - 8)));  // mid literal
    EXPECT_TRUE(p.in_literal());
    ASSERT_EQ(p.items().size(), 1u);
    EXPECT_EQ(p.items()[0].uid, 1u);
    EXPECT_FALSE(p.complete());
    // Literal done but no closing parenthesis yet: not delivered either.
    FetchStreamParser q(1 << 20);
    ASSERT_TRUE(q.feed(in.substr(0, in.size() - 3)));
    EXPECT_FALSE(q.in_literal());
    EXPECT_EQ(q.items().size(), 1u);
}

TEST(FetchStream, ALiteralOverTheLimitFailsBeforeItIsStored) {
    FetchStreamParser p(100);
    std::string in = response(1, 1, "small\r\n") + response(2, 2, std::string(101, 'y'));
    EXPECT_FALSE(p.feed(in));
    EXPECT_TRUE(p.failed());
    EXPECT_NE(p.error().find("over the limit"), std::string::npos) << p.error();
    ASSERT_EQ(p.items().size(), 1u);
    EXPECT_EQ(p.items()[0].uid, 1u);
    EXPECT_FALSE(p.feed("A001 OK\r\n"));  // ignored once broken
}

TEST(FetchStream, ItemsInAnyOrderNilBodiesAndUnsolicitedData) {
    FetchStreamParser p(1 << 20);
    std::string in =
        "* 3 EXISTS\r\n"
        "* 1 FETCH (FLAGS (\\Seen \"odd)\"))\r\n"         // unsolicited, no UID: not ours
        "* 2 FETCH (BODY[] {5}\r\nhello UID 7 RFC822.SIZE 5 FLAGS (\\Seen))\r\n"
        "* 3 FETCH (UID 8 BODY[] NIL)\r\n"
        "* 4 FETCH (UID 9 INTERNALDATE \"01-Dec-2026 10:00:00 +0000\" BODY[HEADER.FIELDS (FROM)] "
        "{4}\r\nab\r\n BODY[] {2}\r\nhi)\r\n"
        "A001 OK\r\n";
    ASSERT_TRUE(p.feed(in)) << p.error();
    ASSERT_EQ(p.items().size(), 3u);
    EXPECT_EQ(p.items()[0].uid, 7u);
    EXPECT_EQ(p.items()[0].body, "hello");
    EXPECT_EQ(p.items()[0].size, 5u);
    EXPECT_EQ(p.items()[1].uid, 8u);
    EXPECT_FALSE(p.items()[1].has_body);
    EXPECT_EQ(p.items()[2].body, "hi");
    EXPECT_EQ(uids_missing({6, 7, 8, 9}, p.items()), (std::vector<std::uint64_t>{6, 8}));
}

TEST(FetchStream, SizesAnswerWithoutLiterals) {
    FetchStreamParser p(0);
    ASSERT_TRUE(p.feed("* 1 FETCH (UID 4 RFC822.SIZE 1200)\r\n* 2 FETCH (UID 5 RFC822.SIZE 9)\r\n"));
    ASSERT_EQ(p.items().size(), 2u);
    EXPECT_EQ(p.items()[1].size, 9u);
    EXPECT_FALSE(p.items()[1].has_body);
    EXPECT_FALSE(p.complete());  // libcurl keeps the tagged line to itself for commands
}

TEST(FetchStream, TaggedNoIsCompleteButNotOk) {
    FetchStreamParser p(1 << 20);
    ASSERT_TRUE(p.feed(response(1, 1, "a") + "A004 NO [EXPUNGEISSUED] Some messages were expunged\r\n"));
    EXPECT_TRUE(p.complete());
    EXPECT_FALSE(p.completed_ok());
    EXPECT_EQ(p.items().size(), 1u);
}

TEST(FetchStream, MalformedInputFailsCleanly) {
    for (std::string bad : {
             std::string("* 1 FETCH (UID 1 BODY[] {12x}\r\n"),
             std::string("* 1 FETCH (UID 1 BODY[] {5} trailing\r\n"),
             std::string("* 1 FETCH (UID x)\r\n"),
             std::string("* 1 FETCH (UID 0)\r\n"),
             std::string("* 1 FETCH (UID 1\r\n"),
             std::string("* 1 FETCH (UID 1) junk\r\n"),
             std::string("* 1 FETCH (FLAGS (a {3}\r\n"),
             std::string("* 1 FETCH (X \"unterminated)\r\n"),
             std::string("* 1 FETCH (UID 1 BODY[] {99999999999999999999}\r\n"),
             std::string("garbage\r\n"),
             std::string("A001 OK\r\nmore\r\n"),
         }) {
        FetchStreamParser p(1 << 20);
        EXPECT_FALSE(p.feed(bad)) << bad;
        EXPECT_TRUE(p.items().empty()) << bad;
    }
    FetchStreamParser p(1 << 20, 1000);
    EXPECT_FALSE(p.feed(std::string(2000, 'a')));
    EXPECT_NE(p.error().find("longer than"), std::string::npos);
}

TEST(FetchStream, RandomBytesNeverCrash) {
    std::mt19937 rng(7);
    const std::string alphabet = "* FETCH(UID BODY[]{}0123456789)\r\n\"A ";
    for (int round = 0; round < 2000; ++round) {
        std::string in;
        std::size_t n = std::uniform_int_distribution<std::size_t>(0, 300)(rng);
        for (std::size_t i = 0; i < n; ++i)
            in += alphabet[std::uniform_int_distribution<std::size_t>(0, alphabet.size() - 1)(rng)];
        FetchStreamParser p(64);
        p.feed(in);
        for (const auto& it : p.items()) EXPECT_LE(it.body.size(), 64u);
    }
}

TEST(FetchStream, CommandsAndPacking) {
    EXPECT_EQ(fetch_sizes_command({5, 3, 4, 9}), "UID FETCH 3:5,9 (UID RFC822.SIZE)");
    EXPECT_EQ(fetch_bodies_command({1, 2}), "UID FETCH 1:2 (UID RFC822.SIZE BODY.PEEK[])");
    auto g = pack_ranges({1, 2, 3, 4, 5, 6}, {100, 100, 500, 100, 100, 100}, 300, 3);
    ASSERT_EQ(g.size(), 3u);
    EXPECT_EQ(g[0], (std::vector<std::uint64_t>{1, 2}));
    EXPECT_EQ(g[1], (std::vector<std::uint64_t>{3}));  // alone over the budget
    EXPECT_EQ(g[2], (std::vector<std::uint64_t>{4, 5, 6}));
    EXPECT_EQ(pack_ranges({1, 2, 3, 4, 5}, {1, 1, 1, 1, 1}, 300, 2).size(), 3u);
    EXPECT_TRUE(pack_ranges({}, {}, 300, 3).empty());
}

}  // namespace
}  // namespace ticketd::mail
