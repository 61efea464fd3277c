#pragma once
// The pre-scan: one linear pass over the raw bytes, before mimetic sees them, that enforces
// Limits (mimetic is quadratic on long header lines and recurses once per nesting level, see
// TESTBED.md) and mends what would make mimetic lose data (NUL bytes in headers, a header block
// without a final newline). It follows MIME structure the way mimetic does: boundaries are
// matched as line prefixes against every open multipart.

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "parsers/header_block.h"
#include "parsers/parse.h"

namespace ticketd::parsers {

struct Prescan {
    std::string mended;       ///< the bytes to parse when `changed`, else empty (use the input)
    bool changed = false;
    /// When not `changed`: how many bytes at the front of the input are not parsed (lines
    /// dropped before anything else was mended, such as an mbox "From " line). A third of the
    /// corpus's mended bytes were whole copies of a message for its first line alone.
    std::size_t skipped = 0;
    std::vector<std::string> warnings;
    /// [begin, end) of every message/rfc822 body, in document order, in the bytes to parse.
    std::vector<std::pair<std::size_t, std::size_t>> rfc822_bodies;
    /// [begin, end) of the body of every leaf part mimetic copies whole, in document order, in
    /// the bytes to parse: the bytes after the blank line that ends its header block, up to the
    /// line end before the delimiter that ends it (or the end of the input). end < begin when
    /// the delimiter follows at once (an empty body). Leaves inside a body mimetic keeps as
    /// text (a digest part without Content-Type) are not listed. build_message hands mimetic
    /// the message without these bytes (mime.cpp, "skeleton").
    std::vector<std::pair<std::size_t, std::size_t>> leaf_bodies;
    /// By leaf body: how many message/rfc822 parts enclose it (mimetic must see as many around
    /// the part whose body it is, else it read a body as a message, or the other way round).
    std::vector<int> leaf_messages;
    /// [begin, end) of every header block mimetic reads as one, in document order, in the bytes
    /// to parse: from its first line to the first byte after the empty line that ends it (where
    /// mimetic starts the body; the pre-scan adds that line where the input lacks it). Blocks
    /// inside a body mimetic keeps as text are not listed. build_message reads these fields
    /// itself and hands mimetic only their Content-Type (mime.cpp, "skeleton").
    std::vector<std::pair<std::size_t, std::size_t>> header_blocks;
    /// By header block (parallel to header_blocks): its lines in `field_lines`, [first, last),
    /// when the pre-scan's reading of it is the one read_header_block would give: every line a
    /// field or the fold of one, ended by CR LF or by a lone LF not followed by a CR, no CR or
    /// NUL inside, nothing mended in the block. Otherwise `read` is false, and build_message
    /// reads the block with read_header_block (header_block_from_lines when it is true).
    struct BlockRead {
        bool read = false;
        std::size_t first = 0, last = 0;
        std::size_t blank_line = 0;  ///< where the empty line that ends the block starts
    };
    std::vector<BlockRead> block_reads;
    std::vector<HeaderLine> field_lines;
    std::size_t parts = 0;    ///< header blocks seen (the message itself counts)
    int depth = 0;            ///< deepest nesting seen

    std::string_view bytes(std::string_view original) const {
        return changed ? std::string_view(mended) : original.substr(skipped);
    }
};

std::variant<Prescan, ParseError> prescan(std::string_view raw, const Limits& limits);

/// The same scan reading every line of every body, where prescan() jumps to the body lines
/// holding "--" (no other body line can change the result). For tests: the reference the
/// skipping is checked against.
std::variant<Prescan, ParseError> prescan_every_line(std::string_view raw, const Limits& limits);

}  // namespace ticketd::parsers
