#pragma once
// HTML -> readable plain text for the ticket view (gumbo). The declaration agents call is
// parsers::html_to_text in body.h; this header adds the knobs tests and callers may need.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ticketd::parsers {

/// Bounds against hostile HTML. Past `max_depth` elements still give their text, but no longer
/// add structure (block breaks, list markers, quote prefixes).
struct HtmlLimits {
    std::size_t max_input_bytes = 4u << 20;  ///< longer input is cut (the raw part is kept elsewhere)
    std::size_t max_depth = 200;             ///< element nesting that still shapes the output
    /// Opening tags nested deeper than this are removed before parsing (their text stays):
    /// gumbo's tree building is quadratic in nesting depth.
    std::size_t max_nesting = 512;
};

/// Readable text: scripts, styles, comments, <head> and display:none dropped; block elements
/// become line breaks, list items "- " (or "N. " in <ol>), links "text (url)" when the two
/// differ, table cells " | "-separated per row, <blockquote> lines prefixed with "> ".
std::string html_to_text(std::string_view html, const HtmlLimits& limits);

/// The two paths html_to_text takes, apart, for the differential tests and the fuzzer.
namespace html_detail {
/// The reference: gumbo's HTML5 tree, walked.
std::string gumbo_to_text(std::string_view html, const HtmlLimits& limits);
/// The fast path (parsers/html_stream.cpp): one pass that tokenizes and emulates HTML5 tree
/// building for the markup mail is made of; nullopt wherever the stream alone could not be sure
/// to build gumbo's tree (then html_to_text uses gumbo_to_text). When it gives text, the text
/// is gumbo_to_text's.
std::optional<std::string> stream_to_text(std::string_view html, const HtmlLimits& limits);
/// Whether gumbo_to_text's pre-pass would drop opening tags nested past limits.max_nesting.
bool would_drop_deep_tags(std::string_view html, std::size_t limit);
/// Documents that show whether the installed libgumbo builds the trees the stream copies.
const std::vector<std::string_view>& canary_documents();
/// Whether the stream gives gumbo's text on every canary (checked once per process); if not,
/// html_to_text uses gumbo alone.
bool stream_agrees_with_gumbo();
}  // namespace html_detail

}  // namespace ticketd::parsers
