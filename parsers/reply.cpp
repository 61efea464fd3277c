#include "parsers/reply.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "parsers/body.h"
#include "parsers/find_simd.h"

namespace ticketd::parsers {
namespace {

// What normalise_to does with each byte: most bytes (upper-case ASCII included, folded through
// kFold) are copied, one table load and one test per byte instead of a chain of comparisons.
enum : unsigned char { kCopy = 0, kBlank, kDrop, kLead };
constexpr std::array<unsigned char, 256> kNormalise = [] {
    std::array<unsigned char, 256> t{};
    t[' '] = t['\t'] = t['\r'] = kBlank;
    t['*'] = kDrop;
    t[0xC2] = t[0xE2] = t[0xEF] = kLead;  // may start U+00A0, U+202F or U+FF1A
    return t;
}();
constexpr std::array<char, 256> kFold = [] {
    std::array<char, 256> t{};
    for (int c = 0; c < 256; ++c) t[c] = static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
    return t;
}();

#if defined(__SSE2__)
// The longest prefix of p[0, 16) that normalises to itself (folded) when no blank is pending:
// no byte normalise_to treats apart (tab, CR, '*', the lead bytes of U+00A0, U+202F and
// U+FF1A), no two spaces in a row, not ending in a space (which waits for what follows it), and
// at the `start` of the output not starting with one (leading blanks are dropped). Those bytes
// are written to `o` folded, 16 at a time; returns how many count.
// Prose is words and single spaces: most of a line goes through here, not byte by byte.
inline std::size_t copy_plain16(const unsigned char* p, char* o, bool start) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const auto eq = [&](char c) { return _mm_cmpeq_epi8(v, _mm_set1_epi8(c)); };
    const __m128i other = _mm_or_si128(
        _mm_or_si128(_mm_or_si128(eq('\t'), eq('\r')), _mm_or_si128(eq('*'), eq('\xC2'))),
        _mm_or_si128(eq('\xE2'), eq('\xEF')));
    const auto spaces = static_cast<unsigned>(_mm_movemask_epi8(eq(' ')));
    const unsigned bad = static_cast<unsigned>(_mm_movemask_epi8(other)) | (spaces & (spaces >> 1)) |
                         (start ? spaces & 1u : 0u) | 0x10000u;
    auto n = static_cast<std::size_t>(__builtin_ctz(bad));
    if (n > 0 && ((spaces >> (n - 1)) & 1)) --n;  // a space before a blank, a '*' or the end waits
    // 'A'..'Z' plus 32 (bytes from 0x80 compare as negative: never upper-case).
    const __m128i upper = _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8('A' - 1)), _mm_cmplt_epi8(v, _mm_set1_epi8('Z' + 1)));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(o), _mm_add_epi8(v, _mm_and_si128(upper, _mm_set1_epi8(32))));
    return n;
}
#endif

// Lower-case ASCII, non-breaking spaces to spaces, full-width colons to ':', runs of blanks to one, '*' (bold as
// plain-text clients render HTML) dropped, ends trimmed. '_' is kept: the Outlook
// separator test reads lines of underscores from this output. Written to `out` (room for
// min(s.size(), cap) bytes) and stopped once `cap` bytes are written: the output only grows, so a capped result is a
// prefix of the whole one, which is all a starts-with test needs. Returns the length; `complete`: nothing was cut.
// Case folding is ASCII only (std::tolower is locale-dependent per byte and cost a libc call per byte).
std::size_t normalise_to(std::string_view s, char* out, std::size_t cap, bool& complete) {
    // The output is never longer than the input (each byte written consumes at least one, a
    // space stands for the blanks before it), so `out` has room up to the cap or the input's size.
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    const auto* const end = p + s.size();
    char* o = out;
    char* const full = out + std::min(s.size(), cap);  // past it only a cut can follow
    complete = true;
    bool space = false;  // blanks seen since the last byte written (none are written first)
    while (p < end) {
        if (!space) {  // the common run: bytes copied (folded) as they are, up to the cap
#if defined(__SSE2__)
            // 16 bytes at a time while input and room last; the store writes 16 bytes, only
            // the first n count.
            while (end - p >= 16 && full - o >= 16) {
                const std::size_t n = copy_plain16(p, o, o == out);
                p += n;
                o += n;
                if (n < 16) break;
            }
#endif
            const unsigned char* const stop = p + std::min<std::size_t>(end - p, full - o);
            while (p < stop && kNormalise[*p] == kCopy) *o++ = kFold[*p++];
            if (p == end) break;
        }
        unsigned char c = *p++;
        const unsigned char k = kNormalise[c];
        if (k != kCopy) {
            if (k == kBlank) {
                space = o != out;
                continue;
            }
            if (k == kDrop) continue;
            // kLead: U+00A0 and U+202F are blanks, U+FF1A (CJK full-width colon) is ':'; any
            // other sequence is copied as it is.
            if (c == 0xC2 && end - p >= 1 && p[0] == 0xA0) {
                p += 1;
                space = o != out;
                continue;
            }
            if (c == 0xE2 && end - p >= 2 && p[0] == 0x80 && p[1] == 0xAF) {
                p += 2;
                space = o != out;
                continue;
            }
            if (c == 0xEF && end - p >= 2 && p[0] == 0xBC && p[1] == 0x9A) {
                p += 2;
                c = ':';
            }
        }
        if (space) {
            if (o == full) {
                complete = false;
                break;
            }
            *o++ = ' ';
            space = false;
        }
        if (o == full) {
            complete = false;
            break;
        }
        *o++ = kFold[c];
    }
    return static_cast<std::size_t>(o - out);
}

// normalise_to into `r` (a buffer the caller reuses). True when complete.
bool normalise_into(std::string_view s, std::string& r, std::size_t cap = std::string::npos) {
    r.resize(std::min(s.size(), cap));
    bool complete = true;
    r.resize(normalise_to(s, r.data(), cap, complete));
    return complete;
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

template <std::size_t N>
constexpr std::size_t shortest_of(const std::array<std::string_view, N>& words) {
    std::size_t m = static_cast<std::size_t>(-1);
    for (auto w : words) m = w.size() < m ? w.size() : m;
    return m;
}

// The set of byte values in `s`, each folded to one of 64 bits (a necessary condition for a
// substring: its set is a subset).
constexpr std::uint64_t byte_set(std::string_view s) {
    std::uint64_t m = 0;
    for (char c : s) m |= std::uint64_t{1} << (static_cast<unsigned char>(c) & 63);
    return m;
}

// byte_set over a line at run time (the marker and attribution tests): four bytes a round into
// two sets, so the loop's own test and increment are paid once per four bytes.
inline std::uint64_t line_byte_set(std::string_view s) {
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    const std::size_t n = s.size();
    std::uint64_t a = 0, b = 0;
    std::size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        a |= std::uint64_t{1} << (p[i] & 63);
        b |= std::uint64_t{1} << (p[i + 1] & 63);
        a |= std::uint64_t{1} << (p[i + 2] & 63);
        b |= std::uint64_t{1} << (p[i + 3] & 63);
    }
    for (; i < n; ++i) a |= std::uint64_t{1} << (p[i] & 63);
    return a | b;
}

template <std::size_t N>
constexpr std::array<std::uint64_t, N> byte_sets(const std::array<std::string_view, N>& words) {
    std::array<std::uint64_t, N> m{};
    for (std::size_t k = 0; k < N; ++k) m[k] = byte_set(words[k]);
    return m;
}

// The first bytes of a word list, as a 256-bit set: a starts-with test over the whole list is
// needed only when the line's first byte is in it (most lines' is not).
struct FirstBytes {
    std::array<std::uint64_t, 4> bits{};
    constexpr bool has(char c) const {
        const auto u = static_cast<unsigned char>(c);
        return (bits[u >> 6] >> (u & 63)) & 1;
    }
};
template <std::size_t N>
constexpr FirstBytes first_bytes(const std::array<std::string_view, N>& words) {
    FirstBytes f;
    for (auto w : words) {
        const auto u = static_cast<unsigned char>(w.front());
        f.bits[u >> 6] |= std::uint64_t{1} << (u & 63);
    }
    return f;
}

inline bool starts_with(std::string_view s, std::string_view p) {
    return s.size() >= p.size() && s.compare(0, p.size(), p) == 0;
}
bool ends_with(std::string_view s, std::string_view p) {
    return s.size() >= p.size() && s.substr(s.size() - p.size()) == p;
}
// No libc call per line and per hit of the needle's first byte (attribution verbs, marker phrases).
bool contains(std::string_view s, std::string_view p) { return simd::contains(s, p); }

// blank() past a blank first byte (out of line: few lines get here).
[[gnu::noinline]] bool blank_all(std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) {
        return c == ' ' || c == '\t' || c == '\r';
    });
}

[[gnu::always_inline]] inline bool blank(std::string_view s) {
    // Most lines answer at their first byte (asked of every line several times over): that
    // test inline at each call, the rest of the line out of line.
    if (!s.empty() && s[0] != ' ' && s[0] != '\t' && s[0] != '\r') return false;
    return blank_all(s);
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
    return raw.find(':') != std::string_view::npos || simd::contains(raw, "\xEF\xBC\x9A");
}

// ---- The recognisers' word lists, and the normalised prefix each needs.

// Separator markers: phrases found anywhere in a short or dashed line.
constexpr std::array<std::string_view, 25> kMarkerPhrases{
    "original message", "forwarded message", "ursprüngliche nachricht",
    "weitergeleitete nachricht", "message d'origine", "message original", "message transféré",
    "mensaje original", "mensaje reenviado", "oorspronkelijk bericht", "doorgestuurd bericht",
    "messaggio originale", "messaggio inoltrato", "mensagem original", "mensagem encaminhada",
    "ursprungligt meddelande", "vidarebefordrat meddelande", "oprindelig meddelelse",
    "videresendt melding", "opprinnelig melding", "alkuperäinen viesti", "původní zpráva",
    "oryginalna wiadomość", "исходное сообщение", "пересылаемое сообщение"};
// Apple Mail and friends: a sentence, then the forwarded headers.
constexpr std::array<std::string_view, 9> kMarkerStarts{
    "begin forwarded message:", "anfang der weitergeleiteten nachricht:",
    "début du message réexpédié", "debut du message reexpedie",
    "inicio del mensaje reenviado:", "begin doorgestuurd bericht:",
    "inizio messaggio inoltrato:", "início da mensagem reencaminhada:",
    "vidarebefordrat brev:"};
// kMarkerPhrases longest first, and the byte set of each.
constexpr auto kMarkerByLength = [] {
    auto sorted = kMarkerPhrases;
    std::sort(sorted.begin(), sorted.end(), [](std::string_view a, std::string_view b) { return a.size() > b.size(); });
    return sorted;
}();
constexpr auto kMarkerByLengthBytes = byte_sets(kMarkerByLength);
// kMarkerFitting[n]: the first of kMarkerByLength not longer than n bytes (the longer ones
// cannot be in a line of n bytes); every phrase fits a line longer than the longest.
constexpr auto kMarkerFitting = [] {
    std::array<unsigned char, longest(kMarkerPhrases) + 1> first{};
    for (std::size_t n = 0; n < first.size(); ++n) {
        std::size_t k = 0;
        while (k < kMarkerByLength.size() && kMarkerByLength[k].size() > n) ++k;
        first[n] = static_cast<unsigned char>(k);
    }
    return first;
}();
// kMarkerUndashedEnd[n]: how many of kMarkerByLength an undashed line of n normalised bytes
// may hold (it must be shorter than the phrase + 12: those are the longest ones, a prefix of
// the list); none past the table. The loop over them then needs no length test per phrase.
constexpr auto kMarkerUndashedEnd = [] {
    std::array<unsigned char, longest(kMarkerPhrases) + 12> end{};
    for (std::size_t n = 0; n < end.size(); ++n) {
        std::size_t k = 0;
        while (k < kMarkerByLength.size() && kMarkerByLength[k].size() + 12 > n) ++k;
        end[n] = static_cast<unsigned char>(k);
    }
    return end;
}();
// kMarkerStartingWith[c]: the phrases of kMarkerByLength whose first byte is c, one bit each.
static_assert(kMarkerByLength.size() <= 32);
constexpr auto kMarkerStartingWith = [] {
    std::array<std::uint32_t, 256> with{};
    for (std::size_t k = 0; k < kMarkerByLength.size(); ++k)
        with[static_cast<unsigned char>(kMarkerByLength[k].front())] |= std::uint32_t{1} << k;
    return with;
}();
constexpr FirstBytes kMarkerStartFirst = first_bytes(kMarkerStarts);
// An undashed marker is shorter than its phrase + 12, and the starts are prefixes: past
// this many normalised bytes only a dashed line needs the rest (most lines are prose).
constexpr std::size_t kMarkerCap = std::max(longest(kMarkerPhrases) + 12, longest(kMarkerStarts));
// Shorter than every phrase and every start, and not a line of underscores: nothing to find.
constexpr std::size_t kMarkerShortest = std::min(shortest_of(kMarkerPhrases), shortest_of(kMarkerStarts));

// Outlook header field names.
constexpr std::array<std::string_view, 13> kFrom{
    "from", "von", "de", "van", "da", "från", "fra", "lähettäjä", "od", "от", "差出人", "发件人", "寄件者"};
constexpr std::array<std::string_view, 21> kSent{
    "sent", "date", "gesendet", "datum", "envoyé", "envoye", "enviado", "enviada", "fecha",
    "verzonden", "inviato", "data", "skickat", "sendt", "lähetetty", "odesláno",
    "отправлено", "date de l'envoi", "送信日時", "发送时间", "日期"};
constexpr std::array<std::string_view, 19> kTo{
    "to", "cc", "an", "à", "a", "para", "aan", "per", "till", "til", "vastaanottaja", "komu",
    "кому", "kopie", "copie", "copia", "宛先", "收件人", "收件者"};
constexpr std::array<std::string_view, 16> kSubject{
    "subject", "betreff", "objet", "asunto", "onderwerp", "oggetto", "assunto", "ämne",
    "emne", "aihe", "předmět", "temat", "тема", "件名", "主题", "主旨"};
// Outlook field names hashed by length and first byte (see outlook_core).
constexpr char field_key(std::string_view n) {
    return n.empty() ? 0 : static_cast<char>(n.size() * 37 + static_cast<unsigned char>(n.front()));
}
// All the field names bucketed by field_key, each with the rank of its list (0 From, 1 Sent,
// 2 To, 3 Subject): a colon's head is compared with the few names of its bucket only.
struct FieldName {
    std::string_view name;
    unsigned char rank = 0;
};
constexpr auto kFieldNames = [] {
    std::array<FieldName, kFrom.size() + kSent.size() + kTo.size() + kSubject.size()> all{};
    std::size_t k = 0;
    for (auto n : kFrom) all[k++] = {n, 0};
    for (auto n : kSent) all[k++] = {n, 1};
    for (auto n : kTo) all[k++] = {n, 2};
    for (auto n : kSubject) all[k++] = {n, 3};
    std::sort(all.begin(), all.end(), [](const FieldName& a, const FieldName& b) {
        return static_cast<unsigned char>(field_key(a.name)) < static_cast<unsigned char>(field_key(b.name));
    });
    return all;
}();
// kFieldBucket[key] .. kFieldBucket[key + 1]: the names whose field_key is `key`.
constexpr auto kFieldBucket = [] {
    std::array<unsigned char, 257> start{};
    for (const FieldName& f : kFieldNames) ++start[static_cast<unsigned char>(field_key(f.name)) + 1];
    for (std::size_t k = 1; k < start.size(); ++k) start[k] = static_cast<unsigned char>(start[k] + start[k - 1]);
    return start;
}();
static_assert(kFieldNames.size() < 256);

// The rank of the first list (From, Sent, To, Subject) that names `n`, or 4.
unsigned field_rank(std::string_view n) {
    if (n.empty()) return 4;
    const auto key = static_cast<unsigned char>(field_key(n));
    unsigned rank = 4;
    for (std::size_t k = kFieldBucket[key]; k < kFieldBucket[key + 1u]; ++k)
        if (kFieldNames[k].name == n && kFieldNames[k].rank < rank) rank = kFieldNames[k].rank;
    return rank;
}
// The first bytes of the From names: outlook_core can answer 'f' only for a line whose
// normalised prefix starts with one of them (the name is what precedes its first colon).
constexpr FirstBytes kFromFirst = first_bytes(kFrom);
// A field name, then ':' or " :": the first longest-name + 2 normalised bytes decide.
constexpr std::size_t kOutlookCap = std::max({longest(kFrom), longest(kSent), longest(kTo), longest(kSubject)}) + 2;

// Mobile signatures: prefixes of the whole (short) line.
constexpr std::array<std::string_view, 35> kMobileStarts{
    "sent from my ", "sent from mail for windows", "sent from outlook", "sent from yahoo mail",
    "sent from samsung", "sent via ", "sent with ", "get outlook for ", "sent from proton",
    "von meinem ", "gesendet von meinem", "gesendet mit ", "von meinem iphone gesendet",
    "envoyé de mon ", "envoye de mon ", "envoyé depuis ", "obtenir outlook pour",
    "enviado desde mi ", "enviado desde ", "enviado do meu ", "enviado de meu ", "enviado do ",
    "verzonden vanaf mijn ", "verstuurd vanaf mijn ", "verzonden met ", "inviato da ",
    "inviato dal mio ", "skickat från min ", "skickat från ", "sendt fra min ", "sendt fra ",
    "lähetetty ", "wysłane z ", "odesláno z ", "отправлено с "};
// kMobileStarts by first byte, and where each first byte's run starts: a line is compared with
// the starts that share its first byte only.
constexpr auto kMobileByFirst = [] {
    auto sorted = kMobileStarts;
    std::sort(sorted.begin(), sorted.end(), [](std::string_view a, std::string_view b) {
        return static_cast<unsigned char>(a.front()) < static_cast<unsigned char>(b.front());
    });
    return sorted;
}();
constexpr auto kMobileRun = [] {
    std::array<unsigned char, 257> start{};
    for (std::string_view p : kMobileByFirst) ++start[static_cast<unsigned char>(p.front()) + 1];
    for (std::size_t k = 1; k < start.size(); ++k) start[k] = static_cast<unsigned char>(start[k] + start[k - 1]);
    return start;
}();

// The verb of "<someone> wrote" in the languages our requesters write in.
constexpr std::array<std::string_view, 23> kVerbs{
    "wrote", "writes", "schrieb", "a écrit", "a ecrit", "escribió", "escribio", "schreef",
    "ha scritto", "escreveu", "skrev", "kirjoitti", "napisał", "napisal", "napsal",
    "написал", "написала", "a scris", "yazdı", "írta", "写道", "寫道", "님이 작성"};
constexpr auto kVerbBytes = byte_sets(kVerbs);
// Word that starts a dated attribution: On/Am/Le/El/Op/Il/Em/Den/Dne/W dniu/Den/På/...
constexpr std::array<std::string_view, 14> kLeads{"on ", "am ", "le ", "el ", "op ", "il ", "em ", "den ",
                                                  "dne ", "w dniu ", "på ", "kello ", "în ", "in data "};

// One normalised prefix of a line serves the marker, Outlook-field and mobile-signature tests:
// each reads at most its own cap of it (see the cores below), so the longest cap is enough.
constexpr std::size_t kPrefixCap = std::max({kMarkerCap, kOutlookCap, longest(kMobileStarts)});

// ---- Cores: each takes `l`, a prefix of normalise(raw) at least as long as its own cap (or all
// of it: `whole`), so that split_reply normalises a line once for all of them.

// Caller: raw.size() <= 200.
bool marker_core(std::string_view raw, std::string_view l, bool whole) {
    const bool dashed = starts_with(l, "--") || starts_with(l, "__") || starts_with(l, "==");
    if (!dashed && l.size() < kMarkerShortest && (l.empty() || l[0] != '_')) return false;
    if (whole || dashed) {
        std::string_view all = l;
        if (!whole) {  // a dashed line: the phrase may be anywhere in it
            std::string& full = scratch();
            normalise_into(raw, full);
            all = full;
        }
        // A phrase can only be in `all` when every byte value of it is: one pass over `all`
        // builds the set (bytes folded to 64 bits), and most phrases are ruled out by one AND
        // each instead of a search each. Past kMarkerCap bytes an undashed line is too long
        // for every phrase (the size test), whatever the prefix's length.
        // The phrases longest first: an undashed line too long for one is too long for the rest.
        // Phrases longer than the line are skipped (kMarkerFitting), and the byte set is made
        // only when some phrase is left to test.
        const std::size_t first = all.size() < kMarkerFitting.size() ? kMarkerFitting[all.size()] : 0;
        const std::size_t end = dashed                                  ? kMarkerByLength.size()
                                : all.size() < kMarkerUndashedEnd.size() ? kMarkerUndashedEnd[all.size()]
                                                                         : 0;
        if (first < end && dashed) {
            const std::uint64_t missing = ~line_byte_set(all);
            for (std::size_t k = first; k < end; ++k)
                if ((kMarkerByLengthBytes[k] & missing) == 0 && contains(all, kMarkerByLength[k])) return true;
        } else if (first < end) {
            // Undashed: the line is shorter than each phrase left + 12, so a phrase in it starts
            // at one of its first 12 bytes (at most its length minus the shortest phrase left's).
            // At each, only the phrases that start with that byte are compared (most bytes start
            // none): no pass over the whole line for its byte set.
            const std::uint32_t range = (end == 32 ? ~std::uint32_t{0} : (std::uint32_t{1} << end) - 1) &
                                        ~((std::uint32_t{1} << first) - 1);
            const std::size_t last = all.size() - kMarkerByLength[end - 1].size();
            for (std::size_t j = 0; j <= last; ++j) {
                for (std::uint32_t c = kMarkerStartingWith[static_cast<unsigned char>(all[j])] & range; c != 0;
                     c &= c - 1) {
                    const std::string_view p = kMarkerByLength[static_cast<std::size_t>(__builtin_ctz(c))];
                    if (j + p.size() <= all.size() && all[j + 1] == p[1] && all.compare(j, p.size(), p) == 0)
                        return true;
                }
            }
        }
    }
    if (!l.empty() && kMarkerStartFirst.has(l[0]))
        for (std::string_view p : kMarkerStarts)  // the first byte before a memcmp call each
            if (l[0] == p[0] && starts_with(l, p)) return true;
    // Outlook's rule: a line of underscores (it draws the separator as 32 of them). `l` is a
    // prefix of normalise(raw): any other byte in it already rules the line out.
    if (l.empty() || l.find_first_not_of('_') != std::string_view::npos) return false;
    if (raw.find("__________") == std::string_view::npos) return false;
    if (whole) return true;
    std::string& full = scratch();
    normalise_into(raw, full);
    return full.find_first_not_of('_') == std::string::npos;
}

// Caller: raw.size() <= 1000 and has_colon(raw).
char outlook_core(std::string_view l) {
    // Names hold no ':', so "<name>:" or "<name> :" puts the line's first ':' right after the
    // name or its space: the name is what precedes that colon (one lookup, not a scan per name).
    l = l.substr(0, kOutlookCap);
    const std::size_t colon = l.find(':');
    if (colon == std::string_view::npos) return 0;
    const std::string_view head = l.substr(0, colon);
    const std::string_view spaced = colon > 0 && l[colon - 1] == ' ' ? head.substr(0, colon - 1) : std::string_view();
    // Most colons follow no field name ("Tel:", "https:", "10:00"): their (length, first byte)
    // bucket is empty. The earliest list naming either form wins, as when the lists were read
    // in order.
    const unsigned rank = std::min(field_rank(head), field_rank(spaced));
    return rank < 4 ? "fstj"[rank] : 0;
}

// Caller: raw.size() <= 120.
bool mobile_core(std::string_view l) {
    if (l.empty()) return false;
    const auto first = static_cast<unsigned char>(l[0]);
    for (std::size_t k = kMobileRun[first]; k < kMobileRun[first + 1u]; ++k)
        if (starts_with(l, kMobileByFirst[k])) return true;
    return false;
}

// `l`: all of normalise(raw). Caller: raw.size() <= 400, may_end_with_colon(raw), has_colon(raw).
bool attribution_core(std::string_view l, bool next_is_quote) {
    if (!ends_with(l, ":")) return false;
    l.remove_suffix(1);
    while (!l.empty() && l.back() == ' ') l.remove_suffix(1);
    const std::uint64_t present = line_byte_set(l);
    bool verb = false;
    for (std::size_t k = 0; k < kVerbs.size(); ++k)
        if ((kVerbBytes[k] & ~present) == 0 && contains(l, kVerbs[k])) {
            verb = true;
            break;
        }
    // Japanese Gmail writes no verb: "2024年1月2日(火) 10:00 Name <addr>:" above the quote.
    if (!verb) return next_is_quote && ends_with(l, ">") && contains(l, "@");
    for (std::string_view w : kLeads)
        if (!l.empty() && l[0] == w[0] && starts_with(l, w)) return true;
    // Apple/Outlook write "<date>, <name> <addr> wrote:" / "<name> schrieb am <date>:".
    if (next_is_quote) return true;
    return (contains(l, "@") || contains(l, "schrieb am") || contains(l, "schreef op")) &&
           std::any_of(l.begin(), l.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
}

}  // namespace

namespace reply {

bool is_attribution(std::string_view raw, bool next_is_quote) {
    // may_end_with_colon first: it reads a few bytes from the end, has_colon the whole line.
    if (raw.size() > 400 || !may_end_with_colon(raw) || !has_colon(raw)) return false;
    std::string& l = scratch();
    normalise_into(raw, l);
    return attribution_core(l, next_is_quote);
}

bool is_separator_marker(std::string_view raw) {
    if (raw.size() > 200) return false;
    std::string l;  // not scratch(): marker_core may need it for the whole line
    const bool whole = normalise_into(raw, l, kMarkerCap);
    return marker_core(raw, l, whole);
}

char outlook_field(std::string_view raw) {
    if (raw.size() > 1000 || !has_colon(raw)) return 0;
    std::string& l = scratch();
    normalise_into(raw, l, kOutlookCap);
    return outlook_core(l);
}

bool is_mobile_signature(std::string_view raw) {
    if (raw.size() > 120) return false;
    std::string& l = scratch();
    normalise_into(raw, l, longest(kMobileStarts));
    return mobile_core(l);
}

std::string normalise(std::string_view line, std::size_t cap, bool& complete) {
    std::string r;
    complete = normalise_into(line, r, cap);
    return r;
}

}  // namespace reply

namespace {

// The lines of a body and what the recognisers found in each, each test run at most once per
// line and each line normalised at most once for all of them (history_start reads a line, the
// Outlook block test the eight after it, the signature test the last three).
class Lines {
public:
    explicit Lines(std::string_view text) {
        // One pass: the lines are views, so a guess at their number (a wrong one costs a
        // reallocation of views, not a second scan of the text) is enough to reserve.
        lines_.reserve(text.size() / 32 + 1);
        const char* p = text.data();
        const char* const e = p + text.size();
        for (;;) {
            const auto* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(e - p)));
            const char* const stop = nl ? nl : e;
            std::string_view l(p, static_cast<std::size_t>(stop - p));
            if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
            lines_.push_back(l);
            if (!nl) break;
            p = nl + 1;
        }
        info_.resize(lines_.size());
        // Each prefix is at most min(line, kPrefixCap) bytes: their sum is bounded, so one
        // buffer of that size (made at the first prefix) holds them all and never moves.
        cap_ = std::min(text.size(), lines_.size() * kPrefixCap);
    }

    std::size_t size() const { return lines_.size(); }
    std::string_view operator[](std::size_t i) const { return lines_[i]; }

    bool marker(std::size_t i) {
        Info& f = info_[i];
        if (f.marker < 0) {
            f.marker = false;
            if (lines_[i].size() <= 200) {
                const std::string_view l = prefix(i);  // sets f.whole
                f.marker = marker_core(lines_[i], l, f.whole);
            }
        }
        return f.marker;
    }
    // outlook(i) == 'f', without outlook_core for a line whose prefix cannot start a From name
    // (most lines: outlook_block_at asks this of every line history_start reads).
    bool outlook_from(std::size_t i) {
        const Info& f = info_[i];
        if (f.outlook >= 0) return f.outlook == 'f';
        if (lines_[i].size() > 1000) return false;
        const std::string_view l = prefix(i);
        if (l.empty() || !kFromFirst.has(l[0])) return false;
        return outlook(i) == 'f';
    }
    char outlook(std::size_t i) {
        Info& f = info_[i];
        // No colon test first: outlook_core looks for the ':' in the normalised prefix, which
        // the marker test has made already for most lines (has_colon read the whole line twice).
        if (f.outlook < 0) f.outlook = lines_[i].size() <= 1000 ? outlook_core(prefix(i)) : 0;
        return static_cast<char>(f.outlook);
    }
    bool mobile(std::size_t i) {
        Info& f = info_[i];
        if (f.mobile < 0) f.mobile = lines_[i].size() <= 120 && mobile_core(prefix(i));
        return f.mobile;
    }
    bool attribution(std::size_t i, bool next_is_quote) {
        return attribution_if(i, [next_is_quote] { return next_is_quote; });
    }
    // `next_is_quote()` is asked only of the few lines that pass the cheap tests (history_start
    // looked for the next non-blank line for every line it read).
    template <typename NextIsQuote>
    bool attribution_if(std::size_t i, NextIsQuote next_is_quote) {
        const std::string_view raw = lines_[i];
        if (raw.size() > 400 || !may_end_with_colon(raw) || !colon(i)) return false;
        if (info_[i].norm && info_[i].whole) return attribution_core(prefix(i), next_is_quote());
        std::string& l = scratch();
        normalise_into(raw, l);
        return attribution_core(l, next_is_quote());
    }
    bool colon(std::size_t i) {
        Info& f = info_[i];
        if (f.colon < 0) f.colon = has_colon(lines_[i]);
        return f.colon;
    }

private:
    struct Info {
        std::size_t off = 0;   // the normalised prefix: buf_[off, off + len)
        std::uint32_t len = 0;
        bool norm = false;     // the prefix is computed
        bool whole = false;    // ... and is all of normalise(line)
        signed char marker = -1, outlook = -1, mobile = -1, colon = -1;  // -1: not yet known
    };

    std::string_view prefix(std::size_t i) {
        Info& f = info_[i];
        if (!f.norm) {
            if (!buf_) buf_.reset(new char[cap_]);  // not zeroed: only written bytes are read
            bool complete = true;
            f.off = used_;
            f.len = static_cast<std::uint32_t>(normalise_to(lines_[i], buf_.get() + used_, kPrefixCap, complete));
            f.whole = complete;
            f.norm = true;
            used_ += f.len;
        }
        return std::string_view(buf_.get() + f.off, f.len);
    }

    std::vector<std::string_view> lines_;
    std::vector<Info> info_;
    std::unique_ptr<char[]> buf_;  // the prefixes, one after another
    std::size_t cap_ = 0, used_ = 0;
};

// Joins lines[at(b) .. at(e)) (blank ends dropped, inner runs of blank lines kept as one).
template <typename At>
std::string join(const Lines& lines, At at, std::size_t b, std::size_t e) {
    while (b < e && blank(lines[at(b)])) ++b;
    while (e > b && blank(lines[at(e - 1)])) --e;
    // Inline replies leave gaps where quotes were taken out: one blank line is enough.
    std::string r;
    std::size_t size = 0;
    for (std::size_t i = b; i < e; ++i) size += lines[at(i)].size() + 1;
    r.reserve(size);
    bool prev_blank = false;
    for (std::size_t i = b; i < e;) {
        const std::string_view l = lines[at(i)];
        if (blank(l)) {
            if (!prev_blank && i > b) r += '\n';
            prev_blank = true;
            ++i;
            continue;
        }
        prev_blank = false;
        if (i > b) r += '\n';
        // The non-blank lines that follow this one in the text with a bare '\n' between (a view
        // starting right after the previous one's end can only be the next line) are the text's
        // own bytes: one append for the run instead of one per line.
        const char* const start = l.data();
        const char* stop = l.data() + l.size();
        for (++i; i < e; ++i) {
            const std::string_view n = lines[at(i)];
            if (n.data() != stop + 1 || blank(n)) break;
            stop = n.data() + n.size();
        }
        r.append(start, static_cast<std::size_t>(stop - start));
    }
    return r;
}

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
std::size_t next_nonblank(const Lines& lines, std::size_t i) {
    while (i < lines.size() && blank(lines[i])) ++i;
    return i;
}

// Outlook's quoted header block: "From:" followed within a few lines by at least two of
// Sent/Date, To/Cc, Subject. Anything less is too likely to be the requester's own words.
bool outlook_block_after(Lines& lines, std::size_t i);
// (The From test inline: most lines fail it, and it is asked of every line history_start reads.)
inline bool outlook_block_at(Lines& lines, std::size_t i) {
    return lines.outlook_from(i) && outlook_block_after(lines, i);
}
// outlook_block_at for a From line i.
bool outlook_block_after(Lines& lines, std::size_t i) {
    bool sent = false, to = false, subject = false;
    for (std::size_t j = i + 1, seen = 0; j < lines.size() && seen < 8; ++j) {
        if (blank(lines[j])) continue;
        ++seen;
        switch (lines.outlook(j)) {
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
std::size_t history_start(Lines& lines, std::size_t i) {
    const auto next_quote = [&] {
        const std::size_t nn = next_nonblank(lines, i + 1);
        return nn < lines.size() && quoted(lines[nn]);
    };
    if (lines.marker(i) || outlook_block_at(lines, i)) return i;
    if (quoted(lines[i])) return lines.size();
    if (lines.attribution_if(i, next_quote)) return i;
    // A wrapped attribution needs a colon in one of its two lines: test that before joining.
    // is_attribution rejects the joined line unless it fits in 400 bytes and may end with a
    // colon: both are known before joining (most lines fail them; the join is a copy).
    // (The tests in the order that rules most lines out soonest: the colon at the end first.)
    if (i + 1 < lines.size() && lines[i].size() + 1 + lines[i + 1].size() <= 400 &&
        may_end_with_colon(lines[i], lines[i + 1]) && !blank(lines[i + 1]) && !quoted(lines[i + 1]) &&
        (lines.colon(i) || lines.colon(i + 1))) {
        std::string two(lines[i]);
        two += ' ';
        two.append(lines[i + 1]);
        std::size_t n2 = next_nonblank(lines, i + 2);
        if (reply::is_attribution(two, n2 < lines.size() && quoted(lines[n2]))) return i;
    }
    return lines.size();
}

// Signature start within lines[at(0) .. at(end)): the RFC 3676 "-- " line (or a bare "--" near
// the end), or a mobile signature among the last three non-blank lines.
template <typename At>
std::size_t signature_start(Lines& lines, At at, std::size_t end) {
    for (std::size_t i = 0; i < end; ++i) {
        std::string_view l = lines[at(i)];
        if (l == "-- " || l == "--" || l == "-- \r") {
            if (l == "--" && end - i > 12) continue;  // a bare "--" mid-text is punctuation
            return i;
        }
    }
    std::size_t seen = 0;
    for (std::size_t i = end; i-- > 0 && seen < 3;) {
        if (blank(lines[at(i)])) continue;
        ++seen;
        if (lines.mobile(at(i))) return i;
    }
    return end;
}

}  // namespace

ReplySplit split_reply(std::string_view text) {
    ReplySplit out;
    Lines lines(text);
    const std::size_t n = lines.size();
    const auto same = [](std::size_t i) { return i; };

    // 1. The first attribution / marker / Outlook header block that is not inside a '>' quote.
    //    An attribution whose '>' block is followed by the sender's own text is an inline
    //    reply, not the start of history: keep looking after that block.
    std::size_t h = n;
    for (std::size_t i = 0; i < n; ++i) {
        if (blank(lines[i])) continue;
        std::size_t s = history_start(lines, i);
        if (s >= n) continue;
        if (!lines.marker(s) && !outlook_block_at(lines, s)) {
            std::size_t nn = next_nonblank(lines, s + 1);
            std::size_t k = (nn < n && quoted(lines[nn])) ? nn : next_nonblank(lines, nn + 1);
            bool quote_block = k < n && quoted(lines[k]);
            while (k < n && (blank(lines[k]) || quoted(lines[k]))) ++k;
            bool own_text = k < n && history_start(lines, k) >= n && lines[k] != "-- " &&
                            lines[k] != "--" && !lines.mobile(k);
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
        std::size_t sig = signature_start(lines, same, h);
        for (std::size_t i = first_q; i < std::min(h, sig); ++i)
            if (!blank(lines[i]) && !quoted(lines[i])) { inline_reply = true; break; }
    }

    if (inline_reply) {
        // The sender's lines and the quoted ones interleave: index lists.
        std::vector<std::size_t> mine, theirs;
        for (std::size_t i = 0; i < h; ++i) {
            bool q = quoted(lines[i]);
            if (!q && !blank(lines[i])) {
                std::size_t nn = next_nonblank(lines, i + 1);
                if (nn < h && quoted(lines[nn]) && lines.attribution(i, true)) q = true;
            }
            (q ? theirs : mine).push_back(i);
        }
        for (std::size_t i = h; i < n; ++i) theirs.push_back(i);
        const auto in_mine = [&](std::size_t k) { return mine[k]; };
        const auto in_theirs = [&](std::size_t k) { return theirs[k]; };
        std::size_t s = signature_start(lines, in_mine, mine.size());
        out.new_text = join(lines, in_mine, 0, s);
        out.signature = join(lines, in_mine, s, mine.size());
        out.quoted_text = join(lines, in_theirs, 0, theirs.size());
    } else {
        std::size_t cut = std::min(first_q, h);
        // "<name> wrote:" directly above the '>' block belongs to it (also when wrapped).
        if (cut == first_q && cut < h) {
            std::size_t p = cut;
            while (p > 0 && blank(lines[p - 1])) --p;
            if (p > 0 && lines.attribution(p - 1, true)) {
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
        // Mine are lines [0, cut), theirs [cut, n): no lists needed.
        std::size_t s = signature_start(lines, same, cut);
        out.new_text = join(lines, same, 0, s);
        out.signature = join(lines, same, s, cut);
        const auto from_cut = [cut](std::size_t k) { return cut + k; };
        out.quoted_text = join(lines, from_cut, 0, n - cut);
    }

    // A forward or a bare quote with nothing of the sender's own: the quoted text is the
    // content, so the ticket keeps it as new text rather than showing nothing.
    if (out.new_text.empty()) {
        out.new_text = join(lines, same, 0, n);
        out.quoted_text.clear();
        out.signature.clear();
    }
    return out;
}

}  // namespace ticketd::parsers
