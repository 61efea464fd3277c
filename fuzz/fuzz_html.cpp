// HTML to text (issue 2): the streaming path must give gumbo's text wherever it gives text at
// all, with the default limits and with tiny ones; html_to_text itself must not crash.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "parsers/html.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace ticketd::parsers;
    const std::string_view html(reinterpret_cast<const char*>(data), size);
    HtmlLimits tiny;
    tiny.max_depth = 4;
    tiny.max_nesting = 3;
    tiny.max_input_bytes = 300;
    for (const HtmlLimits& limits : {HtmlLimits{}, tiny}) {
        const auto fast = html_detail::stream_to_text(html, limits);
        if (!fast) continue;
        const std::string reference = html_detail::gumbo_to_text(html, limits);
        if (*fast != reference) {
            std::fprintf(stderr, "stream and gumbo differ (max_depth %zu)\n--- gumbo ---\n%s\n--- stream ---\n%s\n",
                         limits.max_depth, reference.c_str(), fast->c_str());
            std::abort();
        }
    }
    (void)html_to_text(html, HtmlLimits{});
    return 0;
}
