// The UID FETCH range answer parser (mail/imap_fetch_stream): what a hostile server, or a hostile
// message inside a literal, sends back. Checks that feeding the same bytes in pieces gives what
// feeding them whole gives (libcurl hands them over a line at a time) and that no body exceeds
// the literal limit.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "mail/imap_fetch_stream.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using ticketd::mail::FetchStreamParser;
    if (size < 1) return 0;
    const std::size_t step = 1 + data[0] % 61;  // the first byte picks the piece size
    const std::string_view s(reinterpret_cast<const char*>(data) + 1, size - 1);
    constexpr std::size_t kMax = 2048;

    FetchStreamParser whole(kMax, 512);
    whole.feed(s);
    FetchStreamParser pieces(kMax, 512);
    for (std::size_t i = 0; i < s.size(); i += step) pieces.feed(s.substr(i, step));
    // Line by line, as libcurl's header callback delivers it.
    FetchStreamParser lines(kMax, 512);
    for (std::size_t i = 0; i < s.size();) {
        auto nl = s.find('\n', i);
        std::size_t end = nl == std::string_view::npos ? s.size() : nl + 1;
        lines.feed(s.substr(i, end - i));
        i = end;
    }
    for (const FetchStreamParser* p : {&pieces, &lines}) {
        if (p->failed() != whole.failed() || p->complete() != whole.complete() ||
            p->tag_like_line_in_literal() != whole.tag_like_line_in_literal() ||
            p->items().size() != whole.items().size())
            std::abort();
        for (std::size_t k = 0; k < whole.items().size(); ++k) {
            const auto& a = whole.items()[k];
            const auto& b = p->items()[k];
            if (a.uid != b.uid || a.body != b.body || a.size != b.size || a.has_body != b.has_body)
                std::abort();
        }
    }
    for (const auto& it : whole.items())
        if (it.body.size() > kMax || it.uid == 0) std::abort();
    return 0;
}
