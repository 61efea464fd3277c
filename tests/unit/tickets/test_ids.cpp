#include "tickets/ids.h"

#include <gtest/gtest.h>

#include <set>

namespace ticketd::tickets {
namespace {

TEST(Ids, TokensAreRandomHex) {
    std::set<std::string> seen;
    for (int i = 0; i < 200; ++i) {
        auto t = new_token();
        EXPECT_EQ(t.size(), kTokenLength);
        EXPECT_TRUE(looks_like_token(t)) << t;
        seen.insert(t);
    }
    EXPECT_EQ(seen.size(), 200u);
}

TEST(Ids, MessageIdRoundTrip) {
    auto id = make_message_id(1042, "7f3a9c0b1d", 5, "support.example.com");
    EXPECT_EQ(id, "1042.7f3a9c0b1d.r5@support.example.com");
    auto p = parse_message_id("<" + id + ">");
    ASSERT_TRUE(p);
    EXPECT_EQ(p->number, 1042);
    EXPECT_EQ(p->token, "7f3a9c0b1d");
    EXPECT_EQ(p->seq, 5);
    EXPECT_EQ(p->host, "support.example.com");
}

TEST(Ids, ForeignMessageIdsAreNotOurs) {
    EXPECT_FALSE(parse_message_id("CAF=abc123@mail.gmail.com"));
    EXPECT_FALSE(parse_message_id("1042.zzzzzzzz.r5@host"));
    EXPECT_FALSE(parse_message_id("1042.7f3a9c0b1d.r@host"));
    EXPECT_FALSE(parse_message_id("1042.7f3a9c0b1d.r5"));
    EXPECT_FALSE(parse_message_id("x1042.7f3a9c0b1d.r5@host"));
    EXPECT_FALSE(parse_message_id(""));
}

TEST(Ids, SubjectTagFormatsAndParses) {
    EXPECT_EQ(format_subject_tag("ACME", 1042, "7f3a9c0b1d"), "[ACME #1042 7f3a9c0b1d]");
    EXPECT_EQ(format_subject_tag("ACME", 1042), "[ACME #1042]");
    auto t = parse_subject_tag("Re: [ACME #1042 7f3a9c0b1d] Printer on fire", "ACME");
    ASSERT_TRUE(t);
    EXPECT_EQ(t->number, 1042);
    EXPECT_EQ(t->token, "7f3a9c0b1d");
    EXPECT_EQ(t->pos, 4u);
}

TEST(Ids, SubjectTagVariants) {
    auto plain = parse_subject_tag("AW: [acme #7] hello", "ACME");
    ASSERT_TRUE(plain);
    EXPECT_EQ(plain->number, 7);
    EXPECT_EQ(plain->token, "");
    auto dot = parse_subject_tag("[ACME #1042\xc2\xb7" "7F3A9C] x", "ACME");
    ASSERT_TRUE(dot);
    EXPECT_EQ(dot->token, "7f3a9c");
    auto dash = parse_subject_tag("[ ACME #1042-7f3a9c0b1d ]", "ACME");
    ASSERT_TRUE(dash);
    EXPECT_EQ(dash->token, "7f3a9c0b1d");
    EXPECT_FALSE(parse_subject_tag("[OTHER #1042] x", "ACME"));
    EXPECT_FALSE(parse_subject_tag("[ACME #] x", "ACME"));
    EXPECT_FALSE(parse_subject_tag("[ACME #12 nothex] x", "ACME"));
    EXPECT_FALSE(parse_subject_tag("[ACME #12", "ACME"));
    EXPECT_FALSE(parse_subject_tag("ACME #12", "ACME"));
    // The first of ours wins over a foreign tag before it.
    auto second = parse_subject_tag("[X #1] [ACME #2] y", "ACME");
    ASSERT_TRUE(second);
    EXPECT_EQ(second->number, 2);
}

TEST(Ids, StripSubjectTags) {
    EXPECT_EQ(strip_subject_tags("Re: [ACME #1042 7f3a9c0b1d] Printer", "ACME"), "Re: Printer");
    EXPECT_EQ(strip_subject_tags("Printer [ACME #1042]", "ACME"), "Printer");
    EXPECT_EQ(strip_subject_tags("Printer", "ACME"), "Printer");
}

TEST(Ids, PlusAddress) {
    auto a = make_plus_address("support@example.com", 1042, "7f3a9c0b1d");
    EXPECT_EQ(a, "support+1042.7f3a9c0b1d@example.com");
    auto p = parse_plus_address("Support+1042.7F3A9C0B1D@Example.com");
    ASSERT_TRUE(p);
    EXPECT_EQ(p->base, "support@example.com");
    EXPECT_EQ(p->number, 1042);
    EXPECT_EQ(p->token, "7f3a9c0b1d");
    auto bare = parse_plus_address("support+1042@example.com");
    ASSERT_TRUE(bare);
    EXPECT_EQ(bare->token, "");
    EXPECT_FALSE(parse_plus_address("support@example.com"));
    EXPECT_FALSE(parse_plus_address("support+news@example.com"));
    EXPECT_FALSE(parse_plus_address("support+1042.xyz@example.com"));
}

}  // namespace
}  // namespace ticketd::tickets
