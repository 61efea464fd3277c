// Threading: our Message-ID, subject tag and plus-address parsers over arbitrary text (with the
// make/parse round trips), then thread() over the input parsed as a mail, against an in-memory
// desk where ticket 1042 exists with a known token and ann@example.org takes part.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>

#include "parsers/parse.h"
#include "tickets/ids.h"
#include "tickets/threading.h"
#include "../tests/unit/tickets/fake_lookup.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace ticketd;
    using namespace ticketd::tickets;
    const std::string_view s(reinterpret_cast<const char*>(data), size);
    (void)looks_like_token(s);
    if (auto id = parse_message_id(s)) {
        auto again = parse_message_id(make_message_id(id->number, id->token, id->seq, id->host));
        if (!again || again->number != id->number || again->token != id->token) std::abort();
    }
    if (auto tag = parse_subject_tag(s, "ACME")) {
        if (tag->pos > s.size() || tag->len > s.size() - tag->pos) std::abort();
    }
    (void)strip_subject_tags(s, "ACME");
    (void)parse_plus_address(s);

    auto r = parsers::parse(s);
    auto* m = std::get_if<parsers::Message>(&r);
    if (!m) return 0;
    config::DeskConfig desk;
    desk.addresses = {"support@example.com"};
    desk.subject_tag = "ACME";
    test::FakeLookup lookup;
    lookup.add(1042, "7f3a9c0b1d", {"ann@example.org"});
    lookup.add_message_id("a1@example.org", 1042);
    (void)thread(*m, desk, lookup);
    return 0;
}
