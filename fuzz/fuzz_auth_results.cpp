// Authentication-Results (RFC 8601), the evidence that lets an agent's mail act on a ticket: one
// field parsed from arbitrary bytes, then the same bytes split into header fields (one per line)
// for the trusted walk and the sender-domain verdict.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "parsers/auth_results.h"
#include "parsers/message.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace ticketd::parsers;
    const std::string_view s(reinterpret_cast<const char*>(data), size);
    if (auto ar = parse_authentication_results(s))
        for (const auto& r : ar->results) (void)r.property("header.d");
    std::vector<Header> headers;
    std::size_t begin = 0;
    while (begin <= s.size() && headers.size() < 64) {
        std::size_t end = s.find('\n', begin);
        if (end == std::string_view::npos) end = s.size();
        Header h;
        h.name = "Authentication-Results";
        h.value = std::string(s.substr(begin, end - begin));
        headers.push_back(std::move(h));
        begin = end + 1;
    }
    const std::vector<std::string> trusted = {"mx.acme.example", "mx2.acme.example"};
    (void)trusted_authentication_results(headers, trusted);
    (void)verify_sender_domain(headers, "acme.example", trusted);
    (void)domains_aligned(s.substr(0, s.size() / 2), s.substr(s.size() / 2));
    return 0;
}
