// html_to_text: what an agent reads when a requester sends HTML only.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "parsers/body.h"
#include "parsers/html.h"

using ticketd::parsers::html_to_text;

TEST(HtmlToText, DropsScriptsStylesCommentsAndHead) {
    std::string t = html_to_text(
        "<html><head><title>Invoice</title><style>p{color:red}</style>"
        "<script>alert('x')</script></head><body><!-- tracking -->"
        "<p>Hello <b>world</b></p><script>var a = 1;</script><noscript>enable js</noscript>"
        "<div style=\"display: none\">preheader</div></body></html>");
    EXPECT_EQ(t, "Hello world");
}

TEST(HtmlToText, DecodesEntities) {
    EXPECT_EQ(html_to_text("<p>Fish &amp; chips &lt;3 &eacute;t&eacute; &#8364;5&nbsp;each &quot;ok&quot;</p>"),
              "Fish & chips <3 été €5 each \"ok\"");
}

TEST(HtmlToText, CollapsesWhitespaceAndKeepsBlocks) {
    EXPECT_EQ(html_to_text("<div>one\n   two</div><div>three</div><p>four</p><p>five<br>six</p>"),
              "one two\nthree\n\nfour\n\nfive\nsix");
}

TEST(HtmlToText, Lists) {
    EXPECT_EQ(html_to_text("<p>Steps:</p><ul><li>Open</li><li>Close <ul><li>inner</li></ul></li></ul>"
                           "<ol><li>first</li><li>second</li></ol>"),
              "Steps:\n\n- Open\n- Close\n  - inner\n1. first\n2. second");
}

TEST(HtmlToText, LinksShowUrlWhenDifferent) {
    EXPECT_EQ(html_to_text("<a href=\"https://example.com/reset?t=1\">Reset password</a>"),
              "Reset password (https://example.com/reset?t=1)");
    EXPECT_EQ(html_to_text("<a href=\"https://example.com/\">https://example.com</a>"), "https://example.com");
    EXPECT_EQ(html_to_text("<a href=\"mailto:ann@example.com\">ann@example.com</a>"), "ann@example.com");
    EXPECT_EQ(html_to_text("<a href=\"#top\">Top</a> <a href=\"javascript:void(0)\">x</a>"), "Top x");
    EXPECT_EQ(html_to_text("<ul><li><a href=\"http://a.example/\">a.example</a></li></ul>"), "- a.example");
}

TEST(HtmlToText, TablesReadableAndNested) {
    std::string t = html_to_text(
        "<table><tr><th>Item</th><th>Qty</th></tr><tr><td>Widget</td><td>3</td></tr>"
        "<tr><td><table><tr><td>inner a</td><td>inner b</td></tr></table></td><td>x</td></tr></table>");
    EXPECT_EQ(t, "Item | Qty\nWidget | 3\ninner a | inner b\nx");
}

TEST(HtmlToText, LayoutTablesWithEmptyCellsLeaveNoSeparators) {
    EXPECT_EQ(html_to_text("<table><tr><td></td><td>Only text</td><td>&nbsp;</td></tr></table>"), "Only text");
}

TEST(HtmlToText, BlockquoteBecomesQuotedLines) {
    EXPECT_EQ(html_to_text("<div>Thanks!</div><blockquote><div>old line 1</div><div>old line 2</div></blockquote>"),
              "Thanks!\n\n> old line 1\n> old line 2");
}

TEST(HtmlToText, PreKeepsWhitespace) {
    EXPECT_EQ(html_to_text("<pre>a  b\n  c</pre>"), "a  b\n  c");
}

TEST(HtmlToText, ImagesGiveAltText) {
    EXPECT_EQ(html_to_text("<p><img src=\"cid:logo\" alt=\"ACME\"> <img src=\"x.gif\" alt=\"\">Hi</p>"), "[image: ACME] Hi");
}

TEST(HtmlToText, BrokenMarkupStillReadable) {
    EXPECT_EQ(html_to_text("<p>unclosed <b>bold <i>both</p><p>next"), "unclosed bold both\n\nnext");
    EXPECT_EQ(html_to_text(""), "");
    EXPECT_EQ(html_to_text("plain text, no tags"), "plain text, no tags");
}

TEST(HtmlToText, DeepNestingIsBoundedAndFast) {
    for (const char* unit : {"<div>", "<div></span>", "<b>", "<table><tr><td>", "<span><font>", "<blockquote>"}) {
        std::string html;
        for (int i = 0; i < 50000; ++i) html += unit;
        html += "deep";
        auto start = std::chrono::steady_clock::now();
        std::string t = html_to_text(html);
        auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
        EXPECT_NE(t.find("deep"), std::string::npos) << unit;
        EXPECT_LT(ms.count(), 20000) << unit;  // quadratic took 74 s; sanitizer builds are slow
    }
}

TEST(HtmlToText, ManyNestedBlockquotesDoNotExplodeOutput) {
    std::string html;
    for (int i = 0; i < 5000; ++i) html += "<blockquote>";
    html += "x";
    std::string t = html_to_text(html);
    // Past the depth bound quotes stop adding prefixes: output stays proportional to input.
    EXPECT_LT(t.size(), 1000u);
    EXPECT_NE(t.find('x'), std::string::npos);
}

// display:none is matched in the style as written, white space and case aside, without a folded
// copy: every spelling a mail client writes hides the element, and near misses do not.
TEST(HtmlToText, HiddenByInlineStyleInAnySpelling) {
    for (const char* style : {"display:none", "DISPLAY : NONE", "color:red; Display:\tnone !important", "display:no ne",
                              "d i s p l a y : n o n e", "ddisplay:none", "mso-hide:all;display:none"}) {
        const std::string html = std::string("<p>shown</p><div style=\"") + style + "\">hidden</div>";
        EXPECT_EQ(html_to_text(html), "shown") << style;
    }
    for (const char* style : {"display:block", "display-none", "display:non", "isplay:none"}) {
        const std::string html = std::string("<p>shown</p><div style=\"") + style + "\">kept</div>";
        EXPECT_EQ(html_to_text(html), "shown\n\nkept") << style;
    }
}
