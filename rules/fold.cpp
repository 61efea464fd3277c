// Unicode full case folding of UTF-8, the rules' case-insensitive matching.
//
// ICU folds a large non-ASCII body slowly (about 100 MB/s here; binary parts mislabelled as text
// reach rules as 1 MB of Latin-1 letters and took 10 ms). Case folding is context free, one code
// point at a time, so the Basic Multilingual Plane is folded through a table filled from ICU
// itself, 256 code points at a time on first use; everything else (4-byte sequences, invalid
// bytes, the rare long folding) still goes to ICU, so the result is ICU's, byte for byte
// (tests/unit/rules compares every BMP code point and random bytes).
#include <unicode/ucasemap.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstring>
#include <memory>

#include "rules/rules.h"

namespace ticketd::rules {

namespace {

const UCaseMap* case_map() {
    // Built once; ucasemap_utf8FoldCase takes it const, so sharing it across threads is safe.
    static const UCaseMap* map = [] {
        UErrorCode err = U_ZERO_ERROR;
        return ucasemap_open(nullptr, U_FOLD_CASE_DEFAULT, &err);
    }();
    return map;
}

/// ICU's folding of `s`; false when ICU refused (the caller then keeps the text as it was).
bool icu_fold(std::string_view s, std::string& out) {
    const UCaseMap* map = case_map();
    if (!map) return false;
    // Folding may grow the text (ß -> ss); one retry with the exact size is enough.
    std::string buf(s.size() + s.size() / 2 + 16, '\0');
    for (int attempt = 0; attempt < 2; ++attempt) {
        UErrorCode err = U_ZERO_ERROR;
        int32_t n = ucasemap_utf8FoldCase(map, buf.data(), static_cast<int32_t>(buf.size()), s.data(),
                                          static_cast<int32_t>(s.size()), &err);
        if (err == U_BUFFER_OVERFLOW_ERROR) {
            buf.assign(static_cast<std::size_t>(n), '\0');
            continue;
        }
        if (U_FAILURE(err)) return false;
        buf.resize(static_cast<std::size_t>(n));
        out += buf;
        return true;
    }
    return false;
}

/// The folding of 256 consecutive code points, as UTF-8.
struct Block {
    struct Entry {
        std::uint8_t len;  ///< kSlow: ask ICU for this one
        char bytes[11];
    };
    static constexpr std::uint8_t kSlow = 255;
    std::array<Entry, 256> entries;
};

void encode(char32_t cp, std::string& out) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

const Block* make_block(unsigned hi) {
    auto b = std::make_unique<Block>();
    for (unsigned lo = 0; lo < 256; ++lo) {
        const char32_t cp = (hi << 8) | lo;
        auto& e = b->entries[lo];
        std::string in, folded;
        encode(cp, in);
        if (!icu_fold(in, folded) || folded.size() > sizeof e.bytes) {
            e.len = Block::kSlow;
            continue;
        }
        e.len = static_cast<std::uint8_t>(folded.size());
        std::memcpy(e.bytes, folded.data(), folded.size());
    }
    return b.release();
}

/// The block of code points hi*256 .. hi*256+255 (hi < 256), made on first use. Blocks are never
/// freed: at most 256 of 3 KB each for the life of the process.
const Block& block(unsigned hi) {
    static std::array<std::atomic<const Block*>, 256> blocks{};
    const Block* b = blocks[hi].load(std::memory_order_acquire);
    if (b) return *b;
    const Block* made = make_block(hi);
    if (blocks[hi].compare_exchange_strong(b, made, std::memory_order_acq_rel)) return *made;
    delete made;  // another thread made it first
    return *b;
}

/// The length of the well-formed 2- or 3-byte sequence at p (not a surrogate), 0 otherwise.
std::size_t bmp_sequence(const unsigned char* p, const unsigned char* end, char32_t& cp) {
    const unsigned char c = p[0];
    if (c >= 0xC2 && c <= 0xDF) {
        if (end - p < 2 || (p[1] & 0xC0) != 0x80) return 0;
        cp = (static_cast<char32_t>(c & 0x1F) << 6) | (p[1] & 0x3F);
        return 2;
    }
    if (c >= 0xE0 && c <= 0xEF) {
        if (end - p < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80) return 0;
        cp = (static_cast<char32_t>(c & 0x0F) << 12) | (static_cast<char32_t>(p[1] & 0x3F) << 6) | (p[2] & 0x3F);
        if (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;  // overlong, surrogate
        return 3;
    }
    return 0;
}

}  // namespace

std::string fold_with_icu(std::string_view s) {
    std::string out;
    if (!icu_fold(s, out)) return std::string(s);
    return out;
}

std::string fold(std::string_view s) {
    // Written through a pointer with room checked per character, not per byte: this runs over
    // whole bodies. Invariant: at least (input left + kSlack) bytes of room at the write position.
    constexpr std::size_t kSlack = 16;  // > Block::Entry::bytes, written whole
    std::string out(s.size() + kSlack, '\0');
    std::size_t w = 0;
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    const auto* end = p + s.size();
    auto keep_room = [&](std::size_t extra) {
        const std::size_t need = w + extra + static_cast<std::size_t>(end - p) + kSlack;
        if (out.size() < need) out.resize(std::max(need, out.size() + out.size() / 2));
    };
    const Block* last = nullptr;
    unsigned last_hi = 256;
    while (p < end) {
        char* o = out.data() + w;
        const auto* run = p;
        while (p < end && *p < 0x80) {
            const unsigned char c = *p++;
            *o++ = static_cast<char>(static_cast<unsigned char>(c - 'A') < 26 ? c + ('a' - 'A') : c);
        }
        w += static_cast<std::size_t>(p - run);
        if (p == end) break;
        char32_t cp = 0;
        if (const std::size_t n = bmp_sequence(p, end, cp)) {
            const auto hi = static_cast<unsigned>(cp >> 8);
            if (hi != last_hi) last = &block(last_hi = hi);  // text stays in one script for long
            const auto& e = last->entries[cp & 0xFF];
            if (e.len != Block::kSlow) {
                std::memcpy(out.data() + w, e.bytes, sizeof e.bytes);
                w += e.len;
                p += n;
                if (e.len > n) keep_room(0);
                continue;
            }
        }
        // ICU for the rest: a run up to the next ASCII byte or lead byte, where no UTF-8
        // sequence (well-formed or not) can continue, so ICU sees whole sequences.
        run = p++;
        while (p < end && *p >= 0x80 && *p < 0xC2) ++p;
        std::string folded;
        if (!icu_fold(std::string_view(reinterpret_cast<const char*>(run), static_cast<std::size_t>(p - run)), folded))
            return fold_with_icu(s);  // as before: ICU's answer for the whole text, or the text
        keep_room(folded.size());
        std::memcpy(out.data() + w, folded.data(), folded.size());
        w += folded.size();
    }
    out.resize(w);
    return out;
}

}  // namespace ticketd::rules
