// extract_body over hand-built Messages: which leaf is shown, which are attachments.
#include <gtest/gtest.h>

#include <string>

#include "parsers/body.h"
#include "parsers/mime.h"

using namespace ticketd::parsers;

namespace {

Leaf text_leaf(std::string type, std::string text, int depth = 1) {
    Leaf l;
    l.content_type = std::move(type);
    l.charset = "utf-8";
    l.data = text;
    l.set_text(std::move(text));
    l.depth = depth;
    return l;
}

Leaf file_leaf(std::string type, std::string filename, std::string disposition, std::string cid = "",
               int depth = 1) {
    Leaf l;
    l.content_type = std::move(type);
    l.filename = std::move(filename);
    l.disposition = std::move(disposition);
    l.content_id = std::move(cid);
    l.data = std::string(123, 'x');
    l.depth = depth;
    return l;
}

}  // namespace

TEST(ExtractBody, AlternativePrefersPlain) {
    Message m;
    m.leaves = {text_leaf("text/plain", "Hello in plain"), text_leaf("text/html", "<p>Hello in <b>HTML</b></p>")};
    extract_body(m);
    EXPECT_EQ(m.body, "Hello in plain");
    EXPECT_EQ(m.body_html, "<p>Hello in <b>HTML</b></p>");
    EXPECT_TRUE(m.attachments.empty());
    EXPECT_EQ(m.new_text, "Hello in plain");
}

TEST(ExtractBody, EmptyPlainAlternativeFallsBackToHtml) {
    Message m;
    m.leaves = {text_leaf("text/plain", " \n"), text_leaf("text/html", "<p>Only here</p>")};
    extract_body(m);
    EXPECT_EQ(m.body, "Only here");
}

TEST(ExtractBody, HtmlOnly) {
    Message m;
    m.leaves = {text_leaf("text/html", "<html><head><style>x{}</style></head><body><p>Hi</p>"
                                       "<blockquote>old</blockquote></body></html>", 0)};
    extract_body(m);
    EXPECT_EQ(m.body, "Hi\n\n> old");
    EXPECT_EQ(m.new_text, "Hi");
    EXPECT_EQ(m.quoted_text, "> old");
}

TEST(ExtractBody, RelatedInsideAlternativeWithInlineImage) {
    // multipart/alternative { text/plain, multipart/related { text/html, image/png (cid) } }
    Message m;
    m.leaves = {text_leaf("text/plain", "See the logo", 1),
                text_leaf("text/html", "<p>See the <img src=\"cid:logo@x\"></p>", 2),
                file_leaf("image/png", "logo.png", "inline", "logo@x", 2)};
    extract_body(m);
    EXPECT_EQ(m.body, "See the logo");
    ASSERT_EQ(m.attachments.size(), 1u);
    EXPECT_TRUE(m.attachments[0].inline_image);
    EXPECT_EQ(m.attachments[0].filename, "logo.png");
    EXPECT_EQ(m.attachments[0].content_id, "logo@x");
    EXPECT_EQ(m.attachments[0].leaf_index, 2u);
    EXPECT_EQ(m.attachments[0].size, 123u);
    EXPECT_EQ(m.attachments[0].sha256, sha256_hex(std::string(123, 'x')));
    EXPECT_EQ(m.leaves[2].sha256, m.attachments[0].sha256);
}

TEST(ExtractBody, CidReferenceWithoutDispositionIsInline) {
    Message m;
    m.leaves = {text_leaf("text/html", "<img src=\"cid:img1\">", 2), file_leaf("image/jpeg", "", "", "img1", 2)};
    extract_body(m);
    ASSERT_EQ(m.attachments.size(), 1u);
    EXPECT_TRUE(m.attachments[0].inline_image);
}

TEST(ExtractBody, AttachmentsVersusInlineImages) {
    Message m;
    m.leaves = {text_leaf("text/plain", "Invoice attached"),
                file_leaf("application/pdf", "Rechnung März.pdf", "attachment"),
                file_leaf("image/png", "screenshot.png", "inline"),
                file_leaf("image/gif", "unreferenced.gif", "", "nobody")};
    extract_body(m);
    ASSERT_EQ(m.attachments.size(), 3u);
    EXPECT_EQ(m.attachments[0].filename, "Rechnung März.pdf");
    EXPECT_FALSE(m.attachments[0].inline_image);
    EXPECT_TRUE(m.attachments[1].inline_image);
    EXPECT_FALSE(m.attachments[2].inline_image);
}

TEST(ExtractBody, TextFileAttachmentIsNotBody) {
    Message m;
    m.leaves = {text_leaf("text/plain", "See log"), text_leaf("text/plain", "ERROR 42")};
    m.leaves[1].disposition = "attachment";
    m.leaves[1].filename = "app.log";
    extract_body(m);
    EXPECT_EQ(m.body, "See log");
    ASSERT_EQ(m.attachments.size(), 1u);
    EXPECT_EQ(m.attachments[0].filename, "app.log");
}

TEST(ExtractBody, SeveralInlinePlainPartsAreJoined) {
    // Apple Mail: text, image, text in multipart/mixed.
    Message m;
    m.leaves = {text_leaf("text/plain", "Before image\n"), file_leaf("image/jpeg", "a.jpg", "inline"),
                text_leaf("text/plain", "After image")};
    extract_body(m);
    EXPECT_EQ(m.body, "Before image\n\nAfter image");
    ASSERT_EQ(m.attachments.size(), 1u);
}

TEST(ExtractBody, ForwardedMessageTextIsNotTheBody) {
    Message m;
    m.leaves = {text_leaf("text/plain", "Please look at the forwarded mail."),
                text_leaf("text/plain", "Inner text of the forward", 2),
                file_leaf("application/pdf", "inner.pdf", "attachment", "", 3)};
    m.leaves[1].in_rfc822 = true;
    m.leaves[2].in_rfc822 = true;
    Forwarded f;
    f.subject = "Original";
    m.forwarded.push_back(f);
    extract_body(m);
    EXPECT_EQ(m.body, "Please look at the forwarded mail.");
    ASSERT_EQ(m.attachments.size(), 1u);
    EXPECT_EQ(m.attachments[0].filename, "inner.pdf");
}

TEST(ExtractBody, FormatFlowedTopLevel) {
    Message m;
    m.headers = {{"Content-Type", "text/plain; charset=utf-8; format=flowed; delsp=no"}};
    m.leaves = {text_leaf("text/plain", "A long line that \nwas wrapped.\n\n> quoted \n> text\n", 0)};
    extract_body(m);
    EXPECT_EQ(m.body, "A long line that was wrapped.\n\n> quoted text");
    EXPECT_EQ(m.new_text, "A long line that was wrapped.");
}

TEST(ExtractBody, SignatureAndQuoteSplit) {
    Message m;
    m.leaves = {text_leaf("text/plain", "Works.\n\nSent from my iPhone\n\nOn Mon, 1 Jan 2024, ACME wrote:\n> ok?\n", 0)};
    extract_body(m);
    EXPECT_EQ(m.new_text, "Works.");
    EXPECT_EQ(m.signature, "Sent from my iPhone");
    EXPECT_EQ(m.quoted_text, "On Mon, 1 Jan 2024, ACME wrote:\n> ok?");
}

TEST(ExtractBody, NoLeaves) {
    Message m;
    extract_body(m);
    EXPECT_EQ(m.body, "");
    EXPECT_EQ(m.new_text, "");
}

TEST(ExtractBody, GmailHtmlOnlyReply) {
    Message m;
    m.leaves = {text_leaf("text/html",
                          "<div dir=\"ltr\">Yes, that fixed it.<div><br></div><div>Thanks, Ann</div></div><br>"
                          "<div class=\"gmail_quote\"><div dir=\"ltr\" class=\"gmail_attr\">On Mon, Jan 1, 2024 at 9:00 AM "
                          "ACME Support &lt;<a href=\"mailto:support@acme.example\">support@acme.example</a>&gt; wrote:<br></div>"
                          "<blockquote class=\"gmail_quote\" style=\"margin:0px 0px 0px 0.8ex\">Please try again.<br>"
                          "<br>ACME</blockquote></div>",
                          0)};
    extract_body(m);
    EXPECT_EQ(m.new_text, "Yes, that fixed it.\n\nThanks, Ann");
    EXPECT_EQ(m.quoted_text,
              "On Mon, Jan 1, 2024 at 9:00 AM ACME Support <support@acme.example> wrote:\n\n> Please try again.\n\n> ACME");
}

TEST(ExtractBody, OutlookWebHtmlReply) {
    Message m;
    m.leaves = {text_leaf("text/html",
                          "<html><body><div>Bitte stornieren.</div><hr style=\"display:inline-block;width:98%\">"
                          "<div id=\"divRplyFwdMsg\"><b>Von:</b> ACME Support &lt;support@acme.example&gt;<br>"
                          "<b>Gesendet:</b> Montag, 1. Januar 2024 09:00<br><b>An:</b> Max Muster<br>"
                          "<b>Betreff:</b> Ihre Bestellung</div><div>Ihre Bestellung ist unterwegs.</div></body></html>",
                          0)};
    extract_body(m);
    EXPECT_EQ(m.new_text, "Bitte stornieren.");
    EXPECT_EQ(m.quoted_text.rfind("---\nVon: ACME Support", 0), 0u) << m.quoted_text;
}

TEST(ExtractBody, PlainPlaceholderDefersToHtml) {
    Message m;
    m.leaves = {text_leaf("text/plain", "This is an HTML message. Please use an HTML capable mail program to read it."),
                text_leaf("text/html", "<p>The real content</p>")};
    extract_body(m);
    EXPECT_EQ(m.body, "The real content");
}
