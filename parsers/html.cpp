#include "parsers/html.h"

#include <gumbo.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <algorithm>
#include <cctype>
#include <initializer_list>
#include <memory>
#include <vector>

#include "parsers/body.h"
#include "parsers/html_text.h"
#include "parsers/textutil.h"

namespace ticketd::parsers {
namespace {

// GumboOutput owns the whole tree; free it with the options it was made with.
struct GumboOutputDeleter {
    void operator()(GumboOutput* o) const { gumbo_destroy_output(&kGumboDefaultOptions, o); }
};
using GumboOutputPtr = std::unique_ptr<GumboOutput, GumboOutputDeleter>;

// ASCII only (text::lower_char), as std::tolower in the C locale ticketd runs in, without a libc
// call per byte (the deep-tag pre-pass lower-cases every tag name of a document).
using text::lower_char;

std::string lower(std::string_view s) {
    std::string r(s);
    for (char& c : r) c = lower_char(c);
    return r;
}

std::string_view attr(const GumboElement& e, const char* name) {
    const GumboAttribute* a = gumbo_get_attribute(&e.attributes, name);
    return a ? std::string_view(a->value) : std::string_view();
}

// Whether the style, its white space removed and ASCII lower-cased, holds "display:none": matched
// in place (HTML mail carries long inline styles on most elements; a folded copy of each, with
// a libc call per byte, was a visible share of html_to_text).
bool has_display_none(std::string_view style) {
    static constexpr std::string_view want = "display:none";
    auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; };
    auto fold = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
    // Whether "display:none" (blanks allowed anywhere in it, any case) starts at i.
    auto at = [&](std::size_t i) {
        std::size_t j = i, k = 0;
        while (k < want.size() && j < style.size()) {
            const char c = style[j++];
            if (space(c)) continue;
            if (fold(c) != want[k]) break;
            ++k;
        }
        return k == want.size();
    };
    std::size_t i = 0;
#if defined(__SSE2__)
    // The starts ('d' or 'D': byte | 0x20 == 'd' holds for those two only) 16 bytes at a time:
    // inline styles are long and this ran a compare per byte of every one.
    const __m128i d = _mm_set1_epi8('d'), case_bit = _mm_set1_epi8(0x20);
    for (; i + 16 <= style.size(); i += 16) {
        const __m128i v = _mm_or_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(style.data() + i)), case_bit);
        for (auto m = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, d))); m != 0; m &= m - 1)
            if (at(i + static_cast<std::size_t>(__builtin_ctz(m)))) return true;
    }
#endif
    for (; i < style.size(); ++i)
        if (fold(style[i]) == want[0] && at(i)) return true;
    return false;
}

// Newlines an element asks for around itself: 2 = paragraph (blank line), 1 = own line.
int block_weight(GumboTag t) {
    switch (t) {
        case GUMBO_TAG_P: case GUMBO_TAG_H1: case GUMBO_TAG_H2: case GUMBO_TAG_H3: case GUMBO_TAG_H4:
        case GUMBO_TAG_H5: case GUMBO_TAG_H6: case GUMBO_TAG_PRE: case GUMBO_TAG_BLOCKQUOTE:
            return 2;
        case GUMBO_TAG_DIV: case GUMBO_TAG_TR: case GUMBO_TAG_LI: case GUMBO_TAG_UL: case GUMBO_TAG_OL:
        case GUMBO_TAG_DL: case GUMBO_TAG_DT: case GUMBO_TAG_DD: case GUMBO_TAG_TABLE:
        case GUMBO_TAG_FORM: case GUMBO_TAG_HEADER: case GUMBO_TAG_FOOTER: case GUMBO_TAG_SECTION:
        case GUMBO_TAG_ARTICLE: case GUMBO_TAG_ASIDE: case GUMBO_TAG_NAV: case GUMBO_TAG_MAIN:
        case GUMBO_TAG_ADDRESS: case GUMBO_TAG_FIGURE: case GUMBO_TAG_FIGCAPTION: case GUMBO_TAG_CENTER:
        case GUMBO_TAG_FIELDSET: case GUMBO_TAG_CAPTION: case GUMBO_TAG_DETAILS: case GUMBO_TAG_SUMMARY:
        case GUMBO_TAG_HR: case GUMBO_TAG_BODY: case GUMBO_TAG_THEAD: case GUMBO_TAG_TBODY:
        case GUMBO_TAG_TFOOT:
            return 1;
        default:
            return 0;
    }
}

std::string trim(std::string_view s) {
    std::size_t b = 0, e = s.size();
    while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
    while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
    return std::string(s.substr(b, e - b));
}

// A URL worth printing after the link text: not a fragment, script, inline part or data blob,
// and not merely the text again (with or without scheme, "mailto:" or trailing slash).
bool link_worth_showing(std::string_view href, std::string_view text) {
    std::string h = lower(trim(href));
    if (h.empty() || h[0] == '#') return false;
    for (const char* s : {"javascript:", "cid:", "data:", "about:"})
        if (h.rfind(s, 0) == 0) return false;
    auto norm = [](std::string v) {
        for (const char* s : {"mailto:", "tel:", "https://", "http://"})
            if (v.rfind(s, 0) == 0) { v.erase(0, std::string_view(s).size()); break; }
        if (v.rfind("www.", 0) == 0) v.erase(0, 4);
        while (!v.empty() && v.back() == '/') v.pop_back();
        return v;
    };
    std::string t = lower(trim(text));
    return norm(h) != norm(t);
}

std::string tidy(std::string s) {
    // Trailing blanks per line, at most one blank line in a row, no blank lines at the ends.
    std::string out;
    out.reserve(s.size());
    std::size_t blank_run = 0;
    std::size_t pos = 0;
    while (pos <= s.size()) {
        std::size_t nl = s.find('\n', pos);
        if (nl == std::string::npos) nl = s.size();
        std::string_view line(s.data() + pos, nl - pos);
        while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
        bool blank = line.empty() || line == ">" ;
        if (line.find_first_not_of("> ") == std::string_view::npos) blank = true;
        if (blank) {
            ++blank_run;
        } else {
            if (!out.empty()) out.append(blank_run > 0 ? "\n\n" : "\n");
            blank_run = 0;
            out.append(line);
        }
        pos = nl + 1;
    }
    return out;
}

bool ieq_prefix(std::string_view s, std::size_t at, std::string_view p) {
    if (at + p.size() > s.size()) return false;
    for (std::size_t i = 0; i < p.size(); ++i)
        if (lower_char(s[at + i]) != p[i]) return false;
    return true;
}

// Elements that never nest (void) or close themselves when a sibling starts: they add no depth.
// `n` as written (any case); the names by length, so a name is compared with a few at most.
bool flat_element(std::string_view n) {
    if (n.empty() || n.size() > 8) return false;
    char buf[8];
    for (std::size_t i = 0; i < n.size(); ++i) buf[i] = lower_char(n[i]);
    const std::string_view l(buf, n.size());
    const auto any = [&](std::initializer_list<std::string_view> names) {
        for (std::string_view v : names)
            if (l == v) return true;
        return false;
    };
    switch (l.size()) {
        case 1: return l == "p";
        case 2: return any({"br", "hr", "li", "td", "th", "tr", "dt", "dd", "rb", "rt", "rp"});
        case 3: return any({"col", "img", "wbr"});
        case 4: return any({"area", "base", "link", "meta"});
        case 5: return any({"embed", "input", "param", "track", "thead", "tbody", "tfoot"});
        case 6: return any({"source", "option"});
        case 8: return any({"optgroup", "colgroup"});
        default: return false;
    }
}

// A linear pre-pass that mirrors how HTML nests (a close tag pops to the nearest open element
// of its name, stray close tags are ignored) and drops opening tags that would nest deeper than
// `limit`. Returns "" when nothing needs dropping, so ordinary mail is not copied.
// `only_whether`: the caller wants to know whether anything would be dropped, not the text: the
// first drop answers it (returned as a non-empty string) without copying the document.
std::string drop_deep_tags(std::string_view html, std::size_t limit, bool only_whether = false) {
    // The open elements' names as written (views of `html`, compared ignoring case): a copy and
    // a lower-cased string per tag were most of this pass.
    std::vector<std::string_view> open;
    std::string out;
    bool dropped = false;
    std::size_t copied = 0;  // html[0, copied) is already in `out` (once anything was dropped)
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
        if (e == b) {  // "<!doctype", "<?xml", "< 3": not an element
            i = gt + 1;
            continue;
        }
        const std::string_view name = html.substr(b, e - b);
        if (close) {
            for (std::size_t k = open.size(); k-- > 0;)
                if (text::iequals(open[k], name)) {
                    open.resize(k);
                    break;
                }
            i = gt + 1;
            continue;
        }
        if (text::iequals(name, "script") || text::iequals(name, "style") || text::iequals(name, "textarea") ||
            text::iequals(name, "title") || text::iequals(name, "xmp")) {
            const std::string lowered = lower(name);  // ieq_prefix compares with a lower-case name
            std::size_t j = gt + 1;
            while ((j = html.find("</", j)) != std::string_view::npos && !ieq_prefix(html, j + 2, lowered)) j += 2;
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
            open.push_back(name);
        }
        i = gt + 1;
    }
    if (!dropped) return {};
    out.append(html.substr(copied));
    return out;
}

}  // namespace

namespace html_internal {

bool skipped_element(GumboTag tag, bool has_hidden, std::string_view style) {
    switch (tag) {
        case GUMBO_TAG_HEAD: case GUMBO_TAG_SCRIPT: case GUMBO_TAG_STYLE: case GUMBO_TAG_TEMPLATE:
        case GUMBO_TAG_NOSCRIPT: case GUMBO_TAG_TITLE: case GUMBO_TAG_OBJECT: case GUMBO_TAG_SVG:
        case GUMBO_TAG_MATH: case GUMBO_TAG_IFRAME: case GUMBO_TAG_TEXTAREA: case GUMBO_TAG_SELECT:
        case GUMBO_TAG_BUTTON: case GUMBO_TAG_INPUT: case GUMBO_TAG_META: case GUMBO_TAG_LINK:
            return true;
        default:
            break;
    }
    if (has_hidden) return true;
    // Mail clients hide preheaders and tracking text with inline CSS; a reader never sees them.
    return has_display_none(style);
}

void TextBuilder::enter(GumboTag tag, std::string_view href, std::string_view alt) {
    Frame& f = frames_.emplace_back();
    f.tag = tag;
    // The document node counts as a level, as in the walk over gumbo's tree.
    f.structural = frames_.size() + 1 <= max_depth_;
    if (tag == GUMBO_TAG_A) {
        w_.push_anchor();
        f.href.assign(href);
    }
    if (!f.structural) return;
    int b = block_weight(tag);
    if (b) w_.block(b);
    switch (tag) {
        case GUMBO_TAG_BR: w_.br(); break;
        case GUMBO_TAG_HR: w_.text("---", false); w_.block(1); break;
        case GUMBO_TAG_PRE: ++pre_depth_; break;
        case GUMBO_TAG_BLOCKQUOTE: w_.quote(1); break;
        case GUMBO_TAG_UL: case GUMBO_TAG_OL: ++list_depth_; break;
        case GUMBO_TAG_TD: case GUMBO_TAG_TH: w_.cell(); break;
        case GUMBO_TAG_IMG: {
            std::string a = trim(alt);
            // Marked as an image: Apple Mail's alt is the file name, which alone reads oddly.
            if (!a.empty()) w_.text("[image: " + a + "]", false);
            break;
        }
        case GUMBO_TAG_LI: {
            std::string indent(static_cast<std::size_t>(std::max(list_depth_ - 1, 0)) * 2, ' ');
            // The nearest list decides the marker: numbers for <ol>, a dash otherwise.
            for (auto it = frames_.rbegin() + 1; it != frames_.rend(); ++it) {
                if (it->tag == GUMBO_TAG_OL) {
                    w_.marker(indent + std::to_string(++it->ol_counter) + ". ");
                    return;
                }
                if (it->tag == GUMBO_TAG_UL) break;
            }
            w_.marker(indent + "- ");
            break;
        }
        default: break;
    }
}

void TextBuilder::leave() {
    Frame& f = frames_.back();
    if (f.tag == GUMBO_TAG_A) {
        std::string text = trim(w_.since(w_.pop_anchor()));
        if (!text.empty() && link_worth_showing(f.href, text)) {
            w_.text(" (", false);
            w_.text(trim(f.href), false);
            w_.text(")", false);
        }
    }
    if (f.structural) {
        switch (f.tag) {
            case GUMBO_TAG_PRE: --pre_depth_; break;
            case GUMBO_TAG_BLOCKQUOTE: w_.quote(-1); break;
            case GUMBO_TAG_UL: case GUMBO_TAG_OL: --list_depth_; break;
            default: break;
        }
        int b = block_weight(f.tag);
        if (b) w_.block(b);
    }
    frames_.pop_back();
}

std::string TextBuilder::finish() { return tidy(w_.take()); }

}  // namespace html_internal

namespace html_detail {

std::string gumbo_to_text(std::string_view html, const HtmlLimits& limits) {
    if (html.size() > limits.max_input_bytes) html = html.substr(0, limits.max_input_bytes);
    std::string flattened = drop_deep_tags(html, limits.max_nesting);
    if (!flattened.empty()) html = flattened;
    GumboOutputPtr doc(gumbo_parse_with_options(&kGumboDefaultOptions, html.data(), html.size()));
    if (!doc) return {};

    html_internal::TextBuilder b(limits.max_depth);
    struct Frame {
        const GumboNode* node;
        unsigned next = 0;
    };
    std::vector<Frame> stack;
    stack.push_back({doc->root});
    // Iterative walk: gumbo trees of hostile mail can be far deeper than the call stack.
    while (!stack.empty()) {
        Frame& f = stack.back();
        const GumboNode* n = f.node;
        if (n->type == GUMBO_NODE_TEXT || n->type == GUMBO_NODE_WHITESPACE ||
            n->type == GUMBO_NODE_CDATA) {
            b.text(n->v.text.text);
            stack.pop_back();
            continue;
        }
        if (n->type != GUMBO_NODE_ELEMENT && n->type != GUMBO_NODE_DOCUMENT) {
            stack.pop_back();  // comments and <template> contents: never shown
            continue;
        }
        const GumboVector& children =
            n->type == GUMBO_NODE_DOCUMENT ? n->v.document.children : n->v.element.children;
        if (f.next == 0 && n->type == GUMBO_NODE_ELEMENT) {
            const GumboElement& e = n->v.element;
            if (html_internal::skipped_element(e.tag, gumbo_get_attribute(&e.attributes, "hidden") != nullptr,
                                               attr(e, "style"))) {
                stack.pop_back();
                continue;
            }
            b.enter(e.tag, e.tag == GUMBO_TAG_A ? attr(e, "href") : std::string_view(),
                    e.tag == GUMBO_TAG_IMG ? attr(e, "alt") : std::string_view());
        }
        if (f.next < children.length) {
            const auto* child = static_cast<const GumboNode*>(children.data[f.next++]);
            stack.push_back({child});
            continue;
        }
        if (n->type == GUMBO_NODE_ELEMENT) b.leave();
        stack.pop_back();
    }
    return b.finish();
}

bool would_drop_deep_tags(std::string_view html, std::size_t limit) {
    return !drop_deep_tags(html, limit, true).empty();
}

}  // namespace html_detail

namespace html_detail {

const std::vector<std::string_view>& canary_documents() {
    // The behaviours the stream copies from gumbo 0.10.1 where the HTML standard or a later
    // gumbo may differ (a form in a form, unknown end tags, <main>, the adoption agency, the
    // quirks-mode table in a <p>, foster parenting, the line feed after <pre>), and the plain
    // shapes of mail. Every one of them streams: test_html_stream checks that.
    static const std::vector<std::string_view> docs{
        "<div><form><p>a</p><form><p>b</p></form></form>c</div>",
        "<o:p>x</o:p><v:shape>y</o:p>z",
        "<p>a<main>b</main>c", "<span>a<main>b</span>c</main>d",
        "<b>x<p>y</b>z</p>", "<font>a<li>b</font>c",
        "<p>a<table><tr><td>b</table>c</p>d", "<!DOCTYPE html><p>a<table><tr><td>b</table>c</p>d",
        "a<table><tr><td>x</td></tr>\n<center>\n<tr><td>y</td></tr></table>z",
        "<ul><li><pre></>\nx</pre></ul>", "<pre>\nfirst</pre>",
        "<html><head><style>p{}</style><title>t</title></head><body><div style=\"display:none\">pre</div>"
        "<p>Hello&nbsp;<b>there</b> &amp; welcome</p><ol><li>one<li>two</ol><blockquote>quoted<br>lines</blockquote>"
        "<table><tr><td>a</td><td>b</td></tr></table><a href=\"https://x.example/\">link</a></body></html>",
    };
    return docs;
}

bool stream_agrees_with_gumbo() {
    // The stream is held to gumbo 0.10.1 by the tests at build time; a newer libgumbo installed
    // under a built binary could build other trees. Checked once per process: if any canary
    // differs, every document goes to gumbo (slower, and always gumbo's text).
    static const bool agrees = [] {
        for (const auto doc : canary_documents()) {
            const auto fast = stream_to_text(doc, HtmlLimits{});
            if (fast && *fast != gumbo_to_text(doc, HtmlLimits{})) return false;
        }
        return true;
    }();
    return agrees;
}

}  // namespace html_detail

std::string html_to_text(std::string_view html, const HtmlLimits& limits) {
    // Most mail HTML is converted while it is tokenized, without building gumbo's tree; the
    // stream gives up (nullopt) wherever it could not be sure to build the same tree.
    if (html_detail::stream_agrees_with_gumbo())
        if (auto text = html_detail::stream_to_text(html, limits)) return std::move(*text);
    return html_detail::gumbo_to_text(html, limits);
}

std::string html_to_text(std::string_view html) {
    // parse() converts the same part twice: for the body, then for the bounce check (which
    // reads the first 128 KiB of the first text part). The result depends on the bytes only,
    // so each thread keeps its last small conversion; the conversion dwarfs the comparison.
    constexpr std::size_t kMemoBytes = 128 * 1024;
    struct Memo {
        std::string html, text;
    };
    thread_local Memo memo;
    if (html.size() > kMemoBytes) return html_to_text(html, HtmlLimits{});
    if (!memo.html.empty() && html == memo.html) return memo.text;
    std::string text = html_to_text(html, HtmlLimits{});
    memo.html.assign(html);
    memo.text = text;
    return text;
}

}  // namespace ticketd::parsers
