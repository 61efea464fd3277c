#include "parsers/header_block.h"

#include <cstring>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace ticketd::parsers {

namespace {

bool blank(char c) { return c == ' ' || c == '\t'; }

/// A byte mimetic keeps in a field name: printable ASCII but the colon (its test is on a
/// signed char, so 8-bit bytes end the header there).
bool name_byte(char c) {
    const auto u = static_cast<unsigned char>(c);
    return u > 32 && u < 127 && c != ':';
}

/// The first LF, CR or NUL in [p, end), or end: the bytes a header line ends at or that mimetic
/// reads its own way. One pass instead of a memchr for each (header lines are short, and the
/// calls cost more than the search).
const char* line_special(const char* p, const char* end) {
#if defined(__SSE2__)
    const __m128i lf = _mm_set1_epi8('\n'), cr = _mm_set1_epi8('\r'), nul = _mm_setzero_si128();
    while (end - p >= 16) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
        const __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, lf), _mm_cmpeq_epi8(v, cr)), _mm_cmpeq_epi8(v, nul));
        if (const int mask = _mm_movemask_epi8(hit)) return p + __builtin_ctz(static_cast<unsigned>(mask));
        p += 16;
    }
#endif
    for (; p < end; ++p)
        if (*p == '\n' || *p == '\r' || *p == '\0') return p;
    return end;
}

}  // namespace

std::optional<HeaderBlock> read_header_block(std::string_view bytes, std::size_t begin) {
    HeaderBlock hb;
    const char* const base = bytes.data();
    const std::size_t n = bytes.size();
    std::size_t pos = begin;
    // The field being read: its lines end where the next field or the empty line starts.
    BlockField* open = nullptr;
    std::string* folded = nullptr;
    hb.fields.reserve(16);
    while (pos < n) {
        // mimetic ends a line at a bare CR too, and takes LF CR for one line end: such bytes,
        // and a NUL (which ends a value there), are left to mimetic.
        const char* const special = line_special(base + pos, base + n);
        const std::size_t content_end = static_cast<std::size_t>(special - base);
        // No line end: mimetic drops a field the input ends in (the pre-scan never leaves one).
        if (content_end == n || *special == '\0') return std::nullopt;
        const bool crlf = *special == '\r';
        if (crlf && (content_end + 1 == n || base[content_end + 1] != '\n')) return std::nullopt;
        const std::size_t next = content_end + (crlf ? 2 : 1);
        if (!crlf && next < n && base[next] == '\r') return std::nullopt;
        if (content_end == pos) {
            hb.blank_line = pos;
            hb.end = next;
            return hb;
        }
        if (blank(base[pos])) {
            // A fold: mimetic drops its leading blanks and joins it with one blank.
            if (!open) return std::nullopt;  // the block's first line: mimetic reads a name with a blank in it
            std::size_t at = pos;
            while (at < content_end && blank(base[at])) ++at;
            if (!folded) {
                folded = hb.folded.emplace_back(std::make_unique<std::string>(open->value)).get();
                folded->reserve(open->value.size() + 1 + (content_end - at));
            }
            folded->push_back(' ');
            folded->append(base + at, content_end - at);
            open->value = *folded;
            open->end = next;
            pos = next;
            continue;
        }
        std::size_t at = pos;
        while (at < content_end && name_byte(base[at])) ++at;
        const std::size_t name_end = at;
        while (at < content_end && blank(base[at])) ++at;
        // Not "name: value" (or a colon first, a line mimetic skips): mimetic decides.
        if (name_end == pos || at == content_end || base[at] != ':') return std::nullopt;
        ++at;
        while (at < content_end && blank(base[at])) ++at;
        open = &hb.fields.emplace_back();
        folded = nullptr;
        open->name = std::string_view(base + pos, name_end - pos);
        open->value = std::string_view(base + at, content_end - at);
        open->begin = pos;
        open->end = next;
        pos = next;
    }
    return std::nullopt;
}

HeaderBlock header_block_from_lines(std::string_view bytes, std::span<const HeaderLine> lines, std::size_t blank_line,
                                    std::size_t end) {
    HeaderBlock hb;
    hb.fields.reserve(lines.size());  // `open` stays valid: no field is added beyond it
    BlockField* open = nullptr;
    std::string* folded = nullptr;
    for (const HeaderLine& l : lines) {
        if (l.fold) {
            if (!open) continue;  // never recorded (a block cannot start with a fold)
            if (!folded) {
                folded = hb.folded.emplace_back(std::make_unique<std::string>(open->value)).get();
                folded->reserve(open->value.size() + 1 + (l.content_end - l.value_begin));
            }
            folded->push_back(' ');
            folded->append(bytes.data() + l.value_begin, l.content_end - l.value_begin);
            open->value = *folded;
            open->end = l.end;
            continue;
        }
        open = &hb.fields.emplace_back();
        folded = nullptr;
        open->name = bytes.substr(l.begin, l.name_end - l.begin);
        open->value = bytes.substr(l.value_begin, l.content_end - l.value_begin);
        open->begin = l.begin;
        open->end = l.end;
    }
    hb.blank_line = blank_line;
    hb.end = end;
    return hb;
}

}  // namespace ticketd::parsers
