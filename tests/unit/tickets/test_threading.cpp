#include "tickets/threading.h"

#include <gtest/gtest.h>

#include "tests/unit/tickets/fake_lookup.h"
#include "tickets/ids.h"

namespace ticketd::tickets {
namespace {

using test::FakeLookup;

class Threading : public ::testing::Test {
protected:
    Threading() {
        desk.addresses = {"support@acme.example", "help@acme.example"};
        desk.subject_tag = "ACME";
        desk.hostname = "tickets.acme.example";
        lookup.add(1042, "7f3a9c0b1d", {"ann@customer.example", "bob@customer.example"});
        lookup.add(1043, "0123456789", {"carol@other.example"});
        lookup.add_message_id("ack-1042@tickets.acme.example", 1042);
        lookup.add_message_id("ann-first@customer.example", 1042);
        lookup.add_message_id("carol-first@other.example", 1043);
    }

    parsers::Message mail(const std::string& from, const std::string& subject) {
        parsers::Message m;
        m.from = {{"", from}};
        m.to = {{"", "support@acme.example"}};
        m.subject = subject;
        m.message_id = "new-" + std::to_string(++seq) + "@" +
                       from.substr(from.find('@') + 1);
        return m;
    }

    ThreadDecision run(const parsers::Message& m) { return thread(m, desk, lookup); }

    config::DeskConfig desk;
    FakeLookup lookup;
    int seq = 0;
};

TEST_F(Threading, InReplyToOurStoredMessage) {
    auto m = mail("ann@customer.example", "Re: Printer");
    m.in_reply_to = {"ack-1042@tickets.acme.example"};
    auto d = run(m);
    ASSERT_TRUE(d.ticket);
    EXPECT_EQ(d.ticket->number, 1042);
    EXPECT_EQ(d.signal, Signal::in_reply_to);
    EXPECT_NE(d.evidence.find("In-Reply-To"), std::string::npos);
}

TEST_F(Threading, ReferencesAreTriedNewestFirst) {
    auto m = mail("dave@x.example", "Re: something");
    m.references = {"ann-first@customer.example", "carol-first@other.example", "unknown@x"};
    auto d = run(m);
    ASSERT_TRUE(d.ticket);
    EXPECT_EQ(d.ticket->number, 1043);
    EXPECT_EQ(d.signal, Signal::references);
}

TEST_F(Threading, ReplyAllFromACcdPersonJoinsTheTicket) {
    // Lesson: reply-all and CCs create extra tickets (osTicket#1426, freescout#2086).
    auto m = mail("erin@customer.example", "Re: Printer");
    m.cc = {{"", "ann@customer.example"}, {"", "help@acme.example"}};
    m.references = {"ann-first@customer.example"};
    auto d = run(m);
    ASSERT_TRUE(d.ticket);
    EXPECT_EQ(d.ticket->number, 1042);
}

TEST_F(Threading, SameMailToTwoOfOurAddressesJoinsTheFirstTicket) {
    // Lesson: one mail to two of our addresses makes two tickets (freescout#2807, zammad#1578).
    auto m = mail("ann@customer.example", "Printer");
    m.message_id = "ann-first@customer.example";
    m.to = {{"", "help@acme.example"}};
    auto d = run(m);
    ASSERT_TRUE(d.ticket);
    EXPECT_EQ(d.ticket->number, 1042);
    EXPECT_EQ(d.signal, Signal::message_id);
}

TEST_F(Threading, SubjectTagWithValidToken) {
    auto d = run(mail("stranger@x.example", "Re: [ACME #1042 7f3a9c0b1d] Printer"));
    ASSERT_TRUE(d.ticket);
    EXPECT_EQ(d.ticket->number, 1042);
    EXPECT_EQ(d.signal, Signal::subject_tag);
}

TEST_F(Threading, GuessedNumberWithoutTokenFromAStrangerIsRefused) {
    auto d = run(mail("mallory@evil.example", "Re: [ACME #1042] give me the invoice"));
    EXPECT_FALSE(d.ticket);
    EXPECT_EQ(d.signal, Signal::none);
    ASSERT_FALSE(d.refused.empty());
    EXPECT_NE(d.refused.back().find("not a participant"), std::string::npos) << d.refused.back();
}

TEST_F(Threading, WrongTokenFromAStrangerIsRefused) {
    auto d = run(mail("mallory@evil.example", "Re: [ACME #1042 0000000000] hi"));
    EXPECT_FALSE(d.ticket);
    EXPECT_FALSE(d.refused.empty());
}

// Guessed tokens (issue 8): what the pipeline counts per sender. Only a token that was given
// and is wrong for an existing ticket counts; a tag without one (a number typed from a phone
// call) and a tag for a ticket that does not exist do not.
TEST_F(Threading, WrongTokensAreCountedWhenNothingMatched) {
    EXPECT_EQ(run(mail("mallory@evil.example", "Re: [ACME #1042 0000000000] hi")).wrong_tokens, 1);
    EXPECT_EQ(run(mail("mallory@evil.example", "Re: [ACME #1042] hi")).wrong_tokens, 0);
    EXPECT_EQ(run(mail("mallory@evil.example", "Re: [ACME #99999 0000000000] hi")).wrong_tokens, 0);
    EXPECT_EQ(run(mail("mallory@evil.example", "Re: [ACME #1042 7f3a9c0b1d] hi")).wrong_tokens, 0);

    auto plus = mail("mallory@evil.example", "hello");
    plus.to = {{"", "support+1043.1111111111@acme.example"}};
    EXPECT_EQ(run(plus).wrong_tokens, 1);

    auto ref = mail("mallory@evil.example", "Re: [ACME #1043 2222222222] hi");
    ref.in_reply_to = {make_message_id(1042, "3333333333", 3, "tickets.acme.example")};
    auto d = run(ref);
    EXPECT_FALSE(d.ticket);
    EXPECT_EQ(d.wrong_tokens, 2);  // the Message-ID of ours and the tag, each wrong
}

TEST_F(Threading, TagWithoutTokenFromAParticipantThreads) {
    auto d = run(mail("bob@customer.example", "Re: [ACME #1042] still broken"));
    ASSERT_TRUE(d.ticket);
    EXPECT_EQ(d.ticket->number, 1042);
    EXPECT_EQ(d.signal, Signal::tag_participant);
}

TEST_F(Threading, ParticipantOfAnotherTicketCannotUseATokenlessTag) {
    auto d = run(mail("carol@other.example", "[ACME #1042] hello"));
    EXPECT_FALSE(d.ticket);
}

TEST_F(Threading, TagForAMissingTicketStartsANewOne) {
    auto d = run(mail("ann@customer.example", "[ACME #99999 7f3a9c0b1d] hi"));
    EXPECT_FALSE(d.ticket);
    ASSERT_FALSE(d.refused.empty());
    EXPECT_NE(d.refused.front().find("no such ticket"), std::string::npos);
}

TEST_F(Threading, TokenInAReferencedMessageIdOfOursNeverStored) {
    // The tag lost its token (some clients rewrite subjects) but the reply references one of
    // our Message-IDs, which carries number and token.
    auto m = mail("stranger@x.example", "Re: [ACME #1042] Printer");
    m.in_reply_to = {make_message_id(1042, "7f3a9c0b1d", 3, "tickets.acme.example")};
    auto d = run(m);
    ASSERT_TRUE(d.ticket);
    EXPECT_EQ(d.ticket->number, 1042);
    EXPECT_EQ(d.signal, Signal::subject_tag);
}

TEST_F(Threading, OurMessageIdWithTokenThreadsWithoutATag) {
    auto m = mail("stranger@x.example", "Re: your message");
    m.references = {"foo@bar", make_message_id(1043, "0123456789", 1, "TICKETS.acme.example")};
    auto d = run(m);
    ASSERT_TRUE(d.ticket);
    EXPECT_EQ(d.ticket->number, 1043);
    EXPECT_EQ(d.signal, Signal::our_message_id);
}

TEST_F(Threading, OurMessageIdFormatWithAWrongTokenOrForeignHostIsRefused) {
    auto m = mail("mallory@evil.example", "Re: hi");
    m.references = {make_message_id(1043, "9999999999", 1, "tickets.acme.example"),
                    make_message_id(1043, "0123456789", 1, "evil.example")};
    auto d = run(m);
    EXPECT_FALSE(d.ticket);
    ASSERT_EQ(d.refused.size(), 1u);
    EXPECT_NE(d.refused[0].find("wrong token"), std::string::npos);
}

TEST_F(Threading, PlusAddressWithToken) {
    auto m = mail("stranger@x.example", "no tag here");
    m.to = {{"", "support+1043.0123456789@acme.example"}};
    auto d = run(m);
    ASSERT_TRUE(d.ticket);
    EXPECT_EQ(d.ticket->number, 1043);
    EXPECT_EQ(d.signal, Signal::plus_address);
}

TEST_F(Threading, PlusAddressInDeliveredTo) {
    auto m = mail("stranger@x.example", "bcc'd us");
    m.to = {{"", "someone@else.example"}};
    m.headers = {{"Delivered-To", "<help+1042.7f3a9c0b1d@acme.example>"}};
    auto d = run(m);
    ASSERT_TRUE(d.ticket);
    EXPECT_EQ(d.ticket->number, 1042);
    EXPECT_EQ(d.signal, Signal::plus_address);
}

TEST_F(Threading, PlusAddressWithoutTokenOnlyForParticipants) {
    auto m = mail("mallory@evil.example", "hi");
    m.to = {{"", "support+1042@acme.example"}};
    EXPECT_FALSE(run(m).ticket);
    m.from = {{"", "ann@customer.example"}};
    auto d = run(m);
    ASSERT_TRUE(d.ticket);
    EXPECT_EQ(d.signal, Signal::plus_participant);
}

TEST_F(Threading, PlusAddressOfSomeoneElsesDomainIsIgnored) {
    auto m = mail("ann@customer.example", "hi");
    m.to = {{"", "support+1042.7f3a9c0b1d@other.example"}};
    EXPECT_FALSE(run(m).ticket);
}

TEST_F(Threading, StrongSignalBeatsAWeakOne) {
    // Tokenless tag of 1042 from a participant, but a valid plus address for 1043.
    auto m = mail("ann@customer.example", "[ACME #1042] hi");
    m.cc = {{"", "support+1043.0123456789@acme.example"}};
    auto d = run(m);
    ASSERT_TRUE(d.ticket);
    EXPECT_EQ(d.ticket->number, 1043);
}

TEST_F(Threading, BounceFindsTheTicketOfTheMessageItReportsOn) {
    auto m = mail("MAILER-DAEMON@mx.customer.example", "Undelivered Mail Returned to Sender");
    m.classification = parsers::Classification::bounce;
    m.bounce = parsers::BounceInfo{};
    m.bounce->original_message_id = "ack-1042@tickets.acme.example";
    auto d = run(m);
    ASSERT_TRUE(d.ticket);
    EXPECT_EQ(d.ticket->number, 1042);
    EXPECT_EQ(d.signal, Signal::bounce_report);
}

TEST_F(Threading, BounceAboutOurMessageIdNeverStoredChecksTheToken) {
    auto m = mail("MAILER-DAEMON@mx.example", "failure notice");
    m.classification = parsers::Classification::bounce;
    m.bounce = parsers::BounceInfo{};
    m.bounce->original_message_id = make_message_id(1043, "0123456789", 7, "tickets.acme.example");
    auto d = run(m);
    ASSERT_TRUE(d.ticket);
    EXPECT_EQ(d.ticket->number, 1043);
    m.bounce->original_message_id = make_message_id(1043, "aaaaaaaaaa", 7, "tickets.acme.example");
    EXPECT_FALSE(run(m).ticket);
}

TEST_F(Threading, OutOfOfficeThreadsLikeAnyReply) {
    auto m = mail("ann@customer.example", "Automatic reply: [ACME #1042 7f3a9c0b1d] Printer");
    m.classification = parsers::Classification::auto_reply;
    auto d = run(m);
    ASSERT_TRUE(d.ticket);
    EXPECT_EQ(d.ticket->number, 1042);
}

TEST_F(Threading, NothingMatchesMeansNewTicket) {
    auto d = run(mail("new@customer.example", "Hello"));
    EXPECT_FALSE(d.ticket);
    EXPECT_EQ(d.signal, Signal::none);
    EXPECT_TRUE(d.refused.empty());
}

TEST(ReplyAction, OpenAndPendingAppend) {
    TicketRef t;
    t.status = store::Status::open;
    EXPECT_EQ(reply_action(t, 1000, std::chrono::seconds(10)), ReplyAction::append);
    t.status = store::Status::pending;
    EXPECT_EQ(reply_action(t, 1000, std::chrono::seconds(10)), ReplyAction::append);
}

TEST(ReplyAction, ClosedReopensWithinTheWindowElseLinksANewTicket) {
    TicketRef t;
    t.status = store::Status::closed;
    t.closed_at = 1000;
    t.updated_at = 1000;
    const std::chrono::seconds window = std::chrono::hours(24 * 14);
    EXPECT_EQ(reply_action(t, 1000 + 3600, window), ReplyAction::reopen);
    EXPECT_EQ(reply_action(t, 1000 + window.count(), window), ReplyAction::reopen);
    EXPECT_EQ(reply_action(t, 1000 + window.count() + 1, window), ReplyAction::new_linked);
    t.status = store::Status::resolved;
    EXPECT_EQ(reply_action(t, 1000 + 60, window), ReplyAction::reopen);
}

TEST(OurHost, FromHostnameOrFirstAddress) {
    config::DeskConfig d;
    d.addresses = {"support@Acme.Example"};
    EXPECT_EQ(our_host(d), "acme.example");
    d.hostname = "tickets.acme.example";
    EXPECT_EQ(our_host(d), "tickets.acme.example");
    EXPECT_TRUE(is_our_address(d, "SUPPORT@acme.example"));
    EXPECT_FALSE(is_our_address(d, "support@other.example"));
}

}  // namespace
}  // namespace ticketd::tickets
