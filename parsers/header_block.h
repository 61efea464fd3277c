#pragma once
// One header block read the way mimetic reads it (IteratorParser::loadHeader), from the bytes
// in place: no copy of a field unless it is folded. build_message reads the header fields of
// every part here and hands mimetic only what decides the structure (mime.cpp, "skeleton"), so
// the fields are read once, with a line search, instead of byte by byte into mimetic's buffers.
//
// Only blocks whose reading is beyond doubt are read: each line a field ("name: value", the
// name printable ASCII, blanks allowed before the colon) or a fold of the field above, every
// line ending CR LF or a lone LF, no NUL, ended by an empty line. Anything else (a bare CR,
// a LF followed by a CR, a line that is not a field, which mimetic takes for the first body
// line) gives nullopt, and the caller lets mimetic read the block itself.

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace ticketd::parsers {

struct BlockField {
    std::string_view name;   ///< as mimetic keeps it: blanks before the colon cut
    std::string_view value;  ///< as mimetic's Field::value() gives a plain field (not trimmed at the end)
    std::size_t begin = 0;   ///< the field's first byte in the bytes read
    std::size_t end = 0;     ///< after its last line (and line end), folds included
};

struct HeaderBlock {
    std::vector<BlockField> fields;
    std::size_t blank_line = 0;  ///< where the empty line that ends the block starts
    std::size_t end = 0;         ///< the first byte after it: where mimetic starts the body
    /// The values of folded fields (mimetic joins the lines with one blank per line end), each
    /// on the heap, so that the views in `fields` stay put when the block is moved. (It cannot
    /// be copied: a copy's views would point into the original.)
    std::vector<std::unique_ptr<std::string>> folded;

    HeaderBlock() = default;
    HeaderBlock(HeaderBlock&&) noexcept = default;
    HeaderBlock& operator=(HeaderBlock&&) noexcept = default;
    HeaderBlock(const HeaderBlock&) = delete;
    HeaderBlock& operator=(const HeaderBlock&) = delete;
};

// A copy's views would point into the original's folded values; moves keep them (vectors of
// blocks grow by moving).
static_assert(!std::is_copy_constructible_v<HeaderBlock> && std::is_nothrow_move_constructible_v<HeaderBlock>);

/// The header block starting at `begin` in `bytes`, or nullopt when mimetic might read it in
/// any other way than described above (then nothing is known about it).
std::optional<HeaderBlock> read_header_block(std::string_view bytes, std::size_t begin);

/// One line of a header block, as the pre-scan found it while it read the block's lines anyway
/// (Prescan::field_lines): a field's first line or a fold of it.
struct HeaderLine {
    std::size_t begin = 0;
    std::size_t name_end = 0;     ///< a field: after its name (blanks before the colon cut)
    std::size_t value_begin = 0;  ///< after the colon and the blanks that follow; a fold: after its leading blanks
    std::size_t content_end = 0;  ///< where its line end starts
    std::size_t end = 0;          ///< after its line end
    bool fold = false;
};

/// The block read_header_block(bytes, lines.front().begin) gives, built from lines the pre-scan
/// already vouched for (the conditions above), without reading the bytes again. `blank_line`
/// and `end`: the block's empty line and the first byte after it.
HeaderBlock header_block_from_lines(std::string_view bytes, std::span<const HeaderLine> lines, std::size_t blank_line,
                                    std::size_t end);

}  // namespace ticketd::parsers
