// simd::find (parsers/find_simd.h) tests sixteen starting positions at once for the needle's
// first and last byte and has a separate last block: it must give std::string_view::find's
// answer for every haystack, needle and start, at every length around the 16-byte blocks, and
// read nothing outside the haystack (each one is copied into a buffer of exactly its size, so
// the ASan build catches a read past its end).
#include <gtest/gtest.h>

#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "parsers/find_simd.h"

namespace simd = ticketd::parsers::simd;

namespace {

// Few distinct bytes, so that first-byte, last-byte and whole matches all happen often.
constexpr std::string_view kAlphabet = "abmes: .@\xEF\xBC\x9A";

std::string random_text(std::mt19937& rng, std::size_t n) {
    std::uniform_int_distribution<std::size_t> pick(0, kAlphabet.size() - 1);
    std::string s(n, ' ');
    for (char& c : s) c = kAlphabet[pick(rng)];
    return s;
}

}  // namespace

TEST(SimdFind, EqualsStringViewFindOnGeneratedInputs) {
    std::mt19937 rng(20261206);
    const std::vector<std::string> words = {"message", "said:", "below this line is a copy", "m", "ab",
                                            "\xEF\xBC\x9A", "wrote", "mess", "essa"};
    std::size_t found = 0, checked = 0;
    for (int round = 0; round < 6000; ++round) {
        const std::size_t n = std::uniform_int_distribution<std::size_t>(0, 90)(rng);
        const std::string text = random_text(rng, n);
        // An exactly sized copy: a read past its end is a heap overflow under ASan.
        std::unique_ptr<char[]> buf(new char[n == 0 ? 1 : n]);
        std::copy(text.begin(), text.end(), buf.get());
        const std::string_view h(buf.get(), n);
        std::vector<std::string> needles = words;
        for (int k = 0; k < 4; ++k)
            needles.push_back(random_text(rng, std::uniform_int_distribution<std::size_t>(0, 20)(rng)));
        if (n > 0) {  // pieces of the text itself: always found
            const std::size_t b = std::uniform_int_distribution<std::size_t>(0, n - 1)(rng);
            needles.push_back(text.substr(b, std::uniform_int_distribution<std::size_t>(1, 24)(rng)));
        }
        for (const std::string& w : needles) {
            for (std::size_t from : {std::size_t{0}, std::size_t{1}, n / 3, n / 2, n > 17 ? n - 17 : 0, n, n + 1}) {
                const std::size_t want = h.find(w, from);
                ASSERT_EQ(simd::find(h, w, from), want) << "text '" << text << "' needle '" << w << "' from " << from;
                found += want != std::string_view::npos;
                ++checked;
            }
            ASSERT_EQ(simd::contains(h, w), h.find(w) != std::string_view::npos);
        }
    }
    // The generator must exercise both answers.
    EXPECT_GT(found, checked / 10);
    EXPECT_LT(found, checked - checked / 10);
}

// find_lower: the search read_bounce runs over a report without lower-casing it first.
TEST(SimdFind, FindLowerEqualsFindInLowerCasedText) {
    std::mt19937 rng(61206);
    constexpr std::string_view kMixed = "abmesABMES: .@\x1a\x41\x61\xEF";
    std::uniform_int_distribution<std::size_t> pick(0, kMixed.size() - 1);
    const auto lowered = [](std::string s) {
        for (char& c : s) c = c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c;
        return s;
    };
    std::size_t found = 0, checked = 0;
    for (int round = 0; round < 6000; ++round) {
        const std::size_t n = std::uniform_int_distribution<std::size_t>(0, 90)(rng);
        std::string text(n, ' ');
        for (char& c : text) c = kMixed[pick(rng)];
        std::unique_ptr<char[]> buf(new char[n == 0 ? 1 : n]);
        std::copy(text.begin(), text.end(), buf.get());
        const std::string_view h(buf.get(), n);
        const std::string low = lowered(text);
        std::vector<std::string> needles = {"message", "said:", "below this line is a copy", "m", "ab", ":", "\x1a"};
        for (int k = 0; k < 3; ++k) {
            std::string w(std::uniform_int_distribution<std::size_t>(1, 12)(rng), ' ');
            for (char& c : w) c = kMixed[pick(rng)];
            needles.push_back(lowered(w));
        }
        if (n > 0) {
            const std::size_t b = std::uniform_int_distribution<std::size_t>(0, n - 1)(rng);
            needles.push_back(low.substr(b, std::uniform_int_distribution<std::size_t>(1, 24)(rng)));
        }
        for (const std::string& w : needles)
            for (std::size_t from : {std::size_t{0}, std::size_t{1}, n / 2, n > 17 ? n - 17 : 0, n, n + 1}) {
                const std::size_t want = std::string_view(low).find(w, from);
                ASSERT_EQ(simd::find_lower(h, w, from), want) << "text '" << text << "' needle '" << w << "' from " << from;
                found += want != std::string_view::npos;
                ++checked;
            }
    }
    EXPECT_GT(found, checked / 10);
    EXPECT_LT(found, checked - checked / 10);
}
