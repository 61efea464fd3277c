#pragma once
// The answer to `UID FETCH a:b (UID RFC822.SIZE BODY.PEEK[])`, parsed as it arrives: a stream of
//   * 7 FETCH (UID 12 RFC822.SIZE 2048 BODY[] {2048}\r\n<2048 bytes>)\r\n
// responses, other untagged lines, and finally the tagged completion. Pure and incremental: bytes
// are fed in pieces of any size (libcurl hands them over a line at a time through the header
// callback), and only complete responses, literal and closing parenthesis included, come out.
//
// Literals are counted in bytes, never read as lines: a message body may hold lines like
// "A001 OK", "* 5 FETCH (...)" or "{99}", and none of them means anything inside a literal.
// Server text is untrusted: the parser never throws, caps every line and literal, and reports a
// broken stream as a value (failed()); whatever was complete before stays valid.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ticketd::mail {

/// One complete FETCH response that named a UID.
struct FetchItem {
    std::uint64_t uid = 0;
    std::optional<std::uint64_t> size;  ///< RFC822.SIZE, when the response carried it
    bool has_body = false;              ///< BODY[] came as a literal (false: absent or NIL)
    std::string body;                   ///< the literal's bytes, exactly
};

class FetchStreamParser {
public:
    /// `max_literal`: the largest literal accepted (the size limit); a bigger one fails the stream
    /// before a byte of it is stored. `max_line`: protocol lines outside literals.
    explicit FetchStreamParser(std::size_t max_literal, std::size_t max_line = 64 * 1024);

    /// Feed the next bytes. Returns false once the stream is broken (see error()); further
    /// input is then ignored.
    bool feed(std::string_view bytes);

    /// Responses completed so far, in arrival order; take_items() hands them over.
    const std::vector<FetchItem>& items() const { return items_; }
    std::vector<FetchItem> take_items();

    /// The tagged completion arrived ("A005 OK Fetch completed.").
    bool complete() const { return complete_; }
    /// Its status word and text after the tag ("OK Fetch completed."), empty before.
    const std::string& completion() const { return completion_; }
    bool completed_ok() const;

    bool failed() const { return failed_; }
    const std::string& error() const { return error_; }

    /// A line inside a literal began like a libcurl command tag (a capital letter, three digits,
    /// a space: "A005 "). libcurl reads custom-command answers line by line and would take such
    /// a line for the end of the command, so the caller must abort the transfer before libcurl
    /// sees it. Set once, stays set.
    bool tag_like_line_in_literal() const { return tag_like_; }

    /// Inside a literal right now (a transfer ending here ended mid-message).
    bool in_literal() const { return literal_left_ > 0; }

private:
    void fail(std::string why);
    void on_line(std::string_view line);
    void parse_items(std::string_view s);
    void end_literal();
    /// Watch line starts (after every LF) for tag-like text inside literals.
    void observe(std::string_view s, bool literal);

    std::size_t max_literal_, max_line_;
    std::vector<FetchItem> items_;
    std::string line_;
    bool complete_ = false;
    std::string completion_;
    bool failed_ = false;
    std::string error_;
    bool tag_like_ = false;

    // The FETCH response being read.
    bool in_fetch_ = false;
    FetchItem current_;
    bool has_uid_ = false;
    bool literal_is_body_ = false;
    std::size_t literal_left_ = 0;  // a literal of another item than BODY[] is counted, not kept

    // Line starts inside literals, for tag_like_line_in_literal().
    bool probing_ = true;
    bool probe_in_literal_ = false;
    std::string probe_;
};

/// The UIDs of `wanted` that `items` did not deliver with a body (sorted input not needed).
std::vector<std::uint64_t> uids_missing(const std::vector<std::uint64_t>& wanted,
                                        const std::vector<FetchItem>& items);

/// `UID FETCH <set> (UID RFC822.SIZE)`: sizes first, so nothing over the limit is downloaded.
std::string fetch_sizes_command(const std::vector<std::uint64_t>& uids);
/// `UID FETCH <set> (UID RFC822.SIZE BODY.PEEK[])`: PEEK, so nothing is \Seen before our commit.
std::string fetch_bodies_command(const std::vector<std::uint64_t>& uids);

/// Group `uids` (with their sizes, same order) into consecutive ranges of at most `max_bytes`
/// and `max_count` messages each. A message alone over `max_bytes` gets a group of its own.
std::vector<std::vector<std::uint64_t>> pack_ranges(const std::vector<std::uint64_t>& uids,
                                                    const std::vector<std::uint64_t>& sizes,
                                                    std::uint64_t max_bytes, std::size_t max_count);

}  // namespace ticketd::mail
