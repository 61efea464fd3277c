// Bounce and auto-reply classification (loop prevention): the delivery-status reader over raw
// text, and classify()/detect_bounce()/read_bounce() over a parsed message, with and without the
// desk's own addresses (the list-as-support-address case).
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <variant>

#include "parsers/bounce.h"
#include "parsers/classify.h"
#include "parsers/parse.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace ticketd::parsers;
    const std::string_view raw(reinterpret_cast<const char*>(data), size);
    (void)parse_delivery_status(raw);
    ParseResult r = parse(raw);
    auto* m = std::get_if<Message>(&r);
    if (!m) return 0;
    ClassifyOptions own;
    own.own_addresses = {"support@example.com", "help@lists.example.org"};
    (void)classify(*m, own);
    (void)classify(*m);
    (void)auto_reply_suppressed(*m);
    const std::string report = bounce_report_text(*m);
    (void)detect_bounce(*m, report);
    (void)read_bounce(*m, report);
    return 0;
}
