// HTML to text in one pass, without gumbo's tree (issue 2): a tokenizer for the HTML5 syntax mail
// uses, and an emulation of HTML5 tree building for the elements mail is made of, feeding the
// same TextBuilder events as the walk over gumbo's tree (parsers/html_text.h).
//
// The emulation keeps the stack of open elements, the insertion mode (head, body, the table
// modes, column groups) and the list of active formatting elements, as the WHATWG parsing
// algorithm does (and as gumbo 0.10.1 does where the two differ: unknown end tags, <main>,
// </form>). It gives up (NotSure, then html_to_text uses gumbo) wherever the tree would not
// simply follow the stream: foster parenting of anything that shows, the adoption agency moving
// more than an inert formatting element, reconstructing a link or a hidden formatting element,
// <template>, <select>, <svg>/<math>, <caption>, frames, a DOCTYPE that leaves the quirks mode
// open, script escapes, a second <html>/<body>, control characters, invalid UTF-8, input the
// depth pre-pass would cut, and any tag not listed below. tests/unit/parsers/test_html_stream.cpp
// and fuzz/fuzz_html.cpp hold it to gumbo's output.

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "parsers/html.h"
#include "parsers/html_text.h"

namespace ticketd::parsers::html_detail {
namespace {

using html_internal::TextBuilder;

struct NotSure {};  // the stream cannot vouch for gumbo's tree: use gumbo

struct Entity {
    std::string_view name;
    std::string_view value;
};
constexpr Entity kEntities[] = {
#include "parsers/html_entities.inc"
};

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alnum(char c) { return is_alpha(c) || is_digit(c); }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
// HTML white space once CR is folded into LF.
bool is_space(char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\f'; }
char fold(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }

bool ieq(std::string_view a, std::string_view lower) {
    if (a.size() != lower.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (fold(a[i]) != lower[i]) return false;
    return true;
}

const Entity* find_entity(std::string_view name) {
    const Entity* b = std::begin(kEntities);
    const Entity* e = std::end(kEntities);
    const Entity* it = std::lower_bound(b, e, name, [](const Entity& x, std::string_view n) { return x.name < n; });
    return it != e && it->name == name ? it : nullptr;
}

void append_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

bool noncharacter(std::uint32_t cp) { return (cp >= 0xFDD0 && cp <= 0xFDEF) || (cp & 0xFFFE) == 0xFFFE; }

// How many bits each byte value has set (no popcount instruction in the baseline x86-64 set).
constexpr auto kBitsSet = [] {
    std::array<unsigned char, 256> t{};
    for (int v = 0; v < 256; ++v) t[v] = static_cast<unsigned char>((v & 1) + ((v >> 1) & 1) + ((v >> 2) & 1) + ((v >> 3) & 1) +
                                                                    ((v >> 4) & 1) + ((v >> 5) & 1) + ((v >> 6) & 1) + ((v >> 7) & 1));
    return t;
}();

// The input as gumbo reads it: CR LF and lone CR become LF. Gives up on what gumbo replaces or
// reports (NUL, C0/C1 controls other than white space, invalid UTF-8, noncharacters), rare in mail.
// Returns false when the input can be used as it is; counts the '<' on the way.
bool check_input(std::string_view in, std::string& normalised, std::size_t& lt_count) {
    bool has_cr = false;
    lt_count = 0;
    const auto* p = reinterpret_cast<const unsigned char*>(in.data());
    const std::size_t n = in.size();
    for (std::size_t i = 0; i < n;) {
#if defined(__SSE2__)
        // Sixteen bytes at a time while they are printable ASCII, LF, tab or FF (what the byte
        // loop below accepts as they are; HTML has a line feed every few dozen bytes, which sent
        // the eight-byte test below to the byte loop for up to eight bytes each).
        if (i + 16 <= n) {
            const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
            const auto eq = [&](char c) { return _mm_cmpeq_epi8(v, _mm_set1_epi8(c)); };
            // Signed compare: bytes of 0x80 and above are negative, not above 0x1F.
            const __m128i printable = _mm_andnot_si128(eq('\x7F'), _mm_cmpgt_epi8(v, _mm_set1_epi8(0x1F)));
            const __m128i ok = _mm_or_si128(printable, _mm_or_si128(eq('\n'), _mm_or_si128(eq('\t'), eq('\f'))));
            if (_mm_movemask_epi8(ok) == 0xFFFF) {
                const auto lt = static_cast<unsigned>(_mm_movemask_epi8(eq('<')));
                lt_count += kBitsSet[lt & 0xFF] + kBitsSet[lt >> 8];
                i += 16;
                continue;
            }
        }
#endif
        // Eight printable ASCII bytes at a time (flagging may be spurious, never missed): a byte
        // below 0x20 borrows in the subtraction, one of 0x7F or more sets a top bit in the sum.
        if (i + 8 <= n) {
            std::uint64_t w;
            std::memcpy(&w, p + i, 8);
            constexpr std::uint64_t ones = 0x0101010101010101ULL, tops = 0x8080808080808080ULL;
            if ((((w - ones * 0x20) | w | (w + ones)) & tops) == 0) {
                const std::uint64_t x = w ^ (ones * '<');  // zero bytes where '<' is
                const std::uint64_t lt = ~(((x & ~tops) + ~tops) | x) & tops;
                // One bit per '<', each the top of its byte: moved to the bottom, the bytes are
                // 0 or 1 and one multiplication sums them into the top byte (no popcount
                // instruction in the baseline x86-64 set: __builtin_popcountll was a libgcc call).
                lt_count += static_cast<std::size_t>(((lt >> 7) * ones) >> 56);
                i += 8;
                continue;
            }
        }
        const unsigned char c = p[i];
        if (c >= 0x20 && c < 0x7F) {
            lt_count += c == '<';
            ++i;
            continue;
        }
        if (c < 0x80) {
            if (c == '\r') has_cr = true;
            else if (c != '\n' && c != '\t' && c != '\f') throw NotSure{};
            ++i;
            continue;
        }
        std::uint32_t cp;
        std::size_t len;
        if (c >= 0xC2 && c <= 0xDF) { cp = c & 0x1F; len = 2; }
        else if (c >= 0xE0 && c <= 0xEF) { cp = c & 0x0F; len = 3; }
        else if (c >= 0xF0 && c <= 0xF4) { cp = c & 0x07; len = 4; }
        else throw NotSure{};
        if (i + len > n) throw NotSure{};
        for (std::size_t k = 1; k < len; ++k) {
            if ((p[i + k] & 0xC0) != 0x80) throw NotSure{};
            cp = (cp << 6) | (p[i + k] & 0x3F);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF) || (cp >= 0x80 && cp <= 0x9F) || noncharacter(cp))
            throw NotSure{};
        i += len;
    }
    if (!has_cr) return false;
    normalised.clear();
    normalised.reserve(n);
    for (std::size_t i = 0; i < n;) {
        std::size_t cr = in.find('\r', i);
        if (cr == std::string_view::npos) cr = n;
        normalised.append(in.substr(i, cr - i));
        if (cr == n) break;
        normalised += '\n';
        i = cr + 1 < n && in[cr + 1] == '\n' ? cr + 2 : cr + 1;
    }
    return true;
}

// A character reference at s[p] == '&' (WHATWG "character reference state"): appends what it
// stands for, or the '&' alone when it is none, and returns where the text goes on.
std::size_t char_ref(std::string_view s, std::size_t p, bool in_attribute, std::string& out) {
    const std::size_t n = s.size();
    std::size_t q = p + 1;
    if (q < n && s[q] == '#') {
        std::size_t r = q + 1;
        const bool hex = r < n && (s[r] == 'x' || s[r] == 'X');
        if (hex) ++r;
        std::size_t d = r;
        std::uint32_t cp = 0;
        while (d < n && (hex ? is_hex(s[d]) : is_digit(s[d]))) {
            if (d - r >= 7) throw NotSure{};  // out of range: gumbo's U+FFFD
            const char c = s[d];
            const std::uint32_t v = is_digit(c) ? c - '0' : static_cast<std::uint32_t>(fold(c) - 'a' + 10);
            cp = cp * (hex ? 16 : 10) + v;
            ++d;
        }
        if (d == r) {  // "&#" without digits is text
            out += '&';
            return p + 1;
        }
        if (d < n && s[d] == ';') ++d;
        // Replaced or reported by the tokenizer (NUL, C0/C1 controls, surrogates, out of range).
        if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) || (cp >= 0x7F && cp <= 0x9F) ||
            (cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\f') || noncharacter(cp))
            throw NotSure{};
        append_utf8(out, cp);
        return d;
    }
    if (q >= n || !is_alnum(s[q])) {
        out += '&';
        return p + 1;
    }
    std::size_t e = q;
    while (e < n && is_alnum(s[e]) && e - q < 40) ++e;
    // A name with its ';' is the longest match there can be (the ';' must follow the name).
    if (e < n && s[e] == ';') {
        if (const Entity* ent = find_entity(s.substr(q, e + 1 - q))) {
            out += ent->value;
            return e + 1;
        }
    }
    // Else the longest legacy name (valid without ';', at most 6 letters) that prefixes the run.
    for (std::size_t len = std::min<std::size_t>(e - q, 6); len >= 2; --len) {
        const Entity* ent = find_entity(s.substr(q, len));
        if (!ent) continue;
        if (in_attribute) {
            const std::size_t next = q + len;
            // "&copy=1" in a URL stays as written.
            if (next < n && (s[next] == '=' || is_alnum(s[next]))) break;
        }
        out += ent->value;
        return q + len;
    }
    out += '&';
    return p + 1;
}

enum class Mode { Initial, BeforeHtml, BeforeHead, InHead, AfterHead, InBody, InTable, InColumnGroup, InTableBody, InRow, InCell, AfterBody, AfterAfterBody };

// What tree building does with a start tag in body; anything not listed is NotSure.
enum class Kind {
    Ordinary,      // span, font-less inline and unknown elements: reconstruct, insert
    Block,         // div, p, ul...: close a <p>, insert
    Heading,       // h1..h6
    Formatting,    // b, i, font...: reconstruct, insert, remember as active formatting
    Anchor,        // a
    Nobr,
    Void,          // br, img, wbr...: reconstruct, insert, pop
    VoidNoRecon,   // param, source, track
    HeadVoid,      // base, basefont, bgsound, link, meta: insert, pop
    RawText,       // script, style, iframe (skipped; text up to the end tag)
    RcData,        // title, textarea (skipped; text up to the end tag)
    Hr, Pre, Li, DdDt, Table, Form, Button, Input, TableOnly, Column, Head, Body, Html,
    Unsupported,
};

Kind kind_of(GumboTag t) {
    switch (t) {
        case GUMBO_TAG_UNKNOWN: case GUMBO_TAG_SPAN: case GUMBO_TAG_SUB: case GUMBO_TAG_SUP:
        case GUMBO_TAG_LABEL: case GUMBO_TAG_ABBR: case GUMBO_TAG_CITE: case GUMBO_TAG_Q:
        case GUMBO_TAG_MARK: case GUMBO_TAG_MAP: case GUMBO_TAG_INS: case GUMBO_TAG_DEL:
        case GUMBO_TAG_KBD: case GUMBO_TAG_SAMP: case GUMBO_TAG_VAR: case GUMBO_TAG_DFN:
        case GUMBO_TAG_TIME: case GUMBO_TAG_ACRONYM: case GUMBO_TAG_BDO: case GUMBO_TAG_BLINK:
            return Kind::Ordinary;
        case GUMBO_TAG_ADDRESS: case GUMBO_TAG_ARTICLE: case GUMBO_TAG_ASIDE: case GUMBO_TAG_BLOCKQUOTE:
        case GUMBO_TAG_CENTER: case GUMBO_TAG_DIR: case GUMBO_TAG_DIV: case GUMBO_TAG_DL:
        case GUMBO_TAG_FIELDSET: case GUMBO_TAG_FIGCAPTION: case GUMBO_TAG_FIGURE: case GUMBO_TAG_FOOTER:
        case GUMBO_TAG_HEADER: case GUMBO_TAG_HGROUP: case GUMBO_TAG_NAV: case GUMBO_TAG_OL:
        case GUMBO_TAG_P: case GUMBO_TAG_SECTION: case GUMBO_TAG_UL:
        case GUMBO_TAG_MAIN:  // a block for gumbo 0.10.1, but not "special" (tests)
            return Kind::Block;
        case GUMBO_TAG_H1: case GUMBO_TAG_H2: case GUMBO_TAG_H3: case GUMBO_TAG_H4: case GUMBO_TAG_H5:
        case GUMBO_TAG_H6:
            return Kind::Heading;
        case GUMBO_TAG_B: case GUMBO_TAG_BIG: case GUMBO_TAG_CODE: case GUMBO_TAG_EM: case GUMBO_TAG_FONT:
        case GUMBO_TAG_I: case GUMBO_TAG_S: case GUMBO_TAG_SMALL: case GUMBO_TAG_STRIKE:
        case GUMBO_TAG_STRONG: case GUMBO_TAG_TT: case GUMBO_TAG_U:
            return Kind::Formatting;
        case GUMBO_TAG_A: return Kind::Anchor;
        case GUMBO_TAG_NOBR: return Kind::Nobr;
        case GUMBO_TAG_BR: case GUMBO_TAG_IMG: case GUMBO_TAG_WBR: case GUMBO_TAG_AREA: case GUMBO_TAG_EMBED:
            return Kind::Void;
        case GUMBO_TAG_PARAM: case GUMBO_TAG_SOURCE: case GUMBO_TAG_TRACK: return Kind::VoidNoRecon;
        case GUMBO_TAG_BASE: case GUMBO_TAG_BASEFONT: case GUMBO_TAG_BGSOUND: case GUMBO_TAG_LINK:
        case GUMBO_TAG_META:
            return Kind::HeadVoid;
        case GUMBO_TAG_SCRIPT: case GUMBO_TAG_STYLE: case GUMBO_TAG_IFRAME: return Kind::RawText;
        case GUMBO_TAG_TITLE: case GUMBO_TAG_TEXTAREA: return Kind::RcData;
        case GUMBO_TAG_HR: return Kind::Hr;
        case GUMBO_TAG_PRE: return Kind::Pre;
        case GUMBO_TAG_LI: return Kind::Li;
        case GUMBO_TAG_DD: case GUMBO_TAG_DT: return Kind::DdDt;
        case GUMBO_TAG_TABLE: return Kind::Table;
        case GUMBO_TAG_FORM: return Kind::Form;
        case GUMBO_TAG_BUTTON: return Kind::Button;
        case GUMBO_TAG_INPUT: return Kind::Input;
        case GUMBO_TAG_TBODY: case GUMBO_TAG_THEAD: case GUMBO_TAG_TFOOT: case GUMBO_TAG_TR:
        case GUMBO_TAG_TD: case GUMBO_TAG_TH:
            return Kind::TableOnly;
        case GUMBO_TAG_COL: case GUMBO_TAG_COLGROUP: return Kind::Column;
        case GUMBO_TAG_HEAD: return Kind::Head;
        case GUMBO_TAG_BODY: return Kind::Body;
        case GUMBO_TAG_HTML: return Kind::Html;
        default: return Kind::Unsupported;
    }
}

// https://html.spec.whatwg.org/#special, for the tags the stream accepts.
bool is_special(GumboTag t) {
    switch (t) {
        case GUMBO_TAG_ADDRESS: case GUMBO_TAG_AREA: case GUMBO_TAG_ARTICLE: case GUMBO_TAG_ASIDE:
        case GUMBO_TAG_BASE: case GUMBO_TAG_BASEFONT: case GUMBO_TAG_BGSOUND: case GUMBO_TAG_BLOCKQUOTE:
        case GUMBO_TAG_BODY: case GUMBO_TAG_BR: case GUMBO_TAG_BUTTON: case GUMBO_TAG_CENTER:
        case GUMBO_TAG_COL: case GUMBO_TAG_COLGROUP:
        case GUMBO_TAG_DD: case GUMBO_TAG_DIR: case GUMBO_TAG_DIV: case GUMBO_TAG_DL: case GUMBO_TAG_DT:
        case GUMBO_TAG_EMBED: case GUMBO_TAG_FIELDSET: case GUMBO_TAG_FIGCAPTION: case GUMBO_TAG_FIGURE:
        case GUMBO_TAG_FOOTER: case GUMBO_TAG_FORM: case GUMBO_TAG_H1: case GUMBO_TAG_H2: case GUMBO_TAG_H3:
        case GUMBO_TAG_H4: case GUMBO_TAG_H5: case GUMBO_TAG_H6: case GUMBO_TAG_HEAD: case GUMBO_TAG_HEADER:
        case GUMBO_TAG_HGROUP: case GUMBO_TAG_HR: case GUMBO_TAG_HTML: case GUMBO_TAG_IFRAME:
        case GUMBO_TAG_IMG: case GUMBO_TAG_INPUT: case GUMBO_TAG_LI: case GUMBO_TAG_LINK:
        case GUMBO_TAG_META: case GUMBO_TAG_NAV: case GUMBO_TAG_OL: case GUMBO_TAG_P: case GUMBO_TAG_PARAM:
        case GUMBO_TAG_PRE: case GUMBO_TAG_SCRIPT: case GUMBO_TAG_SECTION: case GUMBO_TAG_SOURCE:
        case GUMBO_TAG_STYLE: case GUMBO_TAG_TABLE: case GUMBO_TAG_TBODY: case GUMBO_TAG_TD:
        case GUMBO_TAG_TEXTAREA: case GUMBO_TAG_TFOOT: case GUMBO_TAG_TH: case GUMBO_TAG_THEAD:
        case GUMBO_TAG_TITLE: case GUMBO_TAG_TR: case GUMBO_TAG_TRACK: case GUMBO_TAG_UL: case GUMBO_TAG_WBR:
            return true;
        default:
            return false;
    }
}

bool is_formatting(GumboTag t) {
    Kind k = kind_of(t);
    return k == Kind::Formatting || k == Kind::Anchor || k == Kind::Nobr;
}

// Block elements whose end tag pops to them when in scope.
bool closes_block(GumboTag t) {
    Kind k = kind_of(t);
    return k == Kind::Block || k == Kind::Pre || k == Kind::Button;
}

enum class Scope { Default, Button, ListItem, Table };

struct Attrs {
    bool hidden = false;
    std::string style, href, alt;
    bool has_style = false, has_href = false, has_alt = false;
};

class Stream {
public:
    Stream(std::string_view s, std::string_view original, std::size_t lt_count, const HtmlLimits& limits)
        : s_(s), original_(original), lt_count_(lt_count), limits_(limits), out_(limits.max_depth),
          depth_bound_(std::min<std::size_t>(kMaxDepth, limits.max_depth)) {}

    std::string run() {
        const std::size_t n = s_.size();
        std::size_t i = 0;
        while (i < n) {
            const char* lt = static_cast<const char*>(std::memchr(s_.data() + i, '<', n - i));
            const std::size_t at = lt ? static_cast<std::size_t>(lt - s_.data()) : n;
            if (at > i) characters(i, at);
            if (at == n) break;
            i = markup(at);
            if (raw_) i = raw_text(i);
        }
        // gumbo_to_text first drops opening tags nested past max_nesting; that takes more than
        // max_nesting '<'.
        if (lt_count_ > limits_.max_nesting && would_drop_deep_tags(original_, limits_.max_nesting)) throw NotSure{};
        while (!stack_.empty()) pop();
        return out_.finish();
    }

private:
    static constexpr std::size_t kMaxDepth = 64;  // deeper documents are left to gumbo

    struct Node {
        GumboTag tag;
        std::uint32_t id;
    };
    struct Active {
        GumboTag tag;
        std::uint32_t id;  // 0: a marker
        bool inert;        // a formatting element whose copy changes nothing in the text
    };
    struct Tag {
        GumboTag tag = GUMBO_TAG_UNKNOWN;
        std::string name;
        Attrs attrs;
        bool self_closing = false;
    };

    // ---- tokenizer ----

    void characters(std::size_t a, std::size_t b) {
        std::string_view t = s_.substr(a, b - a);
        if (t.find('&') == std::string_view::npos) return on_text(t);
        if (ignore_lf_ && t[0] == '&') throw NotSure{};
        buf_.clear();
        // The bytes between references in one append each, not one at a time.
        for (std::size_t i = 0; i < t.size();) {
            const std::size_t amp = t.find('&', i);
            buf_.append(t.substr(i, (amp == std::string_view::npos ? t.size() : amp) - i));
            if (amp == std::string_view::npos) break;
            i = char_ref(t, amp, false, buf_);
        }
        on_text(buf_);
    }

    // Markup at s_[lt] == '<': a tag, comment, doctype, or a '<' that is text.
    std::size_t markup(std::size_t lt) {
        const std::size_t n = s_.size();
        if (lt + 1 >= n) { on_text("<"); return n; }
        const char c = s_[lt + 1];
        if (is_alpha(c)) {
            ignore_lf_ = false;
            return start_tag(lt + 1);
        }
        if (c == '/') {
            if (lt + 2 >= n) throw NotSure{};
            // "</>" makes no token, and gumbo forgets the line feed after <pre> only when a
            // token comes: "<pre></>\nx" still drops that line feed.
            if (s_[lt + 2] == '>') return lt + 3;
            ignore_lf_ = false;
            if (is_alpha(s_[lt + 2])) return end_tag(lt + 2);
            return bogus_comment(lt + 2);
        }
        if (c == '!') {
            ignore_lf_ = false;
            if (s_.compare(lt, 4, "<!--") == 0) {
                // "-->" searched from the opening dashes also ends "<!-->" and "<!--->".
                std::size_t e = s_.find("-->", lt + 2);
                if (e == std::string_view::npos) throw NotSure{};
                // "--!>" also ends a comment: looked for within this one only (linear overall).
                if (s_.substr(lt + 2, e + 3 - (lt + 2)).find("--!>") != std::string_view::npos) throw NotSure{};
                return e + 3;
            }
            if (lt + 9 <= n && ieq(s_.substr(lt + 2, 7), "doctype")) {
                std::size_t e = s_.find('>', lt + 9);
                if (e == std::string_view::npos) throw NotSure{};
                on_doctype(s_.substr(lt + 9, e - (lt + 9)));
                return e + 1;
            }
            return bogus_comment(lt + 2);
        }
        if (c == '?') {
            ignore_lf_ = false;
            return bogus_comment(lt + 1);
        }
        on_text("<");
        return lt + 1;
    }

    std::size_t bogus_comment(std::size_t from) {
        std::size_t e = s_.find('>', from);
        if (e == std::string_view::npos) throw NotSure{};
        return e + 1;
    }

    // Tag name and attributes (WHATWG tokenizer states from "tag name" to "after attribute
    // value (quoted)"); returns the position after '>'.
    std::size_t read_tag(std::size_t p, Tag& t, bool keep_attrs) {
        const std::size_t n = s_.size();
        t.name.clear();
        t.attrs = Attrs{};
        t.self_closing = false;
        while (p < n && !is_space(s_[p]) && s_[p] != '/' && s_[p] != '>') t.name += fold(s_[p++]);
        t.tag = gumbo_tagn_enum(t.name.data(), static_cast<unsigned>(t.name.size()));
        for (;;) {
            while (p < n && is_space(s_[p])) ++p;
            if (p >= n) throw NotSure{};
            if (s_[p] == '/') {
                ++p;
                if (p < n && s_[p] == '>') {
                    t.self_closing = true;
                    return p + 1;
                }
                continue;
            }
            if (s_[p] == '>') return p + 1;
            if (s_[p] == '=') throw NotSure{};
            const std::size_t name_at = p;
            while (p < n && !is_space(s_[p]) && s_[p] != '/' && s_[p] != '>' && s_[p] != '=') ++p;
            const std::string_view name = s_.substr(name_at, p - name_at);
            while (p < n && is_space(s_[p])) ++p;
            if (p >= n) throw NotSure{};
            std::string_view value;
            if (s_[p] == '=') {
                ++p;
                while (p < n && is_space(s_[p])) ++p;
                if (p >= n) throw NotSure{};
                if (s_[p] == '"' || s_[p] == '\'') {
                    const std::size_t e = s_.find(s_[p], p + 1);
                    if (e == std::string_view::npos) throw NotSure{};
                    value = s_.substr(p + 1, e - p - 1);
                    p = e + 1;
                } else if (s_[p] != '>') {
                    std::size_t e = p;
                    while (e < n && !is_space(s_[e]) && s_[e] != '>') ++e;
                    if (e >= n) throw NotSure{};
                    value = s_.substr(p, e - p);
                    p = e;
                }
            }
            if (keep_attrs) keep(t.attrs, name, value);
        }
    }

    // The first of each attribute wins, as in the tokenizer.
    void keep(Attrs& a, std::string_view name, std::string_view value) {
        auto decoded = [&](std::string& into) {
            std::size_t amp = value.find('&');
            into.assign(value.substr(0, amp));
            if (amp == std::string_view::npos) return;
            for (std::size_t i = amp; i < value.size();) {
                if (value[i] != '&') { into += value[i++]; continue; }
                i = char_ref(value, i, true, into);
            }
        };
        if (ieq(name, "hidden")) {
            a.hidden = true;
        } else if (ieq(name, "style")) {
            if (!a.has_style) { a.has_style = true; decoded(a.style); }
        } else if (ieq(name, "href")) {
            if (!a.has_href) { a.has_href = true; decoded(a.href); }
        } else if (ieq(name, "alt")) {
            if (!a.has_alt) { a.has_alt = true; decoded(a.alt); }
        }
    }

    std::size_t start_tag(std::size_t p) {
        std::size_t end = read_tag(p, tag_, true);
        on_start(tag_);
        return end;
    }

    std::size_t end_tag(std::size_t p) {
        Tag t;
        std::size_t end = read_tag(p, t, false);
        on_end(t.tag);
        return end;
    }

    // Text of script/style/iframe/title/textarea up to its end tag; the end tag itself is then
    // read as markup.
    std::size_t raw_text(std::size_t from) {
        const std::string name = std::move(raw_name_);
        raw_ = false;
        std::size_t j = from;
        for (;;) {
            j = s_.find("</", j);
            if (j == std::string_view::npos) throw NotSure{};
            const std::size_t after = j + 2 + name.size();
            if (after < s_.size() && ieq(s_.substr(j + 2, name.size()), name) &&
                (is_space(s_[after]) || s_[after] == '/' || s_[after] == '>'))
                break;
            j += 2;
        }
        // Script data has escape states ("<!--" ... "<script>"): not followed here.
        if (name == "script" && s_.substr(from, j - from).find("<!--") != std::string_view::npos) throw NotSure{};
        ignore_lf_ = false;
        // The end tag pops the element, whatever the insertion mode ("text" mode).
        Tag t;
        const std::size_t e = read_tag(j + 2, t, false);
        pop();
        return e;
    }

    // ---- tree building ----

    static bool all_space(std::string_view t) {
        for (char c : t)
            if (!is_space(c)) return false;
        return true;
    }

    // `rest`: what follows "<!DOCTYPE" up to '>'. Only the quirks mode matters here (whether a
    // <table> closes an open <p>): no DOCTYPE means quirks; "<!DOCTYPE html>" means no quirks;
    // any other (public or system identifiers, other names) is left undecided.
    void on_doctype(std::string_view rest) {
        if (mode_ != Mode::Initial) return;  // elsewhere a DOCTYPE is ignored
        mode_ = Mode::BeforeHtml;
        std::size_t b = 0, e = rest.size();
        while (b < e && is_space(rest[b])) ++b;
        while (e > b && is_space(rest[e - 1])) --e;
        doc_mode_ = b > 0 && ieq(rest.substr(b, e - b), "html") ? DocMode::NoQuirks : DocMode::Unknown;
    }

    void on_text(std::string_view t) {
        if (ignore_lf_) {
            ignore_lf_ = false;
            if (!t.empty() && t[0] == '\n') t.remove_prefix(1);
            if (t.empty()) return;
        }
        for (;;) {
            switch (mode_) {
                case Mode::Initial: case Mode::BeforeHtml: case Mode::BeforeHead: case Mode::InHead: {
                    std::size_t k = 0;
                    while (k < t.size() && is_space(t[k])) ++k;
                    // White space in the head goes into <head>, which is never shown.
                    t.remove_prefix(k);
                    if (t.empty()) return;
                    anything_else_before_body();
                    continue;
                }
                case Mode::AfterHead: {
                    std::size_t k = 0;
                    while (k < t.size() && is_space(t[k])) ++k;
                    insert_text(t.substr(0, k));
                    t.remove_prefix(k);
                    if (t.empty()) return;
                    anything_else_before_body();
                    continue;
                }
                case Mode::InBody: case Mode::InCell:
                    reconstruct();
                    insert_text(t);
                    return;
                case Mode::InTable: case Mode::InTableBody: case Mode::InRow: {
                    const GumboTag cur = current();
                    const bool table_node = cur == GUMBO_TAG_TABLE || cur == GUMBO_TAG_TBODY ||
                                            cur == GUMBO_TAG_THEAD || cur == GUMBO_TAG_TFOOT || cur == GUMBO_TAG_TR;
                    if (!all_space(t)) throw NotSure{};  // foster parenting
                    if (!table_node && (fostered_ != stack_.size() - 1 || !reconstruct_is_noop())) throw NotSure{};
                    insert_text(t);  // (nothing, in a fostered element)
                    return;
                }
                case Mode::InColumnGroup:
                    if (!all_space(t)) throw NotSure{};  // closes the group, then foster parenting
                    insert_text(t);
                    return;
                case Mode::AfterBody: case Mode::AfterAfterBody:
                    if (all_space(t)) {
                        reconstruct();
                        insert_text(t);
                        return;
                    }
                    mode_ = Mode::InBody;
                    continue;
            }
        }
    }

    // Before <body>, what is neither white space nor head matter opens the missing elements.
    void anything_else_before_body() {
        switch (mode_) {
            case Mode::Initial: mode_ = Mode::BeforeHtml; [[fallthrough]];
            case Mode::BeforeHtml: push(GUMBO_TAG_HTML, {}); mode_ = Mode::BeforeHead; [[fallthrough]];
            case Mode::BeforeHead: push(GUMBO_TAG_HEAD, {}); mode_ = Mode::InHead; [[fallthrough]];
            case Mode::InHead: pop(); mode_ = Mode::AfterHead; [[fallthrough]];
            case Mode::AfterHead: push(GUMBO_TAG_BODY, {}); mode_ = Mode::InBody; break;
            default: break;
        }
    }

    void on_start(const Tag& t) {
        const Kind k = kind_of(t.tag);
        if (k == Kind::Unsupported) throw NotSure{};
        // In a fostered element, only what the table modes place themselves (rows, cells).
        if (fostered_ != npos && k != Kind::TableOnly && k != Kind::Column) throw NotSure{};
        for (;;) {
            switch (mode_) {
                case Mode::Initial:
                    mode_ = Mode::BeforeHtml;
                    continue;
                case Mode::BeforeHtml:
                    if (k == Kind::Html) {
                        push(t.tag, t.attrs);
                        mode_ = Mode::BeforeHead;
                        return;
                    }
                    push(GUMBO_TAG_HTML, {});
                    mode_ = Mode::BeforeHead;
                    continue;
                case Mode::BeforeHead:
                    if (k == Kind::Html) return merge_into_open(t);
                    if (k == Kind::Head) {
                        push(t.tag, t.attrs);
                        mode_ = Mode::InHead;
                        return;
                    }
                    push(GUMBO_TAG_HEAD, {});
                    mode_ = Mode::InHead;
                    continue;
                case Mode::InHead:
                    if (k == Kind::Html) return merge_into_open(t);
                    if (k == Kind::HeadVoid) return insert_void(t);
                    if (t.tag == GUMBO_TAG_TITLE || t.tag == GUMBO_TAG_STYLE || t.tag == GUMBO_TAG_SCRIPT)
                        return insert_raw(t);
                    if (k == Kind::Head) return;
                    pop();  // </head> implied
                    mode_ = Mode::AfterHead;
                    continue;
                case Mode::AfterHead:
                    if (k == Kind::Html) return merge_into_open(t);
                    if (k == Kind::Body) {
                        push(t.tag, t.attrs);
                        mode_ = Mode::InBody;
                        return;
                    }
                    // Head matter after </head> goes into <head>: never shown, whichever parent.
                    if (k == Kind::HeadVoid) return insert_void(t);
                    if (t.tag == GUMBO_TAG_TITLE || t.tag == GUMBO_TAG_STYLE || t.tag == GUMBO_TAG_SCRIPT)
                        return insert_raw(t);
                    if (k == Kind::Head) return;
                    push(GUMBO_TAG_BODY, {});
                    mode_ = Mode::InBody;
                    continue;
                case Mode::InBody:
                    return start_in_body(t, k);
                case Mode::InTable:
                    if (t.tag == GUMBO_TAG_TBODY || t.tag == GUMBO_TAG_THEAD || t.tag == GUMBO_TAG_TFOOT) {
                        clear_to({GUMBO_TAG_TABLE});
                        push(t.tag, t.attrs);
                        mode_ = Mode::InTableBody;
                        return;
                    }
                    if (t.tag == GUMBO_TAG_TR || t.tag == GUMBO_TAG_TD || t.tag == GUMBO_TAG_TH) {
                        clear_to({GUMBO_TAG_TABLE});
                        push(GUMBO_TAG_TBODY, {});
                        mode_ = Mode::InTableBody;
                        continue;
                    }
                    if (t.tag == GUMBO_TAG_COLGROUP) {
                        clear_to({GUMBO_TAG_TABLE});
                        push(t.tag, t.attrs);
                        mode_ = Mode::InColumnGroup;
                        return;
                    }
                    if (t.tag == GUMBO_TAG_COL) {
                        clear_to({GUMBO_TAG_TABLE});
                        push(GUMBO_TAG_COLGROUP, {});
                        mode_ = Mode::InColumnGroup;
                        continue;
                    }
                    if (t.tag == GUMBO_TAG_STYLE || t.tag == GUMBO_TAG_SCRIPT) return insert_raw(t);
                    return foster(t, k);  // nested tables, captions, forms: NotSure
                case Mode::InColumnGroup:
                    if (k == Kind::Html) return merge_into_open(t);
                    if (t.tag == GUMBO_TAG_COL) return insert_void(t);
                    if (current() != GUMBO_TAG_COLGROUP) throw NotSure{};
                    pop();  // anything else closes the group
                    mode_ = Mode::InTable;
                    continue;
                case Mode::InTableBody:
                    if (t.tag == GUMBO_TAG_TR) {
                        clear_to({GUMBO_TAG_TBODY, GUMBO_TAG_THEAD, GUMBO_TAG_TFOOT});
                        push(t.tag, t.attrs);
                        mode_ = Mode::InRow;
                        return;
                    }
                    if (t.tag == GUMBO_TAG_TD || t.tag == GUMBO_TAG_TH) {
                        clear_to({GUMBO_TAG_TBODY, GUMBO_TAG_THEAD, GUMBO_TAG_TFOOT});
                        push(GUMBO_TAG_TR, {});
                        mode_ = Mode::InRow;
                        continue;
                    }
                    if (t.tag == GUMBO_TAG_TBODY || t.tag == GUMBO_TAG_THEAD || t.tag == GUMBO_TAG_TFOOT || k == Kind::Column) {
                        if (!in_scope_any({GUMBO_TAG_TBODY, GUMBO_TAG_THEAD, GUMBO_TAG_TFOOT}, Scope::Table)) return;
                        clear_to({GUMBO_TAG_TBODY, GUMBO_TAG_THEAD, GUMBO_TAG_TFOOT});
                        pop();
                        mode_ = Mode::InTable;
                        continue;
                    }
                    // The rest as in a table: style and script; else foster parenting.
                    if (t.tag == GUMBO_TAG_STYLE || t.tag == GUMBO_TAG_SCRIPT) return insert_raw(t);
                    return foster(t, k);
                case Mode::InRow:
                    if (t.tag == GUMBO_TAG_TD || t.tag == GUMBO_TAG_TH) {
                        clear_to({GUMBO_TAG_TR});
                        push(t.tag, t.attrs);
                        mode_ = Mode::InCell;
                        active_.push_back({GUMBO_TAG_UNKNOWN, 0, true});  // marker
                        return;
                    }
                    if (t.tag == GUMBO_TAG_TR || t.tag == GUMBO_TAG_TBODY || t.tag == GUMBO_TAG_THEAD ||
                        t.tag == GUMBO_TAG_TFOOT || k == Kind::Column) {
                        if (!in_scope(GUMBO_TAG_TR, Scope::Table)) return;
                        clear_to({GUMBO_TAG_TR});
                        pop();
                        mode_ = Mode::InTableBody;
                        continue;
                    }
                    if (t.tag == GUMBO_TAG_STYLE || t.tag == GUMBO_TAG_SCRIPT) return insert_raw(t);
                    return foster(t, k);
                case Mode::InCell:
                    if (t.tag == GUMBO_TAG_TD || t.tag == GUMBO_TAG_TH || t.tag == GUMBO_TAG_TR ||
                        t.tag == GUMBO_TAG_TBODY || t.tag == GUMBO_TAG_THEAD || t.tag == GUMBO_TAG_TFOOT ||
                        k == Kind::Column) {
                        if (!in_scope_any({GUMBO_TAG_TD, GUMBO_TAG_TH}, Scope::Table)) throw NotSure{};
                        close_cell();
                        continue;
                    }
                    return start_in_body(t, k);
                case Mode::AfterBody: case Mode::AfterAfterBody:
                    if (k == Kind::Html) return merge_into_open(t);
                    mode_ = Mode::InBody;
                    continue;
            }
        }
    }

    // Foster parenting (an element directly in a table goes before the table), followed only
    // where it cannot show: an element with no text of its own (white space aside) and no
    // element in it, that asks for at most a line break, before a table that is shown. Its
    // events would come just before the table's own, whose line break covers theirs; so it is
    // kept on the stack, silent.
    void foster(const Tag& t, Kind k) {
        const bool quiet_kind = k == Kind::Ordinary || (k == Kind::Block && t.tag != GUMBO_TAG_P && t.tag != GUMBO_TAG_BLOCKQUOTE);
        if (!quiet_kind || fostered_ != npos || !reconstruct_is_noop()) throw NotSure{};
        // The table's line break covers it only if the table is shown.
        std::size_t table = stack_.size();
        while (table-- > 0 && stack_[table].tag != GUMBO_TAG_TABLE) {}
        if (table == npos || (skip_from_ != npos && skip_from_ <= table)) throw NotSure{};
        push(t.tag, t.attrs, true);
        fostered_ = stack_.size() - 1;
    }

    // A second <html> or <body> adds its attributes to the open one; the walk reads them once
    // the tree is whole, so one that hides would hide what the stream has already given.
    // Other attributes change nothing in the text.
    void merge_into_open(const Tag& t) {
        if (hidden(t.tag, t.attrs)) throw NotSure{};
    }

    bool reconstruct_is_noop() const {
        return active_.empty() || active_.back().id == 0 || index_of(active_.back().id) != npos;
    }

    void start_in_body(const Tag& t, Kind k) {
        switch (k) {
            case Kind::Html: case Kind::Body:
                return merge_into_open(t);
            case Kind::Unsupported:
                throw NotSure{};
            case Kind::Head:
                return;  // ignored
            case Kind::TableOnly: case Kind::Column:
                return;  // a cell, row or column outside a table is ignored
            case Kind::HeadVoid:
                return insert_void(t);
            case Kind::RawText: case Kind::RcData:
                if (t.tag == GUMBO_TAG_TEXTAREA) {
                    insert_raw(t);
                    ignore_lf_ = true;
                    return;
                }
                return insert_raw(t);
            case Kind::Block:
                close_p_in_button_scope();
                push(t.tag, t.attrs);
                return;
            case Kind::Heading:
                close_p_in_button_scope();
                if (is_heading(current())) pop();
                push(t.tag, t.attrs);
                return;
            case Kind::Pre:
                close_p_in_button_scope();
                push(t.tag, t.attrs);
                ignore_lf_ = true;
                return;
            case Kind::Hr:
                close_p_in_button_scope();
                return insert_void(t);
            case Kind::Li: case Kind::DdDt: {
                for (std::size_t i = stack_.size(); i-- > 0;) {
                    const GumboTag n = stack_[i].tag;
                    const bool same = k == Kind::Li ? n == GUMBO_TAG_LI : (n == GUMBO_TAG_DD || n == GUMBO_TAG_DT);
                    if (same) {
                        generate_implied_end_tags(n);
                        pop_until(n);
                        break;
                    }
                    if (is_special(n) && n != GUMBO_TAG_ADDRESS && n != GUMBO_TAG_DIV && n != GUMBO_TAG_P) break;
                }
                close_p_in_button_scope();
                push(t.tag, t.attrs);
                return;
            }
            case Kind::Table:
                // An open <p> closes unless the document is in quirks mode.
                if (in_scope(GUMBO_TAG_P, Scope::Button)) {
                    if (doc_mode_ == DocMode::Unknown) throw NotSure{};
                    if (doc_mode_ == DocMode::NoQuirks) close_p_in_button_scope();
                }
                push(t.tag, t.attrs);
                mode_ = Mode::InTable;
                return;
            case Kind::Form:
                if (form_open_) return;  // a form in a form is ignored
                close_p_in_button_scope();
                push(t.tag, t.attrs);
                form_open_ = true;
                form_id_ = stack_.back().id;
                return;
            case Kind::Button:
                if (in_scope(GUMBO_TAG_BUTTON, Scope::Default)) throw NotSure{};
                reconstruct();
                push(t.tag, t.attrs);
                return;
            case Kind::Input: case Kind::Void:
                reconstruct();
                return insert_void(t);
            case Kind::VoidNoRecon:
                return insert_void(t);
            case Kind::Anchor:
                for (std::size_t i = active_.size(); i-- > 0 && active_[i].id != 0;)
                    if (active_[i].tag == GUMBO_TAG_A) throw NotSure{};  // the adoption agency
                reconstruct();
                push_formatting(t);
                return;
            case Kind::Nobr:
                reconstruct();
                if (in_scope(GUMBO_TAG_NOBR, Scope::Default)) throw NotSure{};
                push_formatting(t);
                return;
            case Kind::Formatting:
                reconstruct();
                push_formatting(t);
                return;
            case Kind::Ordinary:
                reconstruct();
                push(t.tag, t.attrs);
                return;
        }
    }

    void on_end(GumboTag tag) {
        const Kind k = kind_of(tag);
        if (k == Kind::Unsupported) throw NotSure{};
        for (;;) {
            switch (mode_) {
                case Mode::Initial:
                    mode_ = Mode::BeforeHtml;
                    continue;
                case Mode::BeforeHtml:
                    if (tag != GUMBO_TAG_HEAD && tag != GUMBO_TAG_BODY && tag != GUMBO_TAG_HTML && tag != GUMBO_TAG_BR)
                        return;  // ignored
                    push(GUMBO_TAG_HTML, {});
                    mode_ = Mode::BeforeHead;
                    continue;
                case Mode::BeforeHead:
                    if (tag != GUMBO_TAG_HEAD && tag != GUMBO_TAG_BODY && tag != GUMBO_TAG_HTML && tag != GUMBO_TAG_BR)
                        return;
                    push(GUMBO_TAG_HEAD, {});
                    mode_ = Mode::InHead;
                    continue;
                case Mode::InHead:
                    if (tag == GUMBO_TAG_HEAD) {
                        pop();
                        mode_ = Mode::AfterHead;
                        return;
                    }
                    if (tag != GUMBO_TAG_BODY && tag != GUMBO_TAG_HTML && tag != GUMBO_TAG_BR) return;
                    pop();
                    mode_ = Mode::AfterHead;
                    continue;
                case Mode::AfterHead:
                    if (tag != GUMBO_TAG_BODY && tag != GUMBO_TAG_HTML && tag != GUMBO_TAG_BR) return;
                    push(GUMBO_TAG_BODY, {});
                    mode_ = Mode::InBody;
                    continue;
                case Mode::InBody:
                    return end_in_body(tag, k);
                case Mode::InTable: case Mode::InTableBody: case Mode::InRow: {
                    if (tag == GUMBO_TAG_TABLE) {
                        if (!in_scope(GUMBO_TAG_TABLE, Scope::Table)) return;
                        pop_until(GUMBO_TAG_TABLE);
                        reset_mode();
                        return;
                    }
                    if (tag == GUMBO_TAG_TR && mode_ == Mode::InRow) {
                        if (!in_scope(GUMBO_TAG_TR, Scope::Table)) return;
                        clear_to({GUMBO_TAG_TR});
                        pop();
                        mode_ = Mode::InTableBody;
                        return;
                    }
                    if ((tag == GUMBO_TAG_TBODY || tag == GUMBO_TAG_THEAD || tag == GUMBO_TAG_TFOOT) &&
                        mode_ != Mode::InTable) {
                        if (!in_scope(tag, Scope::Table)) return;
                        if (mode_ == Mode::InRow) {
                            if (!in_scope(GUMBO_TAG_TR, Scope::Table)) return;
                            clear_to({GUMBO_TAG_TR});
                            pop();
                            mode_ = Mode::InTableBody;
                        }
                        clear_to({GUMBO_TAG_TBODY, GUMBO_TAG_THEAD, GUMBO_TAG_TFOOT});
                        pop();
                        mode_ = Mode::InTable;
                        return;
                    }
                    if (tag == GUMBO_TAG_BODY || tag == GUMBO_TAG_HTML || tag == GUMBO_TAG_TBODY ||
                        tag == GUMBO_TAG_THEAD || tag == GUMBO_TAG_TFOOT || tag == GUMBO_TAG_TR ||
                        tag == GUMBO_TAG_TD || tag == GUMBO_TAG_TH || k == Kind::Column)
                        return;  // ignored
                    // Else as in body, with foster parenting: only </p> and </br> insert an
                    // element; the rest only close what is in scope (nothing below the table).
                    if (tag == GUMBO_TAG_P || tag == GUMBO_TAG_BR) throw NotSure{};
                    return end_in_body(tag, k);
                }
                case Mode::InColumnGroup:
                    if (tag == GUMBO_TAG_COL) return;  // ignored
                    if (current() != GUMBO_TAG_COLGROUP) throw NotSure{};
                    pop();
                    mode_ = Mode::InTable;
                    if (tag == GUMBO_TAG_COLGROUP) return;
                    continue;  // anything else closes the group and is seen again in the table
                case Mode::InCell:
                    if (tag == GUMBO_TAG_TD || tag == GUMBO_TAG_TH) {
                        if (!in_scope(tag, Scope::Table)) return;
                        generate_implied_end_tags(GUMBO_TAG_LAST);
                        pop_until(tag);
                        clear_active_to_marker();
                        mode_ = Mode::InRow;
                        return;
                    }
                    if (tag == GUMBO_TAG_BODY || tag == GUMBO_TAG_HTML || k == Kind::Column) return;
                    if (tag == GUMBO_TAG_TABLE || tag == GUMBO_TAG_TBODY || tag == GUMBO_TAG_THEAD ||
                        tag == GUMBO_TAG_TFOOT || tag == GUMBO_TAG_TR) {
                        if (!in_scope(tag, Scope::Table)) return;
                        close_cell();
                        continue;
                    }
                    return end_in_body(tag, k);
                case Mode::AfterBody:
                    if (tag == GUMBO_TAG_HTML) {
                        mode_ = Mode::AfterAfterBody;
                        return;
                    }
                    mode_ = Mode::InBody;
                    continue;
                case Mode::AfterAfterBody:
                    mode_ = Mode::InBody;
                    continue;
            }
        }
    }

    void end_in_body(GumboTag tag, Kind k) {
        if (tag == GUMBO_TAG_BODY || tag == GUMBO_TAG_HTML) {
            if (!in_scope(GUMBO_TAG_BODY, Scope::Default)) return;
            mode_ = Mode::AfterBody;
            if (tag == GUMBO_TAG_HTML) mode_ = Mode::AfterAfterBody;
            return;
        }
        if (tag == GUMBO_TAG_P) {
            if (!in_scope(GUMBO_TAG_P, Scope::Button)) push(GUMBO_TAG_P, {});
            generate_implied_end_tags(GUMBO_TAG_P);
            pop_until(GUMBO_TAG_P);
            return;
        }
        if (tag == GUMBO_TAG_BR) {
            reconstruct();
            push(GUMBO_TAG_BR, {});
            pop();
            return;
        }
        if (tag == GUMBO_TAG_FORM) {
            if (!form_open_) return;
            form_open_ = false;
            const std::size_t i = index_of(form_id_);
            if (i == npos || !in_scope_node(i, Scope::Default)) return;
            generate_implied_end_tags(GUMBO_TAG_LAST);
            if (stack_.back().id != form_id_) throw NotSure{};  // removed from the middle
            // gumbo 0.10.1 takes the form off the stack without first placing the text it holds
            // back since the last element: that text lands after the form (outside its style).
            if (text_pending_) throw NotSure{};
            pop();
            return;
        }
        if (closes_block(tag) || k == Kind::Li || k == Kind::DdDt) {
            const Scope scope = k == Kind::Li ? Scope::ListItem : Scope::Default;
            if (!in_scope(tag, scope)) return;
            generate_implied_end_tags(k == Kind::Li || k == Kind::DdDt ? tag : GUMBO_TAG_LAST);
            pop_until(tag);
            return;
        }
        if (is_heading(tag)) {
            bool any = false;
            for (GumboTag h : {GUMBO_TAG_H1, GUMBO_TAG_H2, GUMBO_TAG_H3, GUMBO_TAG_H4, GUMBO_TAG_H5, GUMBO_TAG_H6})
                any = any || in_scope(h, Scope::Default);
            if (!any) return;
            generate_implied_end_tags(GUMBO_TAG_LAST);
            while (!is_heading(current())) pop();
            pop();
            return;
        }
        if (is_formatting(tag)) return adoption_agency(tag);
        any_other_end_tag(tag);
    }

    // The adoption agency algorithm (misnested formatting end tags), for the cases where it
    // only closes elements, or moves nothing but an inert formatting element: "<font>a<li>b
    // </font>" takes <li> out of <font> and wraps b in a copy of <font>. The furthest block
    // then sits where it was in the text, so only the two stack entries trade places.
    void adoption_agency(GumboTag tag) {
        if (current() == tag && !in_active(stack_.back().id)) {
            pop();
            return;
        }
        for (int round = 0; round < 8; ++round) {
            std::size_t f = npos;
            for (std::size_t i = active_.size(); i-- > 0 && active_[i].id != 0;)
                if (active_[i].tag == tag) {
                    f = i;
                    break;
                }
            if (f == npos) {
                if (round == 0) any_other_end_tag(tag);
                return;
            }
            const std::size_t at = index_of(active_[f].id);
            if (at == npos) {
                active_.erase(active_.begin() + static_cast<std::ptrdiff_t>(f));
                return;
            }
            if (!in_scope_node(at, Scope::Default)) return;
            std::size_t block = npos;
            for (std::size_t i = at + 1; i < stack_.size(); ++i)
                if (is_special(stack_[i].tag)) {
                    block = i;
                    break;
                }
            if (block == npos) {
                while (stack_.size() > at) pop();
                active_.erase(active_.begin() + static_cast<std::ptrdiff_t>(f));
                return;
            }
            // Elements between, a link or a hidden element, an element left out, or a table
            // to foster into: nodes would move in ways the stream does not follow.
            if (block != at + 1 || !active_[f].inert || at == 0 || (skip_from_ != npos && skip_from_ >= at))
                throw NotSure{};
            const GumboTag common = stack_[at - 1].tag;
            if (common == GUMBO_TAG_TABLE || common == GUMBO_TAG_TBODY || common == GUMBO_TAG_THEAD ||
                common == GUMBO_TAG_TFOOT || common == GUMBO_TAG_TR)
                throw NotSure{};
            std::swap(stack_[at], stack_[at + 1]);
            stack_[at + 1].id = ++next_id_;  // the copy
            active_[f].id = stack_[at + 1].id;
            if (skip_from_ == npos) out_.swap_with_next(at);
        }
    }

    void any_other_end_tag(GumboTag tag) {
        for (std::size_t i = stack_.size(); i-- > 0;) {
            const Node& node = stack_[i];
            // gumbo 0.10.1 compares tags by enum: any unknown end tag (</o:p>) closes the nearest
            // unknown element, whatever its name.
            if (node.tag == tag) {
                generate_implied_end_tags(tag);
                while (stack_.size() > i) pop();
                return;
            }
            if (is_special(node.tag)) return;  // ignored
        }
    }

    static bool is_heading(GumboTag t) {
        return t == GUMBO_TAG_H1 || t == GUMBO_TAG_H2 || t == GUMBO_TAG_H3 || t == GUMBO_TAG_H4 ||
               t == GUMBO_TAG_H5 || t == GUMBO_TAG_H6;
    }

    GumboTag current() const { return stack_.empty() ? GUMBO_TAG_LAST : stack_.back().tag; }

    static constexpr std::size_t npos = static_cast<std::size_t>(-1);

    std::size_t index_of(std::uint32_t id) const {
        for (std::size_t i = stack_.size(); i-- > 0;)
            if (stack_[i].id == id) return i;
        return npos;
    }

    bool in_active(std::uint32_t id) const {
        for (const Active& a : active_)
            if (a.id == id) return true;
        return false;
    }

    static bool scope_boundary(GumboTag t, Scope scope) {
        if (t == GUMBO_TAG_HTML || t == GUMBO_TAG_TABLE || t == GUMBO_TAG_TEMPLATE) return true;
        if (scope == Scope::Table) return false;
        if (t == GUMBO_TAG_TD || t == GUMBO_TAG_TH || t == GUMBO_TAG_CAPTION || t == GUMBO_TAG_APPLET ||
            t == GUMBO_TAG_MARQUEE || t == GUMBO_TAG_OBJECT)
            return true;
        if (scope == Scope::Button) return t == GUMBO_TAG_BUTTON;
        if (scope == Scope::ListItem) return t == GUMBO_TAG_OL || t == GUMBO_TAG_UL;
        return false;
    }

    bool in_scope(GumboTag tag, Scope scope) const {
        for (std::size_t i = stack_.size(); i-- > 0;) {
            if (stack_[i].tag == tag) return true;
            if (scope_boundary(stack_[i].tag, scope)) return false;
        }
        return false;
    }

    bool in_scope_any(std::initializer_list<GumboTag> tags, Scope scope) const {
        for (std::size_t i = stack_.size(); i-- > 0;) {
            for (GumboTag t : tags)
                if (stack_[i].tag == t) return true;
            if (scope_boundary(stack_[i].tag, scope)) return false;
        }
        return false;
    }

    bool in_scope_node(std::size_t at, Scope scope) const {
        for (std::size_t i = stack_.size(); i-- > 0;) {
            if (i == at) return true;
            if (scope_boundary(stack_[i].tag, scope)) return false;
        }
        return false;
    }

    // Pops to the nearest of `tags` (or html): "clear the stack back to a table context".
    void clear_to(std::initializer_list<GumboTag> tags) {
        for (;;) {
            const GumboTag c = current();
            if (c == GUMBO_TAG_HTML || c == GUMBO_TAG_LAST) return;
            for (GumboTag t : tags)
                if (c == t) return;
            pop();
        }
    }

    void close_cell() {
        generate_implied_end_tags(GUMBO_TAG_LAST);
        while (current() != GUMBO_TAG_TD && current() != GUMBO_TAG_TH) pop();
        pop();
        clear_active_to_marker();
        mode_ = Mode::InRow;
    }

    void clear_active_to_marker() {
        while (!active_.empty()) {
            const bool marker = active_.back().id == 0;
            active_.pop_back();
            if (marker) return;
        }
    }

    void reset_mode() {
        for (std::size_t i = stack_.size(); i-- > 0;) {
            const GumboTag t = stack_[i].tag;
            const bool last = i == 0;
            if ((t == GUMBO_TAG_TD || t == GUMBO_TAG_TH) && !last) { mode_ = Mode::InCell; return; }
            if (t == GUMBO_TAG_TR) { mode_ = Mode::InRow; return; }
            if (t == GUMBO_TAG_TBODY || t == GUMBO_TAG_THEAD || t == GUMBO_TAG_TFOOT) { mode_ = Mode::InTableBody; return; }
            if (t == GUMBO_TAG_COLGROUP) { mode_ = Mode::InColumnGroup; return; }
            if (t == GUMBO_TAG_TABLE) { mode_ = Mode::InTable; return; }
            if (t == GUMBO_TAG_BODY) { mode_ = Mode::InBody; return; }
            if (t == GUMBO_TAG_HTML || t == GUMBO_TAG_HEAD) throw NotSure{};
            if (last) { mode_ = Mode::InBody; return; }
        }
        throw NotSure{};
    }

    void generate_implied_end_tags(GumboTag except) {
        for (;;) {
            const GumboTag c = current();
            if (c == except) return;
            if (c != GUMBO_TAG_P && c != GUMBO_TAG_LI && c != GUMBO_TAG_DD && c != GUMBO_TAG_DT) return;
            pop();
        }
    }

    void pop_until(GumboTag tag) {
        while (!stack_.empty()) {
            const bool found = stack_.back().tag == tag;
            pop();
            if (found) return;
        }
    }

    void close_p_in_button_scope() {
        if (!in_scope(GUMBO_TAG_P, Scope::Button)) return;
        generate_implied_end_tags(GUMBO_TAG_P);
        pop_until(GUMBO_TAG_P);
    }

    // "Reconstruct the active formatting elements": copies of formatting elements closed too
    // early open again. Followed only while a copy changes nothing in the text (not a link, not
    // hidden): each copy is entered as its tag alone.
    void reconstruct() {
        if (active_.empty()) return;
        if (active_.back().id == 0 || index_of(active_.back().id) != npos) return;
        std::size_t i = active_.size() - 1;
        while (i > 0 && active_[i - 1].id != 0 && index_of(active_[i - 1].id) == npos) --i;
        for (; i < active_.size(); ++i) {
            if (!active_[i].inert) throw NotSure{};
            push(active_[i].tag, {});
            active_[i].id = stack_.back().id;
        }
    }

    void push_formatting(const Tag& t) {
        // Noah's Ark clause (at most three equal entries): not followed.
        int same = 0;
        for (std::size_t i = active_.size(); i-- > 0 && active_[i].id != 0;)
            if (active_[i].tag == t.tag) ++same;
        if (same >= 3) throw NotSure{};
        push(t.tag, t.attrs);
        const bool shows = t.tag == GUMBO_TAG_A || hidden(t.tag, t.attrs);
        active_.push_back({t.tag, stack_.back().id, !shows});
    }

    static bool hidden(GumboTag tag, const Attrs& a) {
        return html_internal::skipped_element(tag, a.hidden, a.style);
    }

    void insert_text(std::string_view t) {
        if (t.empty()) return;
        text_pending_ = true;
        if (skip_from_ == npos) out_.text(t);
    }

    void insert_void(const Tag& t) {
        push(t.tag, t.attrs);
        pop();
    }

    void insert_raw(const Tag& t) {
        push(t.tag, t.attrs);
        raw_ = true;
        raw_name_ = t.name;
    }

    // `silent`: the element and what it holds give no events (a fostered element).
    void push(GumboTag tag, const Attrs& attrs, bool silent = false) {
        if (stack_.size() + 2 > depth_bound_) throw NotSure{};
        text_pending_ = false;
        Node& n = stack_.emplace_back();
        n.tag = tag;
        n.id = ++next_id_;
        if (skip_from_ != npos) return;
        if (silent || hidden(tag, attrs)) {
            skip_from_ = stack_.size() - 1;
            return;
        }
        out_.enter(tag, attrs.href, attrs.alt);
    }

    void pop() {
        if (stack_.empty()) throw NotSure{};
        text_pending_ = false;
        const std::size_t i = stack_.size() - 1;
        if (skip_from_ == npos) out_.leave();
        else if (skip_from_ == i) skip_from_ = npos;
        if (fostered_ == i) fostered_ = npos;
        stack_.pop_back();
        // A raw text element's end tag pops it; the tokenizer is back in data already.
    }

    std::string_view s_;
    std::string_view original_;
    std::size_t lt_count_;
    const HtmlLimits& limits_;
    TextBuilder out_;
    std::size_t depth_bound_;
    Mode mode_ = Mode::Initial;
    enum class DocMode { Quirks, NoQuirks, Unknown } doc_mode_ = DocMode::Quirks;
    std::vector<Node> stack_;
    std::vector<Active> active_;
    std::uint32_t next_id_ = 0;
    std::size_t skip_from_ = npos;  // index in stack_ of the outermost element left out
    std::size_t fostered_ = npos;   // index in stack_ of an open fostered element
    bool ignore_lf_ = false;        // the LF right after <pre>/<textarea> is not content
    bool raw_ = false;              // the last start tag opened a raw text element
    std::string raw_name_;
    bool form_open_ = false;  // HTML's "form element pointer" is set
    std::uint32_t form_id_ = 0;
    bool text_pending_ = false;  // text inserted since the last element was opened or closed
    Tag tag_;
    std::string buf_;
};

}  // namespace

std::optional<std::string> stream_to_text(std::string_view html, const HtmlLimits& limits) {
    if (html.size() > limits.max_input_bytes) html = html.substr(0, limits.max_input_bytes);
    try {
        std::string normalised;
        std::size_t lt_count = 0;
        std::string_view s = check_input(html, normalised, lt_count) ? std::string_view(normalised) : html;
        return Stream(s, html, lt_count, limits).run();
    } catch (const NotSure&) {
        return std::nullopt;
    }
}

}  // namespace ticketd::parsers::html_detail
