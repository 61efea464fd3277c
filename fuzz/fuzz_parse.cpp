// MIME parsing and body extraction: parsers::parse() over arbitrary bytes, then the JSON summary
// `ticketd parse --json` prints (nlohmann::json throws on invalid UTF-8, so every string the
// parser hands on must be valid UTF-8). parse() promises never to throw on bad input.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <variant>

#include "parsers/parse.h"
#include "parsers/summary.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace ticketd::parsers;
    const std::string_view raw(reinterpret_cast<const char*>(data), size);
    // Small limits so the fuzzer reaches every "too_*" branch with small inputs.
    Limits small;
    small.max_header_line = 512;
    small.max_header_bytes = 2048;
    small.max_parts = 20;
    small.max_depth = 4;
    for (const Limits& limits : {Limits{}, small}) {
        ParseResult r = parse(raw, limits);
        if (auto* m = std::get_if<Message>(&r)) (void)to_summary_json(*m).dump();
    }
    return 0;
}
