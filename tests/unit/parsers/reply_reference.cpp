// The reply split as it was before its lines were normalised once for all tests (parsers/reply.cpp
// at a4d8de1, verbatim but for this namespace): the reference the generated-input test holds the
// fast split to. Test-only code; do not "fix" it without fixing reply.cpp the same way.

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <string>
#include <vector>

#include "parsers/body.h"

namespace ticketd::parsers::reference {
namespace {

// What normalise_into does with each byte: most bytes are copied as they are (one table load
// and one test per byte instead of a chain of comparisons).
enum : unsigned char { kCopy = 0, kUpper, kBlank, kDrop, kLead };
constexpr std::array<unsigned char, 256> kNormalise = [] {
    std::array<unsigned char, 256> t{};
    for (int c = 'A'; c <= 'Z'; ++c) t[c] = kUpper;
    t[' '] = t['\t'] = t['\r'] = kBlank;
    t['*'] = kDrop;
    t[0xC2] = t[0xE2] = t[0xEF] = kLead;  // may start U+00A0, U+202F or U+FF1A
    return t;
}();

// Lower-case ASCII, non-breaking spaces to spaces, full-width colons to ':', runs of blanks to one, '*' and '_' (bold
// and underline as plain-text clients render HTML) dropped, ends trimmed. Written into `r` (a buffer the caller
// reuses: this runs on most lines of every body) and stopped once `r` holds `cap` bytes: the output only grows, so
// a capped result is a prefix of the whole one, which is all a starts-with test needs. True when complete.
// Case folding is ASCII only (std::tolower is locale-dependent per byte and cost a libc call per byte).
bool normalise_into(std::string_view s, std::string& r, std::size_t cap = std::string::npos) {
    // The output is never longer than the input (each byte written consumes at least one, a
    // space stands for the blanks before it): write through a pointer, trim at the end.
    r.resize(std::min(s.size(), cap));
    char* out = r.data();
    std::size_t len = 0;
    bool complete = true;
    bool space = false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        const unsigned char k = kNormalise[c];
        if (k == kCopy && !space && len < cap) {
            out[len++] = static_cast<char>(c);
            continue;
        }
        bool blank = false;
        if (k == kDrop) {
            continue;
        } else if (k == kBlank) {
            blank = true;
        } else if (k == kUpper || k == kCopy) {
            // written below
        } else if (c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0xA0) {
            blank = true;
            ++i;
        } else if (c == 0xE2 && i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
                   static_cast<unsigned char>(s[i + 2]) == 0xAF) {
            blank = true;
            i += 2;
        } else if (c == 0xEF && i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0xBC &&
                   static_cast<unsigned char>(s[i + 2]) == 0x9A) {  // CJK full-width colon
            i += 2;
            c = ':';
        }
        if (blank) {
            space = len > 0;
            continue;
        }
        if (len >= cap) {
            complete = false;
            break;
        }
        if (space) {
            out[len++] = ' ';
            if (len >= cap) {
                complete = false;
                break;
            }
        }
        space = false;
        out[len++] = static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
    }
    r.resize(len);
    return complete;
}

std::string normalise(std::string_view s) {
    std::string r;
    r.reserve(s.size());
    normalise_into(s, r);
    return r;
}

// A thread's reusable buffer for normalise_into (parse() runs on any thread).
std::string& scratch() {
    thread_local std::string buf;
    return buf;
}

// Whether normalise(raw) can end with ':': its last byte that normalise does not drop (blanks,
// '*', the bytes of U+00A0 and U+202F) is ':' or the last byte of U+FF1A. A necessary
// condition, true for some lines that then fail the full test; it spares most lines the copy.
bool may_end_with_colon(std::string_view raw) {
    for (std::size_t i = raw.size(); i-- > 0;) {
        const auto c = static_cast<unsigned char>(raw[i]);
        if (c == ' ' || c == '\t' || c == '\r' || c == '*' || c == 0xC2 || c == 0xA0 || c == 0xE2 || c == 0x80 ||
            c == 0xAF)
            continue;
        return c == ':' || c == 0x9A;
    }
    return false;
}

// may_end_with_colon(a + ' ' + b) without building the string (the space is skipped as blank).
bool may_end_with_colon(std::string_view a, std::string_view b) {
    for (std::size_t i = b.size(); i-- > 0;) {
        const auto c = static_cast<unsigned char>(b[i]);
        if (c == ' ' || c == '\t' || c == '\r' || c == '*' || c == 0xC2 || c == 0xA0 || c == 0xE2 || c == 0x80 ||
            c == 0xAF)
            continue;
        return c == ':' || c == 0x9A;
    }
    return may_end_with_colon(a);
}

template <std::size_t N>
constexpr std::size_t longest(const std::array<std::string_view, N>& words) {
    std::size_t m = 0;
    for (auto w : words) m = w.size() > m ? w.size() : m;
    return m;
}

// The set of byte values in `s`, each folded to one of 64 bits (a necessary condition for a
// substring: its set is a subset).
inline std::uint64_t byte_set(std::string_view s) {
    std::uint64_t m = 0;
    for (char c : s) m |= std::uint64_t{1} << (static_cast<unsigned char>(c) & 63);
    return m;
}

template <std::size_t N>
constexpr std::size_t shortest_of(const std::array<std::string_view, N>& words) {
    std::size_t m = static_cast<std::size_t>(-1);
    for (auto w : words) m = w.size() < m ? w.size() : m;
    return m;
}

inline bool starts_with(std::string_view s, std::string_view p) {
    return s.size() >= p.size() && s.compare(0, p.size(), p) == 0;
}
bool ends_with(std::string_view s, std::string_view p) {
    return s.size() >= p.size() && s.substr(s.size() - p.size()) == p;
}
bool contains(std::string_view s, std::string_view p) { return s.find(p) != std::string_view::npos; }

bool blank(std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) {
        return c == ' ' || c == '\t' || c == '\r';
    });
}

bool quoted(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t') && i < 3) ++i;
    return i < s.size() && s[i] == '>';
}

// Attributions and header fields both need a colon (ASCII or CJK full-width, which normalise()
// maps to ':'). Most lines of a body have none: this check spares them the normalising copy,
// which was the largest single cost of parse() over the corpus (callgrind).
bool has_colon(std::string_view raw) {
    return raw.find(':') != std::string_view::npos || raw.find("\xEF\xBC\x9A") != std::string_view::npos;
}

}  // namespace

namespace reply {

bool is_attribution(std::string_view raw, bool next_is_quote) {
    // may_end_with_colon first: it reads a few bytes from the end, has_colon the whole line.
    if (raw.size() > 400 || !may_end_with_colon(raw) || !has_colon(raw)) return false;
    std::string& l = scratch();
    normalise_into(raw, l);
    if (!ends_with(l, ":")) return false;
    l.pop_back();
    while (!l.empty() && l.back() == ' ') l.pop_back();
    // The verb of "<someone> wrote" in the languages our requesters write in.
    static constexpr std::array verbs{
        "wrote", "writes", "schrieb", "a écrit", "a ecrit", "escribió", "escribio", "schreef",
        "ha scritto", "escreveu", "skrev", "kirjoitti", "napisał", "napisal", "napsal",
        "написал", "написала", "a scris", "yazdı", "írta", "写道", "寫道", "님이 작성"};
    bool verb = false;
    for (std::string_view v : verbs)
        if (contains(l, v)) { verb = true; break; }
    // Japanese Gmail writes no verb: "2024年1月2日(火) 10:00 Name <addr>:" above the quote.
    if (!verb) return next_is_quote && ends_with(l, ">") && contains(l, "@");
    // Word that starts a dated attribution: On/Am/Le/El/Op/Il/Em/Den/Dne/W dniu/Den/På/...
    static constexpr std::array leads{"on ", "am ", "le ", "el ", "op ", "il ", "em ", "den ",
                                      "dne ", "w dniu ", "på ", "kello ", "în ", "in data "};
    for (std::string_view w : leads)
        if (starts_with(l, w)) return true;
    // Apple/Outlook write "<date>, <name> <addr> wrote:" / "<name> schrieb am <date>:".
    if (next_is_quote) return true;
    return (contains(l, "@") || contains(l, "schrieb am") || contains(l, "schreef op")) &&
           std::any_of(l.begin(), l.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
}

bool is_separator_marker(std::string_view raw) {
    if (raw.size() > 200) return false;
    static constexpr std::array<std::string_view, 25> phrases{
        "original message", "forwarded message", "ursprüngliche nachricht",
        "weitergeleitete nachricht", "message d'origine", "message original", "message transféré",
        "mensaje original", "mensaje reenviado", "oorspronkelijk bericht", "doorgestuurd bericht",
        "messaggio originale", "messaggio inoltrato", "mensagem original", "mensagem encaminhada",
        "ursprungligt meddelande", "vidarebefordrat meddelande", "oprindelig meddelelse",
        "videresendt melding", "opprinnelig melding", "alkuperäinen viesti", "původní zpráva",
        "oryginalna wiadomość", "исходное сообщение", "пересылаемое сообщение"};
    // Apple Mail and friends: a sentence, then the forwarded headers.
    static constexpr std::array<std::string_view, 9> starts{
        "begin forwarded message:", "anfang der weitergeleiteten nachricht:",
        "début du message réexpédié", "debut du message reexpedie",
        "inicio del mensaje reenviado:", "begin doorgestuurd bericht:",
        "inizio messaggio inoltrato:", "início da mensagem reencaminhada:",
        "vidarebefordrat brev:"};
    // An undashed marker is shorter than its phrase + 12, and the starts are prefixes: past
    // this many normalised bytes only a dashed line needs the rest (most lines are prose).
    static constexpr std::size_t cap = std::max(longest(phrases) + 12, longest(starts));
    // Shorter than every phrase and every start, and not a line of underscores: nothing to find.
    static constexpr std::size_t shortest = std::min(shortest_of(phrases), shortest_of(starts));
    std::string& l = scratch();
    const bool whole = normalise_into(raw, l, cap);
    const bool dashed = starts_with(l, "--") || starts_with(l, "__") || starts_with(l, "==");
    if (!dashed && l.size() < shortest && (l.empty() || l[0] != '_')) return false;
    if (!whole && dashed) normalise_into(raw, l);
    if (whole || dashed) {
        // A phrase can only be in `l` when every byte value of it is: one pass over `l` builds
        // the set (bytes folded to 64 bits), and most phrases are ruled out by one AND each
        // instead of a search each.
        static const auto phrase_bytes = [] {
            std::array<std::uint64_t, phrases.size()> m{};
            for (std::size_t k = 0; k < phrases.size(); ++k) m[k] = byte_set(phrases[k]);
            return m;
        }();
        const std::uint64_t present = byte_set(l);
        for (std::size_t k = 0; k < phrases.size(); ++k) {
            const std::string_view p = phrases[k];
            if ((phrase_bytes[k] & ~present) == 0 && (dashed || l.size() < p.size() + 12) && contains(l, p))
                return true;
        }
    }
    for (std::string_view p : starts)
        if (starts_with(l, p)) return true;
    // Outlook's rule: a line of underscores (it draws the separator as 32 of them). `l` is a
    // prefix of normalise(raw): any other byte in it already rules the line out.
    if (l.empty() || l.find_first_not_of('_') != std::string::npos) return false;
    return raw.find("__________") != std::string_view::npos && normalise(raw).find_first_not_of('_') == std::string::npos;
}

char outlook_field(std::string_view raw) {
    if (raw.size() > 1000 || !has_colon(raw)) return 0;
    static constexpr std::array<std::string_view, 13> from{
        "from", "von", "de", "van", "da", "från", "fra", "lähettäjä", "od", "от", "差出人", "发件人", "寄件者"};
    static constexpr std::array<std::string_view, 21> sent{
        "sent", "date", "gesendet", "datum", "envoyé", "envoye", "enviado", "enviada", "fecha",
        "verzonden", "inviato", "data", "skickat", "sendt", "lähetetty", "odesláno",
        "отправлено", "date de l'envoi", "送信日時", "发送时间", "日期"};
    static constexpr std::array<std::string_view, 19> to{
        "to", "cc", "an", "à", "a", "para", "aan", "per", "till", "til", "vastaanottaja", "komu",
        "кому", "kopie", "copie", "copia", "宛先", "收件人", "收件者"};
    static constexpr std::array<std::string_view, 16> subject{
        "subject", "betreff", "objet", "asunto", "onderwerp", "oggetto", "assunto", "ämne",
        "emne", "aihe", "předmět", "temat", "тема", "件名", "主题", "主旨"};
    // A field name, then ':' or " :": the first longest-name + 2 normalised bytes decide.
    static constexpr std::size_t cap =
        std::max({longest(from), longest(sent), longest(to), longest(subject)}) + 2;
    std::string& l = scratch();
    normalise_into(raw, l, cap);
    // Names hold no ':', so "<name>:" or "<name> :" puts the line's first ':' right after the
    // name or its space: the name is what precedes that colon (one lookup, not a scan per name).
    const std::size_t colon = l.find(':');
    if (colon == std::string::npos) return 0;
    const std::string_view head = std::string_view(l).substr(0, colon);
    const std::string_view spaced =
        colon > 0 && l[colon - 1] == ' ' ? head.substr(0, colon - 1) : std::string_view();
    auto field = [&](const auto& names) {
        for (std::string_view n : names)
            if (n == head || n == spaced) return true;
        return false;
    };
    if (field(from)) return 'f';
    if (field(sent)) return 's';
    if (field(to)) return 't';
    if (field(subject)) return 'j';
    return 0;
}

bool is_mobile_signature(std::string_view raw) {
    if (raw.size() > 120) return false;
    std::string l = normalise(raw);
    static constexpr std::array starts{
        "sent from my ", "sent from mail for windows", "sent from outlook", "sent from yahoo mail",
        "sent from samsung", "sent via ", "sent with ", "get outlook for ", "sent from proton",
        "von meinem ", "gesendet von meinem", "gesendet mit ", "von meinem iphone gesendet",
        "envoyé de mon ", "envoye de mon ", "envoyé depuis ", "obtenir outlook pour",
        "enviado desde mi ", "enviado desde ", "enviado do meu ", "enviado de meu ", "enviado do ",
        "verzonden vanaf mijn ", "verstuurd vanaf mijn ", "verzonden met ", "inviato da ",
        "inviato dal mio ", "skickat från min ", "skickat från ", "sendt fra min ", "sendt fra ",
        "lähetetty ", "wysłane z ", "odesláno z ", "отправлено с "};
    for (std::string_view p : starts)
        if (starts_with(l, p)) return true;
    return false;
}

// Not in reply.cpp at a4d8de1: its normalise_into, exported as the byte-wise oracle for
// reply::normalise (reply.cpp copies runs of plain bytes 16 at a time).
std::string normalise(std::string_view line, std::size_t cap, bool& complete) {
    std::string r;
    complete = normalise_into(line, r, cap);
    return r;
}

}  // namespace reply

namespace {

std::vector<std::string_view> lines_of(std::string_view text) {
    std::vector<std::string_view> lines;
    std::size_t pos = 0;
    while (pos <= text.size()) {
        std::size_t nl = text.find('\n', pos);
        if (nl == std::string_view::npos) nl = text.size();
        std::string_view l = text.substr(pos, nl - pos);
        if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
        lines.push_back(l);
        pos = nl + 1;
    }
    return lines;
}

std::string join(const std::vector<std::string_view>& lines, std::size_t b, std::size_t e) {
    while (b < e && blank(lines[b])) ++b;
    while (e > b && blank(lines[e - 1])) --e;
    // Inline replies leave gaps where quotes were taken out: one blank line is enough.
    std::string r;
    std::size_t size = 0;
    for (std::size_t i = b; i < e; ++i) size += lines[i].size() + 1;
    r.reserve(size);
    bool prev_blank = false;
    for (std::size_t i = b; i < e; ++i) {
        bool bl = blank(lines[i]);
        if (bl && prev_blank) continue;
        prev_blank = bl;
        if (i > b) r += '\n';
        if (!bl) r.append(lines[i]);
    }
    return r;
}

std::string join(const std::vector<std::string_view>& lines) { return join(lines, 0, lines.size()); }

// A line drawn with one repeated character: "---", "_____", "=====", "*****".
bool rule_line(std::string_view l) {
    std::size_t b = l.find_first_not_of(" \t");
    if (b == std::string_view::npos) return false;
    std::size_t e = l.find_last_not_of(" \t\r");
    std::string_view r = l.substr(b, e - b + 1);
    if (r.size() < 3) return false;
    char c = r[0];
    if (c != '-' && c != '_' && c != '=' && c != '*') return false;
    return r.find_first_not_of(c) == std::string_view::npos && r != "-- ";
}

// Index of the next non-blank line at or after i (lines.size() when none).
std::size_t next_nonblank(const std::vector<std::string_view>& lines, std::size_t i) {
    while (i < lines.size() && blank(lines[i])) ++i;
    return i;
}

// Outlook's quoted header block: "From:" followed within a few lines by at least two of
// Sent/Date, To/Cc, Subject. Anything less is too likely to be the requester's own words.
bool outlook_block_at(const std::vector<std::string_view>& lines, std::size_t i) {
    if (reply::outlook_field(lines[i]) != 'f') return false;
    bool sent = false, to = false, subject = false;
    for (std::size_t j = i + 1, seen = 0; j < lines.size() && seen < 8; ++j) {
        if (blank(lines[j])) continue;
        ++seen;
        switch (reply::outlook_field(lines[j])) {
            case 's': sent = true; break;
            case 't': to = true; break;
            case 'j': subject = true; break;
            default: break;
        }
    }
    return int(sent) + int(to) + int(subject) >= 2;
}

// Where a quoted-history block starts (attribution, marker or Outlook headers), and where the
// attribution started when it was wrapped over two lines.
std::size_t history_start(const std::vector<std::string_view>& lines, std::size_t i) {
    std::size_t nn = next_nonblank(lines, i + 1);
    bool next_quote = nn < lines.size() && quoted(lines[nn]);
    if (reply::is_separator_marker(lines[i]) || outlook_block_at(lines, i)) return i;
    if (quoted(lines[i])) return lines.size();
    if (reply::is_attribution(lines[i], next_quote)) return i;
    // A wrapped attribution needs a colon in one of its two lines: test that before joining.
    // is_attribution rejects the joined line unless it fits in 400 bytes and may end with a
    // colon: both are known before joining (most lines fail them; the join is a copy).
    if (i + 1 < lines.size() && !blank(lines[i + 1]) && !quoted(lines[i + 1]) &&
        lines[i].size() + 1 + lines[i + 1].size() <= 400 && may_end_with_colon(lines[i], lines[i + 1]) &&
        (has_colon(lines[i]) || has_colon(lines[i + 1]))) {
        std::string two(lines[i]);
        two += ' ';
        two.append(lines[i + 1]);
        std::size_t n2 = next_nonblank(lines, i + 2);
        if (reply::is_attribution(two, n2 < lines.size() && quoted(lines[n2]))) return i;
    }
    return lines.size();
}

// Signature start within lines[0, end): the RFC 3676 "-- " line (or a bare "--" near the end),
// or a mobile signature among the last three non-blank lines.
std::size_t signature_start(const std::vector<std::string_view>& lines, std::size_t end) {
    for (std::size_t i = 0; i < end; ++i) {
        std::string_view l = lines[i];
        if (l == "-- " || l == "--" || l == "-- \r") {
            if (l == "--" && end - i > 12) continue;  // a bare "--" mid-text is punctuation
            return i;
        }
    }
    std::size_t seen = 0;
    for (std::size_t i = end; i-- > 0 && seen < 3;) {
        if (blank(lines[i])) continue;
        ++seen;
        if (reply::is_mobile_signature(lines[i])) return i;
    }
    return end;
}

}  // namespace

ReplySplit split_reply(std::string_view text) {
    ReplySplit out;
    std::vector<std::string_view> lines = lines_of(text);
    const std::size_t n = lines.size();

    // 1. The first attribution / marker / Outlook header block that is not inside a '>' quote.
    //    An attribution whose '>' block is followed by the sender's own text is an inline
    //    reply, not the start of history: keep looking after that block.
    std::size_t h = n;
    for (std::size_t i = 0; i < n; ++i) {
        if (blank(lines[i])) continue;
        std::size_t s = history_start(lines, i);
        if (s >= n) continue;
        if (!reply::is_separator_marker(lines[s]) && !outlook_block_at(lines, s)) {
            std::size_t nn = next_nonblank(lines, s + 1);
            std::size_t k = (nn < n && quoted(lines[nn])) ? nn : next_nonblank(lines, nn + 1);
            bool quote_block = k < n && quoted(lines[k]);
            while (k < n && (blank(lines[k]) || quoted(lines[k]))) ++k;
            bool own_text = k < n && history_start(lines, k) >= n && lines[k] != "-- " &&
                            lines[k] != "--" && !reply::is_mobile_signature(lines[k]);
            if (quote_block && own_text) {
                i = k - 1;
                continue;
            }
        }
        h = s;
        break;
    }

    // 2. Before it: top posting ('>' lines only at the end) or inline replies (own text after
    //    quoted lines). An attribution directly above a '>' block belongs to the quote.
    std::size_t first_q = n;
    for (std::size_t i = 0; i < h; ++i)
        if (quoted(lines[i])) { first_q = i; break; }
    bool inline_reply = false;
    if (first_q < h) {
        std::size_t sig = signature_start(lines, h);
        for (std::size_t i = first_q; i < std::min(h, sig); ++i)
            if (!blank(lines[i]) && !quoted(lines[i])) { inline_reply = true; break; }
    }

    std::vector<std::string_view> mine, theirs;
    if (inline_reply) {
        for (std::size_t i = 0; i < h; ++i) {
            bool q = quoted(lines[i]);
            if (!q && !blank(lines[i])) {
                std::size_t nn = next_nonblank(lines, i + 1);
                if (nn < h && quoted(lines[nn]) && reply::is_attribution(lines[i], true)) q = true;
            }
            (q ? theirs : mine).push_back(lines[i]);
        }
        for (std::size_t i = h; i < n; ++i) theirs.push_back(lines[i]);
    } else {
        std::size_t cut = std::min(first_q, h);
        // "<name> wrote:" directly above the '>' block belongs to it (also when wrapped).
        if (cut == first_q && cut < h) {
            std::size_t p = cut;
            while (p > 0 && blank(lines[p - 1])) --p;
            if (p > 0 && reply::is_attribution(lines[p - 1], true)) {
                cut = p - 1;
            } else if (p > 1 && !blank(lines[p - 2])) {
                std::string two(lines[p - 2]);
                two += ' ';
                two.append(lines[p - 1]);
                if (reply::is_attribution(two, true)) cut = p - 2;
            }
        }
        // A rule drawn above the history ("---" from an HTML <hr>, "=====") goes with it.
        if (cut < n)
            while (cut > 0 && (blank(lines[cut - 1]) || rule_line(lines[cut - 1]))) --cut;
        for (std::size_t i = 0; i < cut; ++i) mine.push_back(lines[i]);
        for (std::size_t i = cut; i < n; ++i) theirs.push_back(lines[i]);
    }

    std::size_t s = signature_start(mine, mine.size());
    out.new_text = join(mine, 0, s);
    out.signature = join(mine, s, mine.size());
    out.quoted_text = join(theirs);

    // A forward or a bare quote with nothing of the sender's own: the quoted text is the
    // content, so the ticket keeps it as new text rather than showing nothing.
    if (out.new_text.empty()) {
        out.new_text = join(lines);
        out.quoted_text.clear();
        out.signature.clear();
    }
    return out;
}

}  // namespace ticketd::parsers::reference
