#include "parsers/header_block.h"

#include <cstring>

namespace ticketd::parsers {

namespace {

bool blank(char c) { return c == ' ' || c == '\t'; }

/// A byte mimetic keeps in a field name: printable ASCII but the colon (its test is on a
/// signed char, so 8-bit bytes end the header there).
bool name_byte(char c) {
    const auto u = static_cast<unsigned char>(c);
    return u > 32 && u < 127 && c != ':';
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
    while (pos < n) {
        const void* nl = std::memchr(base + pos, '\n', n - pos);
        // No line end: mimetic drops a field the input ends in (the pre-scan never leaves one).
        if (!nl) return std::nullopt;
        const std::size_t line_end = static_cast<std::size_t>(static_cast<const char*>(nl) - base);
        const std::size_t next = line_end + 1;
        const bool crlf = line_end > pos && base[line_end - 1] == '\r';
        const std::size_t content_end = crlf ? line_end - 1 : line_end;
        // mimetic ends a line at a bare CR too, and takes LF CR for one line end: such bytes,
        // and a NUL (which ends a value there), are left to mimetic.
        if (!crlf && next < n && base[next] == '\r') return std::nullopt;
        if (std::memchr(base + pos, '\r', content_end - pos) || std::memchr(base + pos, '\0', content_end - pos))
            return std::nullopt;
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

}  // namespace ticketd::parsers
