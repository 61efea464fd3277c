#pragma once
// Substring search for the recognisers' short needles in short lines (bounce report lines,
// attributions): std::string_view::find calls memchr for the needle's first byte and then
// memcmp at every occurrence of it, a libc call or two per common letter ('m' of "message",
// 's' of "said:"). This tests 16 starting positions at once for the needle's first AND last
// byte (SSE2) and compares the rest only where both match, with no call per line.
// Same answer as std::string_view::find (tests/unit/parsers/test_find_simd.cpp holds it to it).

#include <cstddef>
#include <cstring>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace ticketd::parsers::simd {

/// The first position of `n` in `h` at or after `from`, or npos: std::string_view::find.
inline std::size_t find(std::string_view h, std::string_view n, std::size_t from = 0) {
    const std::size_t k = n.size();
    const std::size_t hs = h.size();
    if (from > hs || hs - from < k) return std::string_view::npos;
    if (k == 0) return from;
    const char* const p = h.data();
    const char first = n[0], last = n[k - 1];
    const std::size_t end = hs - k + 1;  // the starting positions: [from, end)
    std::size_t i = from;
#if defined(__SSE2__)
    // A block reads p[i, i + 16) and p[i + k - 1, i + k + 15): both inside h while i + 16 <= end.
    const __m128i f = _mm_set1_epi8(first), l = _mm_set1_epi8(last);
    for (; i + 16 <= end; i += 16) {
        const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
        const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i + k - 1));
        auto m = static_cast<unsigned>(_mm_movemask_epi8(_mm_and_si128(_mm_cmpeq_epi8(a, f), _mm_cmpeq_epi8(b, l))));
        for (; m != 0; m &= m - 1) {
            const std::size_t j = i + static_cast<std::size_t>(__builtin_ctz(m));
            if (k <= 2 || std::memcmp(p + j + 1, n.data() + 1, k - 2) == 0) return j;
        }
    }
    // The last positions: one block ending at `end`, its positions before i masked off (most
    // lines are not a multiple of 16 long; a byte loop over the rest cost more than the blocks).
    if (i < end && end >= 16) {
        const std::size_t b0 = end - 16;
        const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + b0));
        const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + b0 + k - 1));
        auto m = static_cast<unsigned>(_mm_movemask_epi8(_mm_and_si128(_mm_cmpeq_epi8(a, f), _mm_cmpeq_epi8(b, l))));
        m &= ~0u << (i - b0);
        for (; m != 0; m &= m - 1) {
            const std::size_t j = b0 + static_cast<std::size_t>(__builtin_ctz(m));
            if (k <= 2 || std::memcmp(p + j + 1, n.data() + 1, k - 2) == 0) return j;
        }
        return std::string_view::npos;
    }
#endif
    for (; i < end; ++i)
        if (p[i] == first && p[i + k - 1] == last && (k <= 2 || std::memcmp(p + i + 1, n.data() + 1, k - 2) == 0))
            return i;
    return std::string_view::npos;
}

inline bool contains(std::string_view h, std::string_view n) { return find(h, n) != std::string_view::npos; }

/// find(lower(h), n, from) without lower-casing h: `n` must be lower-case already (no 'A'..'Z');
/// ASCII case only, as text::lower. For searching a whole report once instead of each of its
/// lines lower-cased.
inline std::size_t find_lower(std::string_view h, std::string_view n, std::size_t from = 0) {
    const auto lc = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
    const std::size_t k = n.size();
    const std::size_t hs = h.size();
    if (from > hs || hs - from < k) return std::string_view::npos;
    if (k == 0) return from;
    const char* const p = h.data();
    const auto rest_equal = [&](std::size_t j) {
        for (std::size_t i = 1; i + 1 < k; ++i)
            if (lc(p[j + i]) != n[i]) return false;
        return true;
    };
    const std::size_t end = hs - k + 1;
    std::size_t i = from;
#if defined(__SSE2__)
    // A byte that lower-cases to c has (byte | 0x20) == (c | 0x20): a test that lets through a
    // few others (rest_equal and the two ends decide), 16 positions at once.
    const __m128i case_bit = _mm_set1_epi8(0x20);
    const __m128i f = _mm_set1_epi8(static_cast<char>(n[0] | 0x20)), l = _mm_set1_epi8(static_cast<char>(n[k - 1] | 0x20));
    const auto block = [&](std::size_t b0) {
        const __m128i a = _mm_or_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + b0)), case_bit);
        const __m128i b = _mm_or_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + b0 + k - 1)), case_bit);
        return static_cast<unsigned>(_mm_movemask_epi8(_mm_and_si128(_mm_cmpeq_epi8(a, f), _mm_cmpeq_epi8(b, l))));
    };
    for (; i + 16 <= end; i += 16)
        for (unsigned m = block(i); m != 0; m &= m - 1) {
            const std::size_t j = i + static_cast<std::size_t>(__builtin_ctz(m));
            if (lc(p[j]) == n[0] && lc(p[j + k - 1]) == n[k - 1] && rest_equal(j)) return j;
        }
    if (i < end && end >= 16) {
        const std::size_t b0 = end - 16;
        for (unsigned m = block(b0) & (~0u << (i - b0)); m != 0; m &= m - 1) {
            const std::size_t j = b0 + static_cast<std::size_t>(__builtin_ctz(m));
            if (lc(p[j]) == n[0] && lc(p[j + k - 1]) == n[k - 1] && rest_equal(j)) return j;
        }
        return std::string_view::npos;
    }
#endif
    for (; i < end; ++i)
        if (lc(p[i]) == n[0] && lc(p[i + k - 1]) == n[k - 1] && rest_equal(i)) return i;
    return std::string_view::npos;
}

}  // namespace ticketd::parsers::simd
