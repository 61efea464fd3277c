// The streaming HTML-to-text path against the gumbo reference: wherever the stream gives text,
// it must be gumbo's text, byte for byte. Seeded generated documents (the tags html.cpp cares
// about, nested at random, closed or not, hidden, with entities, comments, stray '<', tables,
// lists, pre) and every HTML part of the shared corpus, whole and cut short.
#include <gtest/gtest.h>

#include <cctype>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <variant>
#include <vector>

#include "parsers/html.h"
#include "parsers/html_text.h"
#include "parsers/parse.h"
#include "tests/support/paths.h"

namespace fs = std::filesystem;
namespace tp = ticketd::parsers;
using tp::HtmlLimits;
using tp::html_detail::gumbo_to_text;
using tp::html_detail::stream_to_text;

namespace {

// Random HTML built from the pieces mail is made of, and the mistakes mail makes.
class HtmlGenerator {
public:
    /// `hostile`: also what the stream leaves to gumbo (rare elements, control characters,
    /// invalid UTF-8, documents cut anywhere); else mail-like markup, mistakes included.
    HtmlGenerator(std::uint32_t seed, bool hostile) : rng_(seed), hostile_(hostile) {}

    std::string document() {
        std::string d;
        if (chance(40)) d += pick({"<!DOCTYPE html>", "<!doctype html>\n", "<!DOCTYPE html >", "<!DOCTYPE html5>", "<!doctype html PUBLIC \"-//W3C//DTD XHTML 1.0 Transitional//EN\">",
                                   "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"x.dtd\">\n"});
        if (chance(40)) d += pick({"<html>", "<html lang=\"en\">\n", "<HTML>", "<html hidden>"});
        if (chance(40)) {
            d += pick({"<head>", "<HEAD>\n", ""});
            for (int i = below(4); i > 0; --i)
                d += pick({"<title>T &amp; <b>x</b></title>", "<style>p{color:red} a<b{}</style>", "<meta charset=utf-8>",
                           "\n  ", "<link rel=x href=y>", "<script>if(a<b)x();</script>", "<base href=\"/\">",
                           "<!-- c -->", "text in head", "<div>early</div>"});
            d += pick({"</head>", "</head>\n", "", "</head> <style>x</style>"});
        }
        if (chance(50)) d += pick({"<body>", "<body style=\"margin:0\">\n", "<BODY bgcolor=white>", "<body hidden>"});
        const int parts = 1 + below(25);
        for (int i = 0; i < parts; ++i) piece(d, 0);
        if (chance(30)) d += pick({"</body>", "</body></html>", "</body>\n</html>\n", "</html>", "</body>tail", "</html> x"});
        if (hostile_ && chance(10)) d.erase(below(static_cast<int>(d.size()) + 1));  // cut anywhere
        return d;
    }

private:
    void piece(std::string& d, int depth) {
        switch (below(depth > 6 ? 6 : 11)) {
            case 0: case 1: case 2: d += text(); break;
            case 3: d += close_tag(); break;
            case 4: d += pick({"<br>", "<br/>", "<hr>", "<img src=x alt=\"Logo &amp; co\">", "<img alt=' pic '>",
                               "<img src=y>", "<wbr>", "<input type=text value=v>", "<meta x=y>", "</br>",
                               "<!-- comment -->", "<!---->", "<!-->", "<!x>", "<?php ?>", "</ x>", "</>",
                               "<![if !mso]>", "<![endif]>", "< 3", "a<b", "<", "&", "<3"});
                break;
            case 5: d += pick({"\n", " ", "\r\n", "\r", "\t", "&nbsp;", "  \n  "}); break;
            default: element(d, depth); break;
        }
    }

    void element(std::string& d, int depth) {
        static const std::vector<std::string> tags = {
            "div", "p", "span", "a", "b", "i", "u", "em", "strong", "font", "small", "center", "blockquote",
            "pre", "ul", "ol", "li", "dl", "dt", "dd", "table", "tbody", "thead", "tr", "td", "th", "h1",
            "h2", "h3", "script", "style", "title", "form", "button", "textarea", "nobr", "o:p", "x-y",
            "section", "header", "code", "tt", "s", "strike", "sub", "sup", "label", "iframe", "main",
            "article", "address", "big", "map", "area"};
        // Elements the stream leaves to gumbo, now and then.
        static const std::vector<std::string> rare = {"select", "option", "noscript", "caption", "colgroup",
                                                       "col", "template", "svg", "xmp", "math", "object", "frameset"};
        std::string tag = hostile_ && chance(3) ? rare[below(static_cast<int>(rare.size()))] : tags[below(static_cast<int>(tags.size()))];
        if (chance(8)) tag[0] = static_cast<char>(tag[0] - 32);
        d += '<' + tag + attributes(tag) + (chance(5) ? "/>" : ">");
        if (tag == "table" && chance(70)) {
            table_body(d, depth);
        } else if (tag == "ul" || tag == "ol") {
            for (int i = below(4); i > 0; --i) {
                d += chance(80) ? "<li>" : "<li style=\"display:none\">";
                d += text();
                if (chance(30)) piece(d, depth + 1);
                if (chance(60)) d += "</li>";
            }
        } else if (tag == "pre" || tag == "textarea") {
            d += pick({"\n", "", "\r\n", "\n\n", "&#10;"});
            d += text() + "\n  indented  line\n";
        } else {
            for (int i = below(5); i > 0; --i) piece(d, depth + 1);
        }
        const bool raw = tag == "script" || tag == "style" || tag == "title" || tag == "textarea" || tag == "iframe";
        if (chance(80) || (raw && !hostile_)) {
            std::string close = tag;
            if (chance(10) && !(raw && !hostile_)) close = tags[below(static_cast<int>(tags.size()))];
            d += "</" + close + (chance(5) ? " x=\">\"" : "") + ">";
        }
    }

    void table_body(std::string& d, int depth) {
        if (chance(20)) d += pick({"<col width=10>", "<colgroup><col><col></colgroup>", "<colgroup span=2>\n", "<col/>\n", "</colgroup>", "</col>"});
        if (chance(50)) d += pick({"<tbody>", "\n<tbody>\n", "<thead>"});
        for (int r = 1 + below(3); r > 0; --r) {
            if (chance(85)) d += pick({"<tr>", "\n <tr>", "<tr style=\"display:none\">", "<tr >"});
            for (int c = below(4); c > 0; --c) {
                d += pick({"<td>", "<th>", "\n  <td>", "<td hidden>", "<td width=10>"});
                if (chance(80)) d += text();
                if (chance(40)) piece(d, depth + 1);
                if (chance(70)) d += pick({"</td>", "</th>", "</td>\n"});
            }
            if (chance(15)) d += pick({"stray", "<div>x</div>", "<b>", "&nbsp;", "</span>", "</p>", " ", "<center>\n  ",
                                       "<div> </div>", "<span>", "<p>", "<center></center>", "<o:p> ", "<div hidden>",
                                       "<blockquote>", "<ul>\n", "<span><b>"});
            if (chance(70)) d += pick({"</tr>", "</tr>\n"});
        }
        if (chance(40)) d += pick({"</tbody>", "</thead>"});
    }

    std::string attributes(const std::string& tag) {
        std::string a;
        const int n = below(3);
        for (int i = 0; i < n; ++i) {
            switch (below(12)) {
                case 0: a += " style=\"display:none\""; break;
                case 1: a += " style='color:red; DISPLAY : none !important'"; break;
                case 2: a += " hidden"; break;
                case 3: a += " style=\"display:block\""; break;
                case 4: a += " class=x"; break;
                case 5: a += " id='a b'"; break;
                case 6: a += " style=display&#58;none"; break;
                case 7: a += " data-x=\"1\"/"; break;
                default:
                    if (tag == "a" || tag == "A") {
                        a += pick({" href=\"https://example.com/a?x=1&amp;y=2\"", " href=https://example.com/",
                                   " href=\"mailto:ann@example.com\"", " href='#top'", " href=\"javascript:x()\"",
                                   " HREF=\" http://example.com/?a&copy=1&copy;\"", " href=\"http://x.example/&#x41;&#65\""});
                    } else if (tag == "img") {
                        a += " alt=\"A &lt; B\"";
                    } else {
                        a += " title=\"t\"";
                    }
            }
        }
        return a;
    }

    std::string close_tag() {
        return pick({"</div>", "</p>", "</span>", "</a>", "</b>", "</i>", "</td>", "</tr>", "</table>", "</li>",
                     "</ul>", "</blockquote>", "</pre>", "</font>", "</form>", "</h1>", "</h2>", "</o:p>", "</x-y>",
                     "</x-z>", "</body>", "</html>", "</head>", "</nobr>", "</dd>", "</img>", "</br>",
                     hostile_ ? "</select>" : "</em>"});
    }

    std::string text() {
        std::string t;
        for (int i = 1 + below(4); i > 0; --i) {
            t += pick({"Hello", "world", "fish", "chips", "www.example.com", "https://example.com", "ann@example.com",
                       "&amp;", "&lt;", "&gt;", "&quot;", "&nbsp;", "&eacute;", "&eacute", "&notit;", "&ampx", "&copy",
                       "&#8364;", "&#x20AC;", "&#169", "&#x41", "&#9;", "&bogus;",
                       "&CounterClockwiseContourIntegral;", "&", "& ", "&#", "&#x;", "\xC3\xA9t\xC3\xA9", "\xC2\xA0",
                       "\xE2\x82\xAC", "\xF0\x9F\x98\x80", "-", ">", "\"quoted\"", "line\nbreak", "  spaced  ",
                       "tab\there", "a\r\nb"});
            // What the stream leaves to gumbo (replaced or reported characters), now and then.
            if (hostile_ && chance(2)) t += pick({"\xFF", "\x01", "\xEF\xB7\x90", "&#0;", "&#128;", "&#x110000;", "&#55296;", "\xC3"});
            t += pick({" ", "", "\n", " "});
        }
        return t;
    }

    std::string pick(std::initializer_list<const char*> options) {
        return *(options.begin() + below(static_cast<int>(options.size())));
    }
    int below(int n) { return n <= 0 ? 0 : std::uniform_int_distribution<int>(0, n - 1)(rng_); }
    bool chance(int percent) { return below(100) < percent; }

    std::mt19937 rng_;
    bool hostile_;
};

struct Tally {
    std::size_t documents = 0, streamed = 0, differ = 0;
};

void compare(const std::string& html, const HtmlLimits& limits, Tally& tally, const std::string& label) {
    ++tally.documents;
    const std::optional<std::string> fast = stream_to_text(html, limits);
    if (!fast) return;
    ++tally.streamed;
    const std::string reference = gumbo_to_text(html, limits);
    if (*fast != reference) {
        ++tally.differ;
        if (tally.differ <= 5)
            ADD_FAILURE() << label << ": the stream differs from gumbo\n--- html ---\n" << html << "\n--- gumbo ---\n"
                          << reference << "\n--- stream ---\n" << *fast;
    }
}

}  // namespace

TEST(HtmlStream, GeneratedDocumentsMatchGumbo) {
    Tally tally;
    for (std::uint32_t seed = 1; seed <= 20000; ++seed) {
        HtmlGenerator g(seed, seed % 4 == 0);
        compare(g.document(), HtmlLimits{}, tally, "seed " + std::to_string(seed));
    }
    EXPECT_EQ(tally.differ, 0u);
    // The comparison means something only if the stream takes a good share of the documents.
    EXPECT_GT(tally.streamed, tally.documents / 4) << tally.streamed << " of " << tally.documents;
    std::printf("generated: %zu documents, %zu streamed, %zu differ\n", tally.documents, tally.streamed, tally.differ);
}

TEST(HtmlStream, GeneratedDocumentsMatchGumboUnderTightLimits) {
    Tally tally;
    for (std::uint32_t seed = 1; seed <= 1500; ++seed) {
        HtmlGenerator g(seed * 7919u, seed % 2 == 0);
        HtmlLimits limits;
        limits.max_depth = 1 + seed % 8;
        limits.max_nesting = 1 + seed % 6;
        limits.max_input_bytes = 16 + seed % 400;
        compare(g.document(), limits, tally, "tight seed " + std::to_string(seed));
    }
    EXPECT_EQ(tally.differ, 0u);
    EXPECT_GT(tally.streamed, 0u);
}

TEST(HtmlStream, HandWrittenCasesMatchGumbo) {
    Tally tally;
    for (const char* html : {
             "<p>Hello <b>world</b></p>", "<pre>\nfirst</pre>", "<pre><!--c-->\nx</pre>", "<pre>&#10;x</pre>",
             "<p><b>bold</p>after", "<p><a href=x>link</p>after", "<div><span>a</div>b</span>",
             "<b><div>x</b>y</div>", "<table><tr><td>a<td>b<tr><td>c</table>", "<table> <tr> <td>x</td> </tr> </table>",
             "<table>x<tr><td>y</table>", "<p><table><tr><td>q</table>", "<ul><li>a<li>b<ol><li>c<li>d</ol></ul>",
             "<dl><dt>t<dd>d<dt>t2</dl>", "<h1>a<h2>b</h1>c", "<a href=a>x<a href=b>y</a>", "<x-a>1<x-b>2</x-a>3</x-b>4",
             "<o:p>x</o:p><v:shape>y</o:p>z", "</p>", "<body><body hidden>x", "text<html hidden>",
             "<form><div><form>x</form></div>", "<b><b><b><b>deep</b></b></b></b>x",
             "<font><font><font><font>x</font>y", "<a href=\"http://a.example/?a=1&amp;b=2\">go</a>",
             "<a href=\"http://a/?x&copy=1\">c</a>", "&notin; &notit; &amp &AMP; &ampx", "x\r\ny\rz<pre>a\r\nb\rc</pre>",
             "<script><!--\nx</script>y", "<style>a</style>b", "<title>t", "<p>a</P ><P>b", "<br/><br></br>",
             "<table><caption>c</caption></table>", "<select><option>x</select>y", "<svg><p>x</p></svg>",
             "<div style=\"display:none\"><p>x</div><p>y", "<td>x</td>y", "<tr><td>x</tr>", "<li>a</li></ul>b",
             // the adoption agency moving a formatting element out of a block
             "<font>a<li>b</font>c", "<b>x<p>y</b>z</p>", "<table><tr><td><font>t<li>u<nobr>v</nobr>\n</font></td></tr></table>",
             "<ol><li>1<b><li>2</b>3</ol>", "<b><i>x<div>y</i>z</b>w", "<a href=u>x<div>y</a>z", "<b>x<span><div>y</b>z",
             "<b style=\"display:none\">x<p>y</b>z", "<b><form>x</b>y</form>z", "<i>a<blockquote>b<i>c</i>d</i>e</blockquote>",
             // foster parenting of an element with nothing to show
             "a<table><tr><td>x</td></tr>\n<center>\n<tr><td>y</td></tr></table>z", "a<table><div> </div><tr><td>x</table>",
             "<table><center><tr><td>x</td></tr></center></table>y", "<b>a<table><span> <tr><td>x</table>", "<table><p> <tr><td>x</table>",
             "a<table hidden><tr><td>x</td></tr><center> <tr><td>y</table>z", "a<table><tr hidden><td>x</td></tr><center> <tr><td>y</table>z",
             // a table in an open <p>: closes it or not by the quirks mode
             "<p>a<table><tr><td>b</table>c</p>d", "<!DOCTYPE html><p>a<table><tr><td>b</table>c</p>d",
             "<!doctype HTML ><p>a<table><tr><td>b</table>c</p>d", "<!DOCTYPE htm><p>a<table><tr><td>b</table>c</p>d",
             "<!DOCTYPE html SYSTEM \"about:legacy-compat\"><p>a<table><tr><td>b</table>c</p>d",
             "<!--x--><!DOCTYPE html><p>a<table><tr><td>b</table>c", "x<!DOCTYPE html><p>a<table><tr><td>b</table>c",
             // columns
             "<table><col width=1><col><tr><td>a</td></tr></table>", "<table><colgroup> <col> </colgroup><tbody><tr><td>a</table>",
             "<table><colgroup><tr><td>a</table>", "<table><colgroup>x<tr><td>a</table>", "<table><tr><td>a<col>b</table>",
             "<col>a<colgroup>b", "<table><tr><col><td>a</table>",
             // <main>: closes a <p>, its end tag pops to it, yet it is no boundary for other end tags
             // a second <html>/<body>: its attributes merge into the open one
             "<body>a<body bgcolor=red>b", "<body>a<body hidden>b", "<html><body>a</body></html><html lang=en>b",
             "a<html style=\"display:none\">b", "<head><html class=x><title>t</title></head>x", "<body style=\"color:red\">a<body style=\"display:none\">b",
             "<p>a<main>b</main>c", "<span>a<main>b</span>c</main>d", "<b>x<main>y</b>z", "<main><div>x</main>y</div>z",
             // "</>" makes no token: the line feed after <pre> is still dropped
             "<pre></>\nx</pre>", "<ul><li><pre></>\nx</pre></ul>", "<li><pre></>\n", "<pre></></>\nx", "<pre></><b>\nx</b>"}) {
        compare(html, HtmlLimits{}, tally, html);
    }
    EXPECT_EQ(tally.differ, 0u);
}

// The canaries html_to_text checks once per process must each take the fast path (else they
// check nothing) and agree with this gumbo; and they do, so the stream is in use.
TEST(HtmlStream, CanaryDocumentsStreamAndAgreeWithGumbo) {
    for (const auto doc : ticketd::parsers::html_detail::canary_documents()) {
        const auto fast = stream_to_text(doc, HtmlLimits{});
        EXPECT_TRUE(fast.has_value()) << doc;
        if (fast) {
            EXPECT_EQ(*fast, gumbo_to_text(doc, HtmlLimits{})) << doc;
        }
    }
    EXPECT_TRUE(ticketd::parsers::html_detail::stream_agrees_with_gumbo());
}

// Every named character reference of the WHATWG table, with and without its ';', followed by a
// letter, a digit, '=' and the end, in text and in an attribute: gumbo's table and ours agree.
TEST(HtmlStream, EveryNamedReferenceMatchesGumbo) {
    struct Entity {
        std::string_view name, value;
    };
    static constexpr Entity kEntities[] = {
#include "parsers/html_entities.inc"
    };
    Tally tally;
    for (const Entity& e : kEntities) {
        std::string n(e.name);
        if (n.back() == ';') n.pop_back();
        const std::string html = "<p>a&" + n + ";b &" + n + "x &" + n + "1 &" + n + "= &" + n + "</p><a href=\"?q=&" + n +
                                 ";&" + n + "=1&" + n + "x&" + n + "\">&" + n + ";</a><img alt=\"&" + n + "\">&" + n;
        compare(html, HtmlLimits{}, tally, html);
    }
    EXPECT_EQ(tally.differ, 0u);
    EXPECT_EQ(tally.streamed, tally.documents);
}

// Numeric references over the code points gumbo treats specially and a spread of the others, in
// decimal and hex, with and without ';', in text and in an attribute.
TEST(HtmlStream, NumericReferencesMatchGumbo) {
    std::vector<std::uint32_t> points;
    for (std::uint32_t cp = 0; cp < 0x300; ++cp) points.push_back(cp);
    for (std::uint32_t cp : {0xD7FFu, 0xD800u, 0xDFFFu, 0xE000u, 0xFDCFu, 0xFDD0u, 0xFDEFu, 0xFDF0u, 0xFEFFu, 0xFFFDu,
                             0xFFFEu, 0xFFFFu, 0x1FFFEu, 0x1F600u, 0x10FFFDu, 0x10FFFFu, 0x110000u, 0xFFFFFFu, 99999999u})
        points.push_back(cp);
    for (std::uint32_t cp = 0x300; cp < 0x110000; cp += 4099) points.push_back(cp);
    Tally tally;
    for (std::uint32_t cp : points) {
        char hex[16];
        std::snprintf(hex, sizeof hex, "%X", cp);
        const std::string d = std::to_string(cp);
        const std::string html = "<p>&#" + d + ";|&#x" + hex + "|&#" + d + "</p><a href=\"&#x" + hex + ";&#" + d + "\">l</a>";
        compare(html, HtmlLimits{}, tally, html);
    }
    EXPECT_EQ(tally.differ, 0u);
    EXPECT_GT(tally.streamed, tally.documents / 2);
}

// Large inputs of one repeated piece (many comments, unclosed elements, references, attributes):
// the stream's searches stay within the piece at hand (a quadratic scan would not finish), and
// what it gives is gumbo's text.
TEST(HtmlStream, LargeRepetitiveInputsFinishAndMatchGumbo) {
    // The flat units must stream all the way (so their searches are exercised to the end); the
    // nesting ones give up early (depth 64, three equal formatting elements) and are gumbo's.
    struct Unit {
        const char* text;
        bool streams;
    };
    for (const Unit unit : {Unit{"<!-- c -->x", true}, Unit{"<p>x", true}, Unit{"<a href=u>x</a>", true},
                            Unit{"&amp;&#169;&notit;", true}, Unit{"</div></b>", true},
                            Unit{"<span style=\"a:b\" hidden>", false}, Unit{"<table><tr><td>", false},
                            Unit{"<b><i><u>x", false}}) {
        std::string html;
        while (html.size() < (1u << 20)) html += unit.text;
        const auto fast = stream_to_text(html, HtmlLimits{});
        EXPECT_EQ(fast.has_value(), unit.streams) << unit.text;
        if (fast) {
            EXPECT_EQ(*fast, gumbo_to_text(html, HtmlLimits{})) << unit.text;
        }
    }
}

// Every text/html part of the shared corpus, whole and cut at a few places.
TEST(HtmlStream, CorpusHtmlMatchesGumbo) {
    const auto corpus = ticketd::testing::corpus_dir();
    if (corpus.empty()) GTEST_SKIP() << "no ../shared corpus";
    Tally whole, cut;
    for (const auto& path : ticketd::testing::corpus_message_files()) {
        const tp::ParseResult r = tp::parse(ticketd::testing::read_file(path));
        const auto* m = std::get_if<tp::Message>(&r);
        if (!m) continue;
        for (const tp::Leaf& l : m->leaves) {
            if (l.content_type != "text/html") continue;
            const std::string html(l.text());
            compare(html, HtmlLimits{}, whole, path.string());
            for (std::size_t at : {html.size() / 3, html.size() / 2, html.size() - html.size() / 5})
                compare(html.substr(0, at), HtmlLimits{}, cut, path.string() + " cut");
        }
    }
    EXPECT_EQ(whole.differ, 0u);
    EXPECT_EQ(cut.differ, 0u);
    EXPECT_GT(whole.documents, 0u);
    std::printf("corpus: %zu HTML parts, %zu streamed; cut short: %zu, %zu streamed\n", whole.documents,
                whole.streamed, cut.documents, cut.streamed);
}

// ---- The deep-tag pre-pass (html.cpp drop_deep_tags) keeps tag names as views compared
// ignoring case and finds flat elements by length; here is the pass as it was (a lower-cased
// string per tag), the oracle for both of its uses: would_drop_deep_tags and the flattened
// document gumbo_to_text parses.
namespace {
namespace deep_reference {

std::string lower(std::string_view s) {
    std::string r(s);
    for (char& c : r) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return r;
}
bool ieq_prefix(std::string_view s, std::size_t at, std::string_view p) {
    if (at + p.size() > s.size()) return false;
    for (std::size_t i = 0; i < p.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(s[at + i])) != p[i]) return false;
    return true;
}
bool flat_element(std::string_view n) {
    static constexpr std::string_view names[] = {
        "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
        "track", "wbr", "p", "li", "td", "th", "tr", "option", "optgroup", "dt", "dd", "thead",
        "tbody", "tfoot", "colgroup", "rb", "rt", "rp"};
    for (std::string_view v : names)
        if (n == v) return true;
    return false;
}
std::string drop_deep_tags(std::string_view html, std::size_t limit, bool only_whether = false) {
    std::vector<std::string> open;
    std::string out;
    bool dropped = false;
    std::size_t copied = 0;
    std::size_t i = 0;
    while ((i = html.find('<', i)) != std::string_view::npos) {
        if (html.compare(i, 4, "<!--") == 0) {
            std::size_t e = html.find("-->", i + 4);
            i = e == std::string_view::npos ? html.size() : e + 3;
            continue;
        }
        std::size_t gt = html.find('>', i + 1);
        if (gt == std::string_view::npos) break;
        bool close = i + 1 < html.size() && html[i + 1] == '/';
        std::size_t b = i + (close ? 2 : 1);
        std::size_t e = b;
        while (e < gt && std::isalnum(static_cast<unsigned char>(html[e]))) ++e;
        if (e == b) {
            i = gt + 1;
            continue;
        }
        std::string name = lower(html.substr(b, e - b));
        if (close) {
            for (std::size_t k = open.size(); k-- > 0;)
                if (open[k] == name) {
                    open.resize(k);
                    break;
                }
            i = gt + 1;
            continue;
        }
        if (name == "script" || name == "style" || name == "textarea" || name == "title" || name == "xmp") {
            std::size_t j = gt + 1;
            while ((j = html.find("</", j)) != std::string_view::npos && !ieq_prefix(html, j + 2, name)) j += 2;
            i = j == std::string_view::npos ? html.size() : j;
            continue;
        }
        bool self_closing = html[gt - 1] == '/';
        if (flat_element(name) || self_closing) {
            i = gt + 1;
            continue;
        }
        if (open.size() >= limit) {
            if (only_whether) return "dropped";
            if (!dropped) out.reserve(html.size());
            dropped = true;
            out.append(html.substr(copied, i - copied));
            copied = gt + 1;
        } else {
            open.push_back(std::move(name));
        }
        i = gt + 1;
    }
    if (!dropped) return {};
    out.append(html.substr(copied));
    return out;
}

// Tags of every length around the flat names', in any case, opened and closed at random.
std::string deep_document(std::mt19937& rng) {
    static const std::vector<std::string> names = {
        "p", "P", "b", "Br", "hR", "li", "LI", "td", "TH", "tr", "dt", "dd", "rb", "rt", "rp", "rq", "ul",
        "col", "COL", "img", "wbr", "div", "Div", "area", "base", "link", "meta", "span", "font", "FONT",
        "embed", "input", "param", "track", "thead", "tbody", "tfoot", "table", "tablE", "source", "option",
        "center", "optgroup", "colgroup", "OptGroup", "colgroupx", "blockquote", "h1", "o", "x1"};
    static const std::vector<std::string> raw = {"script", "STYLE", "title", "textarea", "xmp"};
    std::uniform_int_distribution<int> percent(0, 99);
    std::string d;
    const int n = std::uniform_int_distribution<int>(0, 40)(rng);
    for (int k = 0; k < n; ++k) {
        const int r = percent(rng);
        const std::string& name = names[std::uniform_int_distribution<std::size_t>(0, names.size() - 1)(rng)];
        if (r < 45) d += "<" + name + (percent(rng) < 10 ? " /" : "") + ">t";
        else if (r < 75) d += "</" + name + ">";
        else if (r < 80) d += "<!-- <div> -->";
        else if (r < 85) {
            const std::string& rn = raw[std::uniform_int_distribution<std::size_t>(0, raw.size() - 1)(rng)];
            d += "<" + rn + "><div></" + (percent(rng) < 50 ? deep_reference::lower(rn) : rn) + ">";
        } else if (r < 90) d += "< 3 <!x>";
        else d += "text ";
    }
    return d;
}

}  // namespace deep_reference
}  // namespace

TEST(HtmlStream, DeepTagPassEqualsItsEarlierVersionOnGeneratedDocuments) {
    std::mt19937 rng(20261206);
    std::size_t dropped = 0;
    for (int round = 0; round < 4000; ++round) {
        const std::string doc = deep_reference::deep_document(rng);
        const std::size_t limit = 1 + static_cast<std::size_t>(round % 8);
        const bool want = !deep_reference::drop_deep_tags(doc, limit, true).empty();
        ASSERT_EQ(tp::html_detail::would_drop_deep_tags(doc, limit), want) << doc << " limit " << limit;
        dropped += want;
        if (round % 4 != 0) continue;  // gumbo is the slow part: a quarter of the documents
        // gumbo_to_text parses the flattened document: the same text as parsing the reference's
        // flattening with nothing left to drop.
        HtmlLimits tight, loose;
        tight.max_nesting = limit;
        loose.max_nesting = 1u << 20;
        const std::string flat = deep_reference::drop_deep_tags(doc, limit);
        ASSERT_EQ(gumbo_to_text(doc, tight), gumbo_to_text(flat.empty() ? doc : flat, loose)) << doc << " limit " << limit;
    }
    EXPECT_GT(dropped, 400u);
    EXPECT_LT(dropped, 3600u);
}

// ---- Writer::text copies runs of plain bytes in one append (html_text.h); here is the Writer as
// it was (a put() per byte), driven with the same random events (text with blanks, U+00A0,
// lone 0xC2, line ends, in and out of <pre>; breaks, markers, cells, quotes, anchors): the text
// and every anchor position must be the same.
namespace {
namespace writer_reference {
// Accumulates text with whitespace collapsed; line breaks, list markers, quote prefixes and
// cell separators are held pending and only written when real text follows, so empty
// elements leave no trace.
class Writer {
public:
    void text(std::string_view t, bool pre) {
        for (std::size_t i = 0; i < t.size(); ++i) {
            unsigned char c = static_cast<unsigned char>(t[i]);
            bool nbsp = c == 0xC2 && i + 1 < t.size() && static_cast<unsigned char>(t[i + 1]) == 0xA0;
            if (pre) {
                if (c == '\r') continue;
                if (c == '\n') {
                    flush();
                    out_ += '\n';
                    line_start_ = true;
                    continue;
                }
                if (nbsp) { ++i; put(' '); continue; }
                put(static_cast<char>(c));
                continue;
            }
            if (nbsp || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f') {
                if (nbsp) ++i;
                if (!line_start_) space_ = true;
                continue;
            }
            put(static_cast<char>(c));
        }
    }
    void block(int n) {
        if (out_.empty()) return;
        newlines_ = std::max(newlines_, n);
        space_ = false;
        cell_sep_ = false;
    }
    void br() {
        if (out_.empty() && newlines_ == 0) return;
        newlines_ = std::min(newlines_ + 1, 2);
        space_ = false;
    }
    void marker(std::string m) { marker_ = std::move(m); }
    void cell() { cell_sep_ = newlines_ == 0 && !line_start_; }
    // A link remembers where its text starts; separators written just before that text are
    // not part of it.
    void push_anchor() { anchors_.push_back(out_.size()); }
    std::size_t pop_anchor() {
        std::size_t a = anchors_.empty() ? out_.size() : anchors_.back();
        if (!anchors_.empty()) anchors_.pop_back();
        return a;
    }
    void quote(int delta) { quote_ += delta; }
    std::size_t size() const { return out_.size(); }
    std::string_view since(std::size_t pos) const {
        return pos < out_.size() ? std::string_view(out_).substr(pos) : std::string_view();
    }
    std::string take() { return std::move(out_); }

private:
    void flush() {
        std::size_t before = out_.size();
        separate();
        for (std::size_t& a : anchors_)
            if (a == before) a = out_.size();
    }
    void separate() {
        if (newlines_ > 0) {
            if (!out_.empty()) out_.append(static_cast<std::size_t>(newlines_), '\n');
            newlines_ = 0;
            line_start_ = true;
            space_ = false;
            cell_sep_ = false;
        }
        if (line_start_) {
            for (int q = 0; q < quote_; ++q) out_ += "> ";
            out_ += marker_;
            marker_.clear();
            line_start_ = false;
            space_ = false;
            cell_sep_ = false;
            return;
        }
        if (cell_sep_) {
            out_ += " | ";
            cell_sep_ = false;
            space_ = false;
        } else if (space_) {
            out_ += ' ';
            space_ = false;
        }
    }
    void put(char c) {
        flush();
        out_ += c;
    }

    std::string out_;
    int newlines_ = 0;
    bool space_ = false;
    bool line_start_ = true;
    bool cell_sep_ = false;
    int quote_ = 0;
    std::string marker_;
    std::vector<std::size_t> anchors_;
};

}  // namespace writer_reference
}  // namespace

TEST(HtmlStream, WriterRunsEqualBytewiseWriterOnGeneratedEvents) {
    std::mt19937 rng(1206);
    static const std::vector<std::string> pieces = {"a", "Hello", " ", "  ", "\t", "\n", "\r\n", "\f", "\xC2\xA0", "\xC2",
                                                    "\xC2x", "\xC3\xA9", "x y", " z ", "\xC2\xA0\xC2\xA0w", "**", "> q"};
    std::size_t nonempty = 0;
    for (int round = 0; round < 3000; ++round) {
        tp::html_internal::Writer fast;
        writer_reference::Writer slow;
        std::vector<std::pair<std::size_t, std::size_t>> anchors;
        const int events = std::uniform_int_distribution<int>(0, 30)(rng);
        for (int k = 0; k < events; ++k) {
            switch (rng() % 9) {
                case 0: case 1: case 2: case 3: {
                    std::string t;
                    for (int p = static_cast<int>(rng() % 6); p >= 0; --p) t += pieces[rng() % pieces.size()];
                    const bool pre = rng() % 4 == 0;
                    fast.text(t, pre);
                    slow.text(t, pre);
                    break;
                }
                case 4: { const int n = 1 + static_cast<int>(rng() % 2); fast.block(n); slow.block(n); break; }
                case 5: fast.br(); slow.br(); break;
                case 6: { const std::string m = rng() % 2 ? "- " : "1. "; fast.marker(m); slow.marker(m); fast.cell(); slow.cell(); break; }
                case 7: { const int d = rng() % 3 == 0 && k > 0 ? -1 : 1; fast.quote(d); slow.quote(d); break; }
                default:
                    if (rng() % 2) { fast.push_anchor(); slow.push_anchor(); }
                    else anchors.emplace_back(fast.pop_anchor(), slow.pop_anchor());
            }
            ASSERT_EQ(fast.size(), slow.size()) << "round " << round << " event " << k;
        }
        for (const auto& [a, b] : anchors) ASSERT_EQ(a, b) << "round " << round;
        const std::string got = fast.take(), want = slow.take();
        ASSERT_EQ(got, want) << "round " << round;
        nonempty += !want.empty();
    }
    EXPECT_GT(nonempty, 1500u);
}

// has_display_none (html.cpp, behind skipped_element) finds its candidate starts 16 bytes at a
// time; the byte loop it was is the oracle, on styles made of the pattern's bytes, blanks and
// case, at every length around 16.
TEST(HtmlStream, DisplayNoneEqualsBytewiseScanOnGeneratedStyles) {
    const auto reference = [](std::string_view style) {
        static constexpr std::string_view want = "display:none";
        auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; };
        auto fold = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
        for (std::size_t i = 0; i < style.size(); ++i) {
            if (fold(style[i]) != want[0]) continue;
            std::size_t j = i, k = 0;
            while (k < want.size() && j < style.size()) {
                const char c = style[j++];
                if (space(c)) continue;
                if (fold(c) != want[k]) break;
                ++k;
            }
            if (k == want.size()) return true;
        }
        return false;
    };
    std::mt19937 rng(2206);
    static const std::vector<std::string> pieces = {"display:none", "DISPLAY : NONE", "d", "D", "dis", "play", ":", "none",
                                                    " ", "\t", "color:red;", "padding:0;", "display:block", "x", "\xC4"};
    std::size_t hidden = 0;
    for (int round = 0; round < 20000; ++round) {
        std::string style;
        for (int p = static_cast<int>(rng() % 8); p >= 0; --p) style += pieces[rng() % pieces.size()];
        if (rng() % 3 == 0) style.erase(rng() % (style.size() + 1));  // cut anywhere
        const std::unique_ptr<char[]> buf(new char[style.size() + 1]);  // exactly sized for ASan
        std::copy(style.begin(), style.end(), buf.get());
        const std::string_view v(buf.get(), style.size());
        const bool want = reference(v);
        ASSERT_EQ(tp::html_internal::skipped_element(GUMBO_TAG_DIV, false, v), want) << "'" << style << "'";
        hidden += want;
    }
    EXPECT_GT(hidden, 2000u);
    EXPECT_LT(hidden, 18000u);
}

// The input check counts the '<' (16 bytes at a time) to know when gumbo_to_text's deep-tag
// pass may drop tags: documents with one nested opening tag more than the limit, shifted by
// every padding so that the '<' fall at every place of a 16-byte block; gumbo drops the deepest
// <div>, so a miscount (the stream not giving up) shows as a different text.
TEST(HtmlStream, DeepDocumentsAtEveryBlockOffsetMatchGumbo) {
    std::size_t given_up = 0;
    for (std::size_t limit = 1; limit <= 8; ++limit)
        for (std::size_t pad = 0; pad < 40; ++pad) {
            std::string doc(pad, 'x');
            for (std::size_t k = 0; k <= limit; ++k) doc += "<div>" + std::string(1, static_cast<char>('a' + k));
            doc += pad % 3 == 0 ? "\n" : "";
            HtmlLimits limits;
            limits.max_nesting = limit;
            const auto fast = stream_to_text(doc, limits);
            if (!fast) {
                ++given_up;
                continue;
            }
            EXPECT_EQ(*fast, gumbo_to_text(doc, limits)) << "limit " << limit << " pad " << pad;
        }
    EXPECT_GT(given_up, 0u);
}
