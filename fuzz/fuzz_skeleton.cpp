// The skeleton mimetic reads (issue 2, parsers/mime.cpp): build_message must give the same
// Message whether mimetic read the message with its header blocks and leaf bodies left out, with
// the bodies alone left out, or whole, with the default limits and with tiny ones; and the header
// lines the pre-scan keeps must read as read_header_block reads the bytes. Aborts on any
// difference (crashes, leaks and hangs as every target).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <variant>

#include "parsers/header_block.h"
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

/// Every header block the pre-scan kept the lines of must read from them exactly as
/// read_header_block reads its bytes (the skeleton trusts the lines: limits.h, BlockRead).
void check_kept_lines(const std::string& raw, const Limits& limits) {
    auto scanned = prescan(raw, limits);
    auto* ps = std::get_if<Prescan>(&scanned);
    if (!ps) return;
    const std::string_view bytes = ps->bytes(raw);
    for (std::size_t k = 0; k < ps->block_reads.size(); ++k) {
        const auto& r = ps->block_reads[k];
        if (!r.read) continue;
        const auto [b, e] = ps->header_blocks[k];
        const auto again = read_header_block(bytes, b);
        const auto kept = header_block_from_lines(
            bytes, std::span<const HeaderLine>(ps->field_lines.data() + r.first, r.last - r.first), r.blank_line, e);
        bool same = again && again->end == kept.end && again->blank_line == kept.blank_line &&
                    again->fields.size() == kept.fields.size();
        for (std::size_t f = 0; same && f < kept.fields.size(); ++f)
            same = again->fields[f].name == kept.fields[f].name && again->fields[f].value == kept.fields[f].value &&
                   again->fields[f].begin == kept.fields[f].begin && again->fields[f].end == kept.fields[f].end;
        if (!same) {
            std::fprintf(stderr, "header block %zu: the pre-scan's kept lines differ from read_header_block\n", k);
            std::abort();
        }
    }
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
        check_kept_lines(raw, limits);
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
