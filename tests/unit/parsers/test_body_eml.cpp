// extract_body, split_reply and classify through parsers::parse over messages in tests/data.
#include <gtest/gtest.h>

#include <string>

#include "parsers/classify.h"
#include "parsers/parse.h"
#include "tests/support/paths.h"

using namespace ticketd::parsers;
using ticketd::testing::data_dir;
using ticketd::testing::read_file;

namespace {

Message load(const std::string& rel) {
    ParseResult r = parse(read_file(data_dir() / rel));
    if (auto* e = std::get_if<ParseError>(&r)) {
        ADD_FAILURE() << rel << ": " << e->code << " " << e->message;
        return {};
    }
    return std::get<Message>(std::move(r));
}

}  // namespace

TEST(BodyEml, AlternativeWithRelatedAndAttachment) {
    Message m = load("body/alternative-related.eml");
    EXPECT_EQ(m.new_text, "The error is still there, see the photo.\n\nAnn");
    EXPECT_EQ(m.quoted_text, "On Mon, Jan 1, 2024 at 9:00 AM ACME Support <support@acme.example> wrote:\n"
                             "> Please restart the printer and tell us what the display shows.");
    EXPECT_NE(m.body_html.find("cid:photo1@mail.example.com"), std::string::npos);
    ASSERT_EQ(m.attachments.size(), 2u);
    EXPECT_EQ(m.attachments[0].filename, "photo.png");
    EXPECT_TRUE(m.attachments[0].inline_image);
    EXPECT_EQ(m.attachments[0].content_type, "image/png");
    EXPECT_EQ(m.attachments[0].size, 70u);
    EXPECT_EQ(m.attachments[1].filename, "Prüfbericht.pdf");
    EXPECT_FALSE(m.attachments[1].inline_image);
    EXPECT_EQ(m.attachments[1].sha256.size(), 64u);
    EXPECT_EQ(m.classification, Classification::requester);
}

TEST(BodyEml, HtmlOnlyOutlookGerman) {
    Message m = load("body/html-only-outlook.eml");
    EXPECT_EQ(m.new_text,
              "Hallo,\n\ndie Lieferung ist immer noch nicht da. Bitte prüfen Sie:\n\n- Bestellnummer 4711\n"
              "- Lieferadresse München\n\nGrüße\nMax Muster");
    EXPECT_EQ(m.quoted_text.rfind("Von: ACME Support", 0), 0u) << m.quoted_text;
    EXPECT_NE(m.quoted_text.find("Wir haben Ihre Anfrage erhalten."), std::string::npos);
    EXPECT_TRUE(m.attachments.empty());
}

TEST(BodyEml, FormatFlowedSwedishWithMobileSignature) {
    Message m = load("body/flowed.eml");
    EXPECT_EQ(m.new_text, "Hej, fakturan har fel belopp, det borde vara 1 200 kr och inte 12 000 kr som det står nu.");
    EXPECT_EQ(m.signature, "");
    EXPECT_NE(m.quoted_text.find("> Vi har skickat fakturan, hör av dig om något är fel med den eller om du har andra frågor."),
              std::string::npos)
        << m.quoted_text;
}

TEST(BodyEml, ForwardedMessageKeptNotShownAsBody) {
    Message m = load("body/forward-rfc822.eml");
    EXPECT_EQ(m.body, "The confirmation below has the wrong address. Can you fix it?");
    ASSERT_EQ(m.forwarded.size(), 1u);
    EXPECT_EQ(m.forwarded[0].message_id, "order-555@shop.acme.example");
    ASSERT_EQ(m.attachments.size(), 1u);
    EXPECT_EQ(m.attachments[0].filename, "order-555.pdf");
}

TEST(ClassifyEml, PostfixDsn) {
    Message m = load("classify/postfix-dsn.eml");
    ASSERT_EQ(m.classification, Classification::bounce) << m.classification_reason;
    ASSERT_TRUE(m.bounce);
    EXPECT_EQ(m.bounce->original_message_id, "1042.7f3a9c.r5@support.acme.example");
    EXPECT_EQ(m.bounce->failed_recipients, std::vector<std::string>{"old.customer@example.net"});
    EXPECT_EQ(m.bounce->status, "5.1.1");
    EXPECT_EQ(m.bounce->diagnostic.rfind("550 5.1.1 <old.customer@example.net>: Recipient address rejected", 0), 0u);
    EXPECT_TRUE(m.bounce->permanent);
}

TEST(ClassifyEml, EximWithXFailedRecipients) {
    Message m = load("classify/exim-failed.eml");
    ASSERT_EQ(m.classification, Classification::bounce);
    ASSERT_TRUE(m.bounce);
    EXPECT_EQ(m.bounce->original_message_id, "2002.b81d44.r2@support.acme.example");
    EXPECT_EQ(m.bounce->failed_recipients, std::vector<std::string>{"gone@example.org"});
    EXPECT_EQ(m.bounce->status, "5.1.1");
    EXPECT_TRUE(m.bounce->permanent);
}

TEST(ClassifyEml, DelayNoticeIsNotPermanent) {
    Message m = load("classify/delayed-qmail-like.eml");
    ASSERT_EQ(m.classification, Classification::bounce);
    ASSERT_TRUE(m.bounce);
    EXPECT_FALSE(m.bounce->permanent);
    EXPECT_EQ(m.bounce->status, "4.7.1");
    EXPECT_EQ(m.bounce->failed_recipients, std::vector<std::string>{"slow@example.com"});
    EXPECT_EQ(m.bounce->original_message_id, "3003.99aa01.r1@support.acme.example");
}

TEST(ClassifyEml, AutoReplies) {
    Message oof = load("classify/exchange-oof.eml");
    EXPECT_EQ(oof.classification, Classification::auto_reply);
    EXPECT_EQ(oof.classification_reason, "Auto-Submitted: auto-generated");
    Message de = load("classify/german-oof-subject-only.eml");
    EXPECT_EQ(de.classification, Classification::auto_reply);
}

TEST(ClassifyEml, HumanSaysAutoSubmittedNo) {
    Message m = load("classify/human-auto-submitted-no.eml");
    EXPECT_EQ(m.classification, Classification::requester);
    EXPECT_TRUE(auto_reply_suppressed(m));
}

TEST(ClassifyEml, Newsletter) {
    Message m = load("classify/newsletter-list.eml");
    EXPECT_EQ(m.classification, Classification::list);
}

// A TNEF blob sent as text/plain (base64): not text, so not the body; the HTML alternative is
// shown instead, and the blob is listed as an attachment with a generated name (nothing lost).
TEST(BodyEml, BinaryBlobInATextPartIsAnAttachmentNotTheBody) {
    Message m = load("body/binary-text-part.eml");
    EXPECT_EQ(m.body, "Hello, the printer is broken again.");
    EXPECT_EQ(m.new_text, "Hello, the printer is broken again.");
    ASSERT_EQ(m.leaves.size(), 2u);
    EXPECT_TRUE(m.leaves[0].binary);
    EXPECT_FALSE(m.leaves[0].is_text);
    EXPECT_EQ(m.leaves[0].text(), "");
    EXPECT_FALSE(m.leaves[1].binary);
    ASSERT_EQ(m.attachments.size(), 1u);
    EXPECT_EQ(m.attachments[0].filename, "part-1.bin");
    EXPECT_EQ(m.attachments[0].content_type, "text/plain");
    EXPECT_EQ(m.attachments[0].size, 3042u);
    EXPECT_EQ(m.attachments[0].sha256, "ca7a71338d2fb174ee7d8a17eed2fb641df4c982159e228671d916693ae5d773");
    EXPECT_EQ(m.attachments[0].leaf_index, 0u);
    for (const auto& w : m.warnings) EXPECT_EQ(w.what.find("converted with replacements"), std::string::npos) << w.what;
}

// The whole message a binary blob (a TNEF file piped as mail): no body, one file "body.bin".
TEST(BodyEml, SinglePartBinaryBodyFallsBackToNoBody) {
    std::string raw = "From: a@example.com\r\nSubject: x\r\nContent-Type: text/plain\r\n\r\n";
    raw += std::string("\x78\x9f\x3e\x22\xaf\x01\x01\x06\x90\x08\x00\x04\x00\x00\x00\x00", 16);
    for (int i = 0; i < 64; ++i) raw += std::string("\x01\x00\x02\x00winmail", 11);
    ParseResult r = parse(raw);
    ASSERT_TRUE(std::holds_alternative<Message>(r));
    const Message& m = std::get<Message>(r);
    EXPECT_EQ(m.body, "");
    EXPECT_EQ(m.new_text, "");
    ASSERT_EQ(m.attachments.size(), 1u);
    EXPECT_EQ(m.attachments[0].filename, "body.bin");
    EXPECT_EQ(m.attachments[0].size, raw.size() - raw.find("\r\n\r\n") - 4);
    EXPECT_EQ(m.classification, Classification::requester);
}
