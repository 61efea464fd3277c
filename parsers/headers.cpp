#include "parsers/headers.h"

#include <algorithm>
#include <cctype>
#include <deque>
#include <map>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "parsers/charset.h"
#include "parsers/textutil.h"
#include "parsers/transfer.h"

namespace ticketd::parsers {

std::string ascii_lower(std::string_view s) {
    // Eight bytes at a time (text::lower): every field name of every part is lower-cased.
    return text::lower(s);
}

std::string_view trim(std::string_view s) {
    // By hand: find_first_not_of looks each byte up in the set with a call (trim runs on every
    // header value and parameter).
    auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
    while (!s.empty() && blank(s.front())) s.remove_prefix(1);
    while (!s.empty() && blank(s.back())) s.remove_suffix(1);
    return s;
}

bool is_decoded_header_text(std::string_view s) {
    // The three tests (an encoded word's "=?", an ISO-2022-JP escape, valid UTF-8) read every
    // header value three times; ASCII without ESC (nearly every value) is answered in one pass,
    // sixteen bytes at a time, and anything else by the three tests.
    auto three_tests = [](std::string_view v) {
        return v.find("=?") == std::string_view::npos && !looks_like_iso2022jp(v) && is_valid_utf8(v);
    };
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    const std::size_t n = s.size();
    std::size_t i = 0;
#if defined(__SSE2__)
    const __m128i eq = _mm_set1_epi8('='), esc = _mm_set1_epi8('\x1b');
    for (; i + 16 <= n; i += 16) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
        // High bit: an 8-bit byte; ESC: a possible ISO-2022-JP escape.
        if (_mm_movemask_epi8(_mm_or_si128(v, _mm_cmpeq_epi8(v, esc)))) return three_tests(s);
        for (unsigned eqs = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, eq))); eqs; eqs &= eqs - 1) {
            const std::size_t at = i + static_cast<std::size_t>(__builtin_ctz(eqs));
            if (at + 1 < n && p[at + 1] == '?') return false;
        }
    }
#endif
    for (; i < n; ++i) {
        if (p[i] >= 0x80 || p[i] == 0x1b) return three_tests(s);
        if (p[i] == '=' && i + 1 < n && p[i + 1] == '?') return false;
    }
    return true;
}

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

struct EncodedWord {
    std::size_t end = 0;  // one past "?="
    std::string charset;
    std::string bytes;
};

/// Parse "=?charset?E?text?=" at `pos`. Tolerates spaces inside the text (a common mailer
/// bug) but not across another "=?" start, and a missing "?=" at the very end of the value.
std::optional<EncodedWord> parse_encoded_word(std::string_view s, std::size_t pos) {
    if (s.compare(pos, 2, "=?") != 0) return std::nullopt;
    const std::size_t cs_begin = pos + 2;
    const std::size_t q1 = s.find('?', cs_begin);
    if (q1 == std::string_view::npos || q1 == cs_begin || q1 - cs_begin > 64) return std::nullopt;
    std::string_view cs = s.substr(cs_begin, q1 - cs_begin);
    if (cs.find_first_of(" \t\r\n\"(),;<>") != std::string_view::npos) return std::nullopt;
    if (q1 + 2 >= s.size() || s[q1 + 2] != '?') return std::nullopt;
    const char enc = s[q1 + 1];
    if (enc != 'B' && enc != 'b' && enc != 'Q' && enc != 'q') return std::nullopt;
    const std::size_t text_begin = q1 + 3;
    std::size_t text_end = s.find("?=", text_begin);
    std::size_t end;
    if (text_end == std::string_view::npos) {
        // Unterminated word at the end of the field: accept if no blank follows.
        if (s.substr(text_begin).find_first_of(" \t") != std::string_view::npos) return std::nullopt;
        text_end = s.size();
        end = s.size();
    } else {
        end = text_end + 2;
    }
    std::string_view text = s.substr(text_begin, text_end - text_begin);
    if (text.find("=?") != std::string_view::npos && text.find("=?") != text.find("=?=")) {
        // Another word starts inside: this one is broken. Do not swallow its neighbour.
        return std::nullopt;
    }
    EncodedWord w;
    w.end = end;
    w.charset = std::string(cs);
    if (enc == 'B' || enc == 'b') {
        w.bytes = decode_base64(text).data;
    } else {
        w.bytes = decode_q(text);
    }
    return w;
}

}  // namespace

std::string decode_rfc2047(std::string_view s) {
    if (s.find("=?") == std::string_view::npos) return sanitize_utf8(s);
    std::string out;
    std::string pending_bytes, pending_cs;  // adjacent words of one charset, joined before conversion
    auto flush = [&] {
        if (!pending_cs.empty() || !pending_bytes.empty()) out += to_utf8(pending_bytes, pending_cs).text;
        pending_bytes.clear();
        pending_cs.clear();
    };
    std::size_t pos = 0, literal_begin = 0;
    bool last_was_word = false;
    while (pos < s.size()) {
        const std::size_t at = s.find("=?", pos);
        if (at == std::string_view::npos) break;
        auto w = parse_encoded_word(s, at);
        if (!w) {
            pos = at + 2;
            continue;
        }
        std::string_view between = s.substr(literal_begin, at - literal_begin);
        const bool only_space =
            std::all_of(between.begin(), between.end(), [](char c) { return is_space(c); });
        if (!(last_was_word && only_space)) {
            flush();
            out += sanitize_utf8(between);
        }
        const std::string cs = ascii_lower(w->charset);
        if (!pending_bytes.empty() && cs != pending_cs) flush();
        pending_cs = cs;
        pending_bytes += w->bytes;
        pos = literal_begin = w->end;
        last_was_word = true;
    }
    flush();
    out += sanitize_utf8(s.substr(std::min(literal_begin, s.size())));
    return out;
}

namespace {

std::string percent_decode(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
            out.push_back(static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2])));
            i += 2;
        } else {
            out.push_back(s[i]);
        }
    }
    return out;
}

/// A quoted-string's content, backslash escapes removed. `s` starts after the opening quote;
/// `consumed` gets the length including the closing quote (missing quote: to the end).
std::string read_quoted(std::string_view s, std::size_t& consumed) {
    // Runs of plain bytes are appended whole (from `run` up to the byte that ends them): a byte
    // at a time was ~700 instructions a quoted value.
    std::string out;
    std::size_t run = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        if (c == '\\') {
            if (i + 1 >= s.size()) break;  // a backslash at the very end is kept as a byte
            out.append(s.substr(run, i - run));
            out.push_back(s[++i]);
            run = i + 1;
        } else if (c == '"') {
            out.append(s.substr(run, i - run));
            consumed = i + 1;
            return out;
        } else if (c == '\r' || c == '\n') {
            out.append(s.substr(run, i - run));
            run = i + 1;
        }
    }
    out.append(s.substr(run));
    consumed = s.size();
    return out;
}

/// Strip a value as a MIME library may hand it over: surrounding quotes, trailing comment.
std::string clean_param_value(std::string_view v) {
    v = trim(v);
    if (!v.empty() && v.front() == '"') {
        std::size_t used = 0;
        return read_quoted(v.substr(1), used);
    }
    // unquoted value: a trailing "(comment)" is not part of it
    if (const auto paren = v.find('('); paren != std::string_view::npos && paren > 0 && v.back() == ')')
        v = trim(v.substr(0, paren));
    return std::string(v);
}

/// decode_rfc2047 of a string the caller gives away: returned itself, not copied, when it is
/// its own decoded form (no encoded word, no ISO-2022-JP escape, valid UTF-8), which is what
/// decode_rfc2047 (through sanitize_utf8) would copy it for. Parameter values (a boundary, a
/// file name) are mostly longer than the 15 bytes a string holds without an allocation.
std::string decode_rfc2047_owned(std::string s) {
    if (is_decoded_header_text(s)) return s;
    return decode_rfc2047(s);
}

/// A list without RFC 2231 pieces (no '*' in a name): each name's first value, in first-seen
/// order, RFC 2047-decoded, without fold_params's maps (they were most of the cost of reading a
/// Content-Type, which happens for every part). `unquoted(item)` is the item's value as meant.
template <class Items, class NameOf, class Unquoted>
Params first_value_of_each(const Items& items, NameOf name_of, Unquoted unquoted) {
    Params out;
    out.reserve(items.size());
    for (const auto& item : items) {
        std::string name = ascii_lower(trim(name_of(item)));
        if (name.empty()) continue;
        if (std::any_of(out.begin(), out.end(), [&](const auto& kv) { return kv.first == name; })) continue;
        out.emplace_back(std::move(name), decode_rfc2047_owned(unquoted(item)));
    }
    return out;
}

/// fold_params over (name, value) pairs of strings or of views.
template <class Pairs>
Params fold_params_of(const Pairs& raw) {
    struct Segment {
        int index;
        bool encoded;
        std::string value;
    };
    // Most parameter lists have no RFC 2231 piece.
    if (std::none_of(raw.begin(), raw.end(),
                     [](const auto& p) { return std::string_view(p.first).find('*') != std::string_view::npos; }))
        return first_value_of_each(
            raw, [](const auto& p) -> std::string_view { return p.first; },
            [](const auto& p) { return clean_param_value(p.second); });
    // Keep first-seen order of names; 2231 pieces grouped by their base name.
    std::vector<std::string> order;
    std::map<std::string, std::string> plain;
    std::map<std::string, std::vector<Segment>> extended;
    for (const auto& [rawname, rawvalue] : raw) {
        std::string name = ascii_lower(trim(rawname));
        if (name.empty()) continue;
        const auto star = name.find('*');
        if (star == std::string::npos) {
            if (!plain.count(name)) {
                plain[name] = std::string(rawvalue);
                if (!extended.count(name)) order.push_back(name);
            }
            continue;
        }
        std::string base = name.substr(0, star);
        std::string rest = name.substr(star + 1);  // "", "0", "0*", "1", ...
        Segment seg{0, false, std::string(rawvalue)};
        if (rest.empty()) {
            seg.encoded = true;
        } else {
            if (rest.back() == '*') {
                seg.encoded = true;
                rest.pop_back();
            }
            if (rest.empty() || !std::all_of(rest.begin(), rest.end(), ::isdigit) || rest.size() > 4) continue;
            seg.index = std::stoi(rest);
        }
        if (!plain.count(base) && !extended.count(base)) order.push_back(base);
        extended[base].push_back(std::move(seg));
    }
    Params out;
    for (const auto& name : order) {
        auto ext = extended.find(name);
        if (ext == extended.end()) {
            out.emplace_back(name, decode_rfc2047_owned(clean_param_value(plain[name])));
            continue;
        }
        auto segs = ext->second;
        std::stable_sort(segs.begin(), segs.end(), [](const Segment& a, const Segment& b) { return a.index < b.index; });
        std::string charset, bytes;
        bool any_encoded = false;
        for (std::size_t i = 0; i < segs.size(); ++i) {
            std::string v = clean_param_value(segs[i].value);
            if (segs[i].encoded) {
                if (i == 0) {
                    // charset'language'value; quotes missing means no charset was given.
                    const auto q1 = v.find('\'');
                    const auto q2 = q1 == std::string::npos ? std::string::npos : v.find('\'', q1 + 1);
                    if (q2 != std::string::npos) {
                        charset = v.substr(0, q1);
                        v = v.substr(q2 + 1);
                    }
                }
                any_encoded = true;
                bytes += percent_decode(v);
            } else {
                bytes += v;
            }
        }
        std::string value;
        if (any_encoded && !charset.empty()) value = to_utf8(bytes, charset).text;
        else value = decode_rfc2047_owned(std::move(bytes));
        out.emplace_back(name, std::move(value));
    }
    return out;
}

}  // namespace

Params fold_params(const std::vector<std::pair<std::string, std::string>>& raw) { return fold_params_of(raw); }

Params fold_params(std::span<const std::pair<std::string_view, std::string_view>> raw) { return fold_params_of(raw); }

Params fold_params_only(std::span<const std::pair<std::string_view, std::string_view>> raw,
                        std::initializer_list<std::string_view> names) {
    auto wanted = [&](std::string_view name) {
        return std::find(names.begin(), names.end(), name) != names.end();
    };
    Params out;
    if (std::any_of(raw.begin(), raw.end(), [](const auto& p) { return p.first.find('*') != std::string_view::npos; })) {
        // RFC 2231 pieces: folded whole, as fold_params does, then the wanted ones kept.
        for (auto& kv : fold_params_of(raw))
            if (wanted(kv.first)) out.push_back(std::move(kv));
        return out;
    }
    // first_value_of_each for the wanted names only: the first value of each, in first-seen order.
    for (const auto& [rawname, rawvalue] : raw) {
        const std::string_view name = trim(rawname);
        const std::string_view* hit = nullptr;
        for (const auto& n : names)
            if (text::iequals(name, n)) hit = &n;
        if (!hit || std::any_of(out.begin(), out.end(), [&](const auto& kv) { return kv.first == *hit; })) continue;
        out.emplace_back(std::string(*hit), decode_rfc2047_owned(clean_param_value(rawvalue)));
    }
    return out;
}

std::string_view param_view(const Params& p, std::string_view name) {
    for (const auto& [k, v] : p)
        if (k == name) return v;
    return {};
}

Params parse_params(std::string_view s) {
    struct Item {
        std::string_view name;  // trimmed, as written
        std::string value;      // a quoted string's content, else the trimmed bytes
        bool quoted = false;
    };
    std::vector<Item> items;
    bool any_star = false;
    std::size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && (is_space(s[i]) || s[i] == ';')) ++i;
        if (i >= s.size()) break;
        const std::size_t name_begin = i;
        while (i < s.size() && s[i] != '=' && s[i] != ';') ++i;
        std::string_view name = trim(s.substr(name_begin, i - name_begin));
        if (i >= s.size() || s[i] == ';') {
            continue;  // a bare word without '=': nothing to keep
        }
        ++i;  // '='
        while (i < s.size() && is_space(s[i])) ++i;
        Item item;
        item.name = name;
        if (i < s.size() && s[i] == '"') {
            std::size_t used = 0;
            item.value = read_quoted(s.substr(i + 1), used);
            item.quoted = true;
            i += 1 + used;
            while (i < s.size() && s[i] != ';') ++i;  // junk after the closing quote
        } else {
            const std::size_t vb = i;
            while (i < s.size() && s[i] != ';') ++i;
            item.value = std::string(trim(s.substr(vb, i - vb)));
        }
        any_star = any_star || name.find('*') != std::string_view::npos;
        items.push_back(std::move(item));
    }
    if (!any_star) {
        // What fold_params does with such a list, without re-quoting each quoted value to
        // unquote it again. That second reading dropped every CR and LF, including one that
        // followed a backslash (which read_quoted keeps): dropped here too, so a folded
        // "C:\<LF> x.doc" stays "C:x.doc".
        return first_value_of_each(
            items, [](const Item& item) { return item.name; },
            [](const Item& item) {
                if (!item.quoted) return clean_param_value(item.value);
                std::string v = item.value;
                std::erase_if(v, [](char c) { return c == '\r' || c == '\n'; });
                return v;
            });
    }
    std::vector<std::pair<std::string, std::string>> raw;
    raw.reserve(items.size());
    for (const auto& item : items) {
        std::string value;
        if (item.quoted) {
            // re-quoted so that clean_param_value treats it as one quoted string
            value = "\"";
            for (char c : item.value) {
                if (c == '"' || c == '\\') value.push_back('\\');
                value.push_back(c);
            }
            value.push_back('"');
        } else {
            value = item.value;
        }
        raw.emplace_back(std::string(item.name), std::move(value));
    }
    return fold_params(raw);
}

std::string param(const Params& p, std::string_view name) {
    for (const auto& [k, v] : p)
        if (k == name) return v;
    return {};
}

ContentTypeValue parse_content_type(std::string_view value, bool with_params) {
    ContentTypeValue ct;
    const auto semi = value.find(';');
    std::string_view head = trim(value.substr(0, semi));
    // "text/plain (comment)"
    if (const auto paren = head.find('('); paren != std::string_view::npos) head = trim(head.substr(0, paren));
    const auto slash = head.find('/');
    if (slash != std::string_view::npos) {
        ct.type = ascii_lower(trim(head.substr(0, slash)));
        ct.subtype = ascii_lower(trim(head.substr(slash + 1)));
        // "text/plain charset=us-ascii" (missing ';'): the subtype is the first word
        if (const auto sp = ct.subtype.find_first_of(" \t"); sp != std::string::npos) {
            if (with_params) ct.params = parse_params(std::string_view(ct.subtype).substr(sp));
            ct.subtype.resize(sp);
        }
    } else {
        ct.type = ascii_lower(head);
    }
    if (semi != std::string_view::npos && with_params) {
        auto more = parse_params(value.substr(semi + 1));
        ct.params.insert(ct.params.end(), more.begin(), more.end());
    }
    return ct;
}

// ---------------------------------------------------------------- addresses

namespace {

struct Tok {
    enum Kind { word, quoted, comment, angle, comma, semicolon, colon } kind;
    /// A view of the value, or of a string in the list's `unescaped` (a quoted string or comment
    /// with a backslash or a line end): nearly every token is its bytes as written, not a copy.
    std::string_view text;
    bool space_before = false;
};

/// `unescaped`: where the few tokens whose text differs from their bytes keep it (a deque: its
/// strings never move, so views of them stay valid).
std::vector<Tok> tokenize_addresses(std::string_view s, std::deque<std::string>& unescaped) {
    std::vector<Tok> toks;
    // About one token per four bytes in an address list: one allocation for most values.
    toks.reserve(s.size() / 4 + 2);
    std::size_t i = 0;
    bool space = false;
    while (i < s.size()) {
        const char c = s[i];
        if (is_space(c)) {
            space = true;
            ++i;
            continue;
        }
        Tok t{Tok::word, {}, space};
        space = false;
        if (c == '"') {
            t.kind = Tok::quoted;
            const std::string_view rest = s.substr(i + 1);
            const std::size_t stop = rest.find_first_of("\\\"\r\n");
            if (stop != std::string_view::npos && rest[stop] == '"') {
                // Nothing to unescape (read_quoted would copy the bytes as they are).
                t.text = rest.substr(0, stop);
                i += 2 + stop;
            } else {
                std::size_t used = 0;
                unescaped.push_back(read_quoted(rest, used));
                t.text = unescaped.back();
                i += 1 + used;
            }
        } else if (c == '(') {
            int depth = 0;
            std::size_t j = i;
            bool escaped = false;
            std::string text;
            for (; j < s.size(); ++j) {
                if (s[j] == '\\' && j + 1 < s.size()) {
                    if (!escaped) text.assign(s.substr(i + 1, j - i - 1));
                    escaped = true;
                    if (depth > 0) text.push_back(s[j + 1]);
                    ++j;
                    continue;
                }
                if (s[j] == '(') {
                    if (depth++ > 0 && escaped) text.push_back('(');
                } else if (s[j] == ')') {
                    if (--depth == 0) break;
                    if (escaped) text.push_back(')');
                } else if (escaped) {
                    text.push_back(s[j]);
                }
            }
            // Without a backslash the text is every byte between the outer parentheses.
            if (escaped) {
                unescaped.push_back(std::move(text));
                t.text = unescaped.back();
            } else {
                t.text = s.substr(i + 1, std::min(j, s.size()) - i - 1);
            }
            t.kind = Tok::comment;
            i = j + 1;
        } else if (c == '<') {
            std::size_t j = s.find('>', i + 1);
            if (j == std::string_view::npos) j = s.size();
            t.kind = Tok::angle;
            t.text = s.substr(i + 1, j - i - 1);
            i = j + 1;
        } else if (c == ',') {
            t.kind = Tok::comma;
            ++i;
        } else if (c == ';') {
            t.kind = Tok::semicolon;
            ++i;
        } else if (c == ':') {
            t.kind = Tok::colon;
            ++i;
        } else {
            std::size_t j = i;
            while (j < s.size() && !is_space(s[j]) && s[j] != '"' && s[j] != '(' && s[j] != '<' && s[j] != ',' &&
                   s[j] != ';' && s[j] != ':' && s[j] != '>')
                ++j;
            if (j == i) ++j;  // a stray '>'
            t.text = s.substr(i, j - i);
            i = j;
        }
        toks.push_back(t);
    }
    return toks;
}

std::string collapse_spaces(std::string_view s) {
    std::string out;
    bool sp = false;
    for (char c : s) {
        if (is_space(c)) {
            sp = !out.empty();
            continue;
        }
        if (sp) out.push_back(' ');
        sp = false;
        out.push_back(c);
    }
    return out;
}

/// sanitize_utf8 in place: it would copy a clean value as it is (nearly every id and address).
void sanitize_in_place(std::string& s) {
    if (looks_like_iso2022jp(s) || !is_valid_utf8(s)) s = sanitize_utf8(s);
}

std::string clean_addr_spec(std::string_view a) {
    std::string s;
    if (std::find_if(a.begin(), a.end(), [](char c) { return is_space(c); }) == a.end()) {
        s.assign(a);  // nearly every address: copied whole
    } else {
        for (char c : a)
            if (!is_space(c)) s.push_back(c);
    }
    // obsolete source route "@a,@b:user@host"
    if (!s.empty() && s[0] == '@') {
        if (const auto colon = s.find(':'); colon != std::string::npos) s = s.substr(colon + 1);
    }
    if (s.size() >= 2 && s.front() == '"' && s.back() == '"' && s.find('@') == std::string::npos)
        s = s.substr(1, s.size() - 2);
    return s;
}

/// A display name as the address reader gives it: collapse_spaces(decode_rfc2047(name)) without
/// its outer quotes. `name` is trimmed and not empty. A name that is its own decoded form with
/// single spaces only (nearly every one) is copied once, not three times.
std::string display_name(std::string_view name) {
    std::string out;
    const bool single_spaced = name.find_first_of("\t\r\n") == std::string_view::npos &&
                               name.find("  ") == std::string_view::npos;
    if (single_spaced && is_decoded_header_text(name)) out.assign(name);
    else out = collapse_spaces(decode_rfc2047(name));
    if (out.size() >= 2 && out.front() == '"' && out.back() == '"') {
        out.pop_back();
        out.erase(0, 1);
    }
    return out;
}

}  // namespace

std::vector<Address> parse_address_list(std::string_view value) {
    std::vector<Address> out;
    std::deque<std::string> unescaped;
    const auto toks = tokenize_addresses(value, unescaped);
    // At most one mailbox per comma, semicolon or angle address, plus one: no regrowing.
    std::size_t most = 1;
    for (const Tok& t : toks) most += t.kind == Tok::comma || t.kind == Tok::semicolon || t.kind == Tok::angle;
    out.reserve(most);
    std::vector<const Tok*> phrase;
    phrase.reserve(toks.size());
    // Tokens in `phrase` outside quotes that hold an '@': counted as they come, so that a colon
    // does not scan the whole phrase again (quadratic on a long folded field; found by
    // fuzz_skeleton: a 64 KB To took 22 ms).
    std::size_t phrase_at = 0;
    auto add_to_phrase = [&](const Tok* t) {
        phrase.push_back(t);
        if (t->kind != Tok::quoted && t->text.find('@') != std::string_view::npos) ++phrase_at;
    };
    auto clear_phrase = [&] {
        phrase.clear();
        phrase_at = 0;
    };
    std::string_view first_comment;  // the text of a token in `toks`
    bool have_comment = false;
    std::string_view angle;  // the text of a token in `toks`
    bool have_angle = false;
    std::string joined;      // the phrase's text when it is more than one token
    auto finish = [&] {
        // The phrase: words joined as written; encoded words decoded across the whole phrase.
        // One token (the usual "Name" or quoted name) is its text as it stands.
        std::string_view phrase_text;
        if (phrase.size() == 1 && phrase.front()->kind != Tok::colon) {
            phrase_text = phrase.front()->text;
        } else if (!phrase.empty()) {
            joined.clear();
            for (const Tok* t : phrase) {
                if (!joined.empty() && t->space_before) joined.push_back(' ');
                if (t->kind == Tok::colon) joined += ":";
                else joined += t->text;
            }
            phrase_text = joined;
        }
        std::string_view name;
        Address a;
        if (have_angle) {
            a.address = clean_addr_spec(angle);
            name = phrase_text;
            if (trim(name).empty() && have_comment) name = first_comment;
            // "Name <>": keep the mailbox out, there is no address to reply to
        } else {
            // addr-spec alone; a quoted-string local part keeps its quotes off
            bool has_at = false;
            for (const Tok* t : phrase)
                if (t->text.find('@') != std::string_view::npos) has_at = true;
            if (has_at) {
                if (phrase.size() == 1) {
                    a.address = clean_addr_spec(phrase.front()->text);
                } else {
                    std::string spec;
                    for (const Tok* t : phrase) spec += t->text;
                    a.address = clean_addr_spec(spec);
                }
                if (have_comment) name = first_comment;
            } else if (!phrase.empty()) {
                // No address at all ("Whomever", "Undisclosed recipients"): a name, no mailbox.
                name = phrase_text;
            }
        }
        name = trim(name);
        if (!name.empty()) a.name = display_name(name);
        sanitize_in_place(a.address);
        if (!a.address.empty() || !a.name.empty()) out.push_back(std::move(a));
        clear_phrase();
        have_comment = false;
        first_comment = {};
        angle = {};
        have_angle = false;
    };
    for (std::size_t i = 0; i < toks.size(); ++i) {
        const Tok& t = toks[i];
        switch (t.kind) {
            case Tok::comma:
                finish();
                break;
            case Tok::semicolon:
                finish();
                break;
            case Tok::colon: {
                // "group: a, b;" — the phrase before it is the group name, dropped.
                // A colon inside an angle-less addr-spec is not legal anyway.
                if (!have_angle && phrase_at == 0) {
                    clear_phrase();
                    have_comment = false;
                    first_comment = {};
                } else {
                    add_to_phrase(&t);
                }
                break;
            }
            case Tok::angle:
                if (have_angle) {
                    // Two angle addresses without a comma: two mailboxes.
                    finish();
                }
                angle = t.text;
                have_angle = true;
                break;
            case Tok::comment:
                if (!have_comment) first_comment = t.text;
                have_comment = true;
                break;
            case Tok::word:
            case Tok::quoted:
                if (have_angle) {
                    // Text after "<addr>" without a comma: the start of another mailbox if it
                    // looks like one, else trailing junk that belongs to the name.
                    if (t.kind == Tok::word && t.text.find('@') != std::string_view::npos) {
                        finish();
                    }
                }
                add_to_phrase(&t);
                break;
        }
    }
    finish();
    return out;
}

std::vector<std::string> parse_msg_ids(std::string_view value) {
    std::vector<std::string> ids;
    std::size_t i = 0;
    bool any_angle = value.find('<') != std::string_view::npos;
    if (any_angle) {
        // At most one id per '<': a References chain is not regrown id by id.
        ids.reserve(static_cast<std::size_t>(std::count(value.begin(), value.end(), '<')));
        while ((i = value.find('<', i)) != std::string_view::npos) {
            std::size_t e = value.find('>', i + 1);
            if (e == std::string_view::npos) e = value.size();
            const std::string_view inside = value.substr(i + 1, e - i - 1);
            std::string id;
            if (std::find_if(inside.begin(), inside.end(), [](char c) { return is_space(c); }) == inside.end()) {
                id.assign(inside);  // nearly every id: copied whole
            } else {
                for (char c : inside)
                    if (!is_space(c)) id.push_back(c);
            }
            if (!id.empty()) {
                sanitize_in_place(id);
                ids.push_back(std::move(id));
            }
            i = e;
        }
        return ids;
    }
    // No brackets: blank- or comma-separated ids; comments dropped.
    std::string cur;
    int depth = 0;
    for (char c : value) {
        if (c == '(') {
            ++depth;
            continue;
        }
        if (c == ')' && depth > 0) {
            --depth;
            continue;
        }
        if (depth > 0) continue;
        if (is_space(c) || c == ',') {
            if (!cur.empty()) {
                sanitize_in_place(cur);
                ids.push_back(std::move(cur));
            }
            cur.clear();
        } else {
            cur.push_back(c);
        }
    }
    if (!cur.empty()) {
        sanitize_in_place(cur);
        ids.push_back(std::move(cur));
    }
    return ids;
}

// ---------------------------------------------------------------- dates

namespace {

// Names as views (a comparison is a length check first, no strlen): every Date field reads
// a month name, and each word after the time is tried as a zone.
int month_from_name(std::string_view w) {
    static constexpr std::string_view names[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                                 "jul", "aug", "sep", "oct", "nov", "dec"};
    if (w.size() < 3) return 0;
    const std::string l = ascii_lower(w.substr(0, 3));
    for (int i = 0; i < 12; ++i)
        if (l == names[i]) return i + 1;
    return 0;
}

std::optional<int> zone_from_name(std::string_view w) {
    const std::string l = ascii_lower(w);
    struct Z {
        std::string_view n;
        int minutes;
    };
    static constexpr Z zones[] = {{"ut", 0},        {"utc", 0},       {"gmt", 0},       {"z", 0},         {"est", -5 * 60},
                              {"edt", -4 * 60}, {"cst", -6 * 60}, {"cdt", -5 * 60}, {"mst", -7 * 60}, {"mdt", -6 * 60},
                              {"pst", -8 * 60}, {"pdt", -7 * 60}, {"cet", 60},      {"cest", 120},    {"met", 60},
                              {"mest", 120},    {"bst", 60},      {"eet", 120},     {"eest", 180},    {"jst", 540},
                              {"hkt", 480},     {"ist", 330},     {"wet", 0},       {"west", 60}};
    for (const auto& z : zones)
        if (l == z.n) return z.minutes;
    // RFC 5322 4.3: military zones are unreliable ("should be considered equivalent to -0000").
    if (l.size() == 1 && l[0] >= 'a' && l[0] <= 'z' && l[0] != 'j') return 0;
    return std::nullopt;
}

}  // namespace

std::optional<std::chrono::sys_seconds> parse_date(std::string_view value) {
    // Tokens: runs of letters, runs of digits (with ':' kept inside times), and signs.
    int day = -1, month = 0, year = -1, hh = -1, mm = -1, ss = 0;
    int zone_min = 0;
    bool zone_set = false;
    std::size_t i = 0;
    const std::size_t n = value.size();
    while (i < n) {
        const char c = value[i];
        if (c == '(') {  // comment, e.g. "(PDT)": the numeric zone already says it
            int depth = 0;
            for (; i < n; ++i) {
                if (value[i] == '(') ++depth;
                else if (value[i] == ')' && --depth == 0) break;
            }
            ++i;
            continue;
        }
        if (std::isalpha(static_cast<unsigned char>(c))) {
            std::size_t j = i;
            while (j < n && std::isalpha(static_cast<unsigned char>(value[j]))) ++j;
            std::string_view w = value.substr(i, j - i);
            // Day names share no three-letter prefix with month names, so the first word that
            // starts like a month is the month ("Oct", "October").
            if (const int m = month_from_name(w); m && month == 0) {
                month = m;
            } else if (hh >= 0 && !zone_set) {
                if (auto z = zone_from_name(w)) {
                    zone_min = *z;
                    zone_set = true;
                }
            }
            i = j;
            continue;
        }
        if ((c == '+' || c == '-') && i + 1 < n && std::isdigit(static_cast<unsigned char>(value[i + 1])) && hh >= 0 &&
            !zone_set) {
            std::size_t j = i + 1;
            int v = 0, digits = 0;
            while (j < n && std::isdigit(static_cast<unsigned char>(value[j])) && digits < 4) {
                v = v * 10 + (value[j] - '0');
                ++j;
                ++digits;
            }
            if (digits == 4 || digits == 3) {
                const int mins = (v / 100) * 60 + v % 100;
                zone_min = c == '-' ? -mins : mins;
            } else if (digits <= 2) {
                zone_min = (c == '-' ? -v : v) * 60;
            }
            zone_set = true;
            i = j;
            continue;
        }
        if (std::isdigit(static_cast<unsigned char>(c))) {
            std::size_t j = i;
            int v = 0, digits = 0;
            while (j < n && std::isdigit(static_cast<unsigned char>(value[j]))) {
                if (digits < 9) v = v * 10 + (value[j] - '0');
                ++j;
                ++digits;
            }
            if (j < n && value[j] == ':' && hh < 0) {
                // time: hh:mm[:ss]
                hh = v;
                ++j;
                int m = 0, md = 0;
                while (j < n && std::isdigit(static_cast<unsigned char>(value[j]))) {
                    if (md < 9) m = m * 10 + (value[j] - '0');  // a hostile run of digits must not overflow
                    ++j;
                    ++md;
                }
                mm = md ? m : 0;
                if (j < n && value[j] == ':') {
                    ++j;
                    int sv = 0, sd = 0;
                    while (j < n && std::isdigit(static_cast<unsigned char>(value[j]))) {
                        if (sd++ < 9) sv = sv * 10 + (value[j] - '0');
                        ++j;
                    }
                    ss = sv;
                }
                // fractional seconds
                if (j < n && value[j] == '.')
                    for (++j; j < n && std::isdigit(static_cast<unsigned char>(value[j])); ++j) {
                    }
            } else if (day < 0 && digits <= 2 && month == 0 && year < 0) {
                day = v;
            } else if (day < 0 && digits <= 2 && month != 0 && year < 0) {
                day = v;  // "Oct 7 1994" style
            } else if (year < 0 && (digits == 4 || digits == 2 || digits == 3)) {
                year = v;
            } else if (day < 0 && digits <= 2) {
                day = v;
            }
            i = j;
            continue;
        }
        ++i;
    }
    if (day < 1 || day > 31 || month == 0 || year < 0 || hh < 0 || hh > 24 || mm < 0 || mm > 59 || ss > 60)
        return std::nullopt;
    // RFC 5322 4.3: two-digit years 00-49 are 2000s, 50-99 1900s; three digits add 1900.
    if (year < 50) year += 2000;
    else if (year < 100) year += 1900;
    else if (year < 1000) year += 1900;
    using namespace std::chrono;
    const year_month_day ymd{std::chrono::year{year}, std::chrono::month{static_cast<unsigned>(month)},
                             std::chrono::day{static_cast<unsigned>(day)}};
    if (!ymd.ok()) return std::nullopt;
    sys_seconds t = sys_days{ymd} + hours{hh} + minutes{mm} + seconds{std::min(ss, 59)};
    t -= minutes{zone_min};
    return t;
}

std::string format_iso8601(std::chrono::sys_seconds t) {
    using namespace std::chrono;
    const auto dp = floor<days>(t);
    const year_month_day ymd{dp};
    const hh_mm_ss hms{t - dp};
    char buf[40];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                  static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                  static_cast<int>(hms.seconds().count()));
    return buf;
}

}  // namespace ticketd::parsers
