// The skeleton mimetic reads (issue 2, parsers/mime.cpp): build_message must give the same
// Message whether mimetic read the message with its header blocks and leaf bodies left out, with
// the bodies alone left out, or whole, with the default limits and with tiny ones. Aborts on any
// difference (crashes, leaks and hangs as every target).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <variant>

#include "parsers/limits.h"
#include "parsers/mime.h"
#include "tests/unit/parsers/describe_message.h"

namespace {

using namespace ticketd::parsers;

/// nullopt-like empty string when the pre-scan rejects the input.
std::string built(const std::string& raw, const Limits& limits, MimeLoad how) {
    auto scanned = prescan(raw, limits);
    auto* ps = std::get_if<Prescan>(&scanned);
    if (!ps) return "rejected";
    Message m;
    try {
        build_message(ps->bytes(raw), *ps, limits, m, how);
    } catch (const std::exception& e) {
        return std::string("threw: ") + e.what();
    }
    return ticketd::testing::describe_message(m);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string raw(reinterpret_cast<const char*>(data), size);
    Limits tiny;
    tiny.max_parts = 5;
    tiny.max_depth = 3;
    tiny.max_header_line = 40;
    tiny.max_header_bytes = 200;
    for (const Limits& limits : {Limits{}, tiny}) {
        const std::string plain = built(raw, limits, MimeLoad::plain);
        for (MimeLoad how : {MimeLoad::skeleton_always, MimeLoad::skeleton_bodies}) {
            const std::string other = built(raw, limits, how);
            if (other != plain) {
                std::fprintf(stderr, "%s and plain differ\n--- plain ---\n%s\n--- skeleton ---\n%s\n",
                             how == MimeLoad::skeleton_always ? "skeleton" : "bodies skeleton", plain.c_str(),
                             other.c_str());
                std::abort();
            }
        }
    }
    return 0;
}
