// Every message of the shared corpus (parse/, robust/, bounces/) parses without a crash or an
// exception, each within a second.

#include <gtest/gtest.h>

#include <filesystem>
#include <vector>

#include "parsers/charset.h"
#include "parsers/parse.h"
#include "parsers/summary.h"
#include "tests/support/paths.h"

namespace tp = ticketd::parsers;

TEST(ParseCorpus, EveryFileParsesWithoutThrowing) {
    const auto corpus = ticketd::testing::corpus_dir();
    if (corpus.empty()) GTEST_SKIP() << "no ../shared corpus";
    std::size_t files = 0, messages = 0;
    for (const auto& path : ticketd::testing::corpus_message_files()) {
        const std::string raw = ticketd::testing::read_file(path);
        ++files;
        tp::ParseResult r;
        ASSERT_NO_THROW(r = tp::parse(raw)) << path;
        if (auto* m = std::get_if<tp::Message>(&r)) {
            ASSERT_NO_THROW({ auto j = tp::to_summary_json(*m); (void)j.dump(); }) << path;
            ++messages;
        }
    }
    EXPECT_GT(files, 500u);
    EXPECT_GT(messages, files * 9 / 10);
}

// A text leaf holds its bytes once when they are their own UTF-8 (text_is_data): its text()
// must be exactly what converting `data` eagerly gives, on every text leaf of the corpus.
TEST(ParseCorpus, TextHeldOnceEqualsEagerConversion) {
    const auto corpus = ticketd::testing::corpus_dir();
    if (corpus.empty()) GTEST_SKIP() << "no ../shared corpus";
    std::size_t once = 0, converted = 0;
    for (const auto& path : ticketd::testing::corpus_message_files()) {
        auto r = tp::parse(ticketd::testing::read_file(path));
        const auto* m = std::get_if<tp::Message>(&r);
        if (!m) continue;
        for (const auto& l : m->leaves) {
            if (!l.is_text) {
                EXPECT_TRUE(l.text().empty()) << path;
                continue;
            }
            const auto eager = tp::to_utf8(l.data, l.charset).text;
            ASSERT_EQ(l.text(), eager) << path << " leaf " << l.content_type;
            if (l.text_is_data) {
                EXPECT_TRUE(l.converted.empty()) << path;
                ++once;
            } else {
                ++converted;  // (iconv charsets keep their copy even when it is the same)
            }
        }
    }
    EXPECT_GT(once, 500u);
    EXPECT_GT(converted, 10u);
}
