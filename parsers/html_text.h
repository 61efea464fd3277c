#pragma once
// Internal to parsers/html.cpp and parsers/html_stream.cpp: the text both HTML paths build. The
// gumbo path walks gumbo's tree; the streaming path emulates the same tree while it tokenizes.
// Both feed the same events (element entered, text, element left) to a TextBuilder, so the
// output can only differ if the events differ.

#include <gumbo.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ticketd::parsers::html_internal {

/// Whether an element and everything in it is left out of the text: scripts, styles, <head>,
/// form controls, embedded objects, the `hidden` attribute and inline `display:none`.
bool skipped_element(GumboTag tag, bool has_hidden, std::string_view style);

// The bytes Writer::text handles one at a time: white space and the lead byte of U+00A0 (and in
// <pre>, where blanks are kept, line ends and that lead byte); the others are copied in runs.
inline constexpr auto kSpecial = [] {
    std::array<bool, 256> t{};
    for (unsigned char c : {' ', '\t', '\n', '\r', '\f'}) t[c] = true;
    t[0xC2] = true;
    return t;
}();
inline constexpr auto kPreSpecial = [] {
    std::array<bool, 256> t{};
    t['\r'] = t['\n'] = t[0xC2] = true;
    return t;
}();

// Accumulates text with whitespace collapsed; line breaks, list markers, quote prefixes and
// cell separators are held pending and only written when real text follows, so empty
// elements leave no trace.
class Writer {
public:
    void text(std::string_view t, bool pre) {
        const std::size_t n = t.size();
        for (std::size_t i = 0; i < n;) {
            // A run of bytes written as they are goes out in one append: put() flushes first, and
            // after one flush the state is clean (no break, space, separator or prefix pending),
            // so a put per byte flushed nothing more (it was most of the cost of a text node).
            std::size_t j = i;
            const auto& special = pre ? kPreSpecial : kSpecial;
            while (j < n && !special[static_cast<unsigned char>(t[j])]) ++j;
            if (j > i) {
                flush();
                out_.append(t.data() + i, j - i);
                i = j;
                continue;
            }
            unsigned char c = static_cast<unsigned char>(t[i]);
            bool nbsp = c == 0xC2 && i + 1 < n && static_cast<unsigned char>(t[i + 1]) == 0xA0;
            ++i;
            if (pre) {
                if (c == '\r') continue;
                if (c == '\n') {
                    flush();
                    out_ += '\n';
                    line_start_ = true;
                    continue;
                }
                if (nbsp) { ++i; put(' '); continue; }
                put(static_cast<char>(c));
                continue;
            }
            if (nbsp || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f') {
                if (nbsp) ++i;
                if (!line_start_) space_ = true;
                continue;
            }
            put(static_cast<char>(c));
        }
    }
    void block(int n) {
        if (out_.empty()) return;
        newlines_ = std::max(newlines_, n);
        space_ = false;
        cell_sep_ = false;
    }
    void br() {
        if (out_.empty() && newlines_ == 0) return;
        newlines_ = std::min(newlines_ + 1, 2);
        space_ = false;
    }
    void marker(std::string m) { marker_ = std::move(m); }
    void cell() { cell_sep_ = newlines_ == 0 && !line_start_; }
    // A link remembers where its text starts; separators written just before that text are
    // not part of it.
    void push_anchor() { anchors_.push_back(out_.size()); }
    std::size_t pop_anchor() {
        std::size_t a = anchors_.empty() ? out_.size() : anchors_.back();
        if (!anchors_.empty()) anchors_.pop_back();
        return a;
    }
    void quote(int delta) { quote_ += delta; }
    std::size_t size() const { return out_.size(); }
    std::string_view since(std::size_t pos) const {
        return pos < out_.size() ? std::string_view(out_).substr(pos) : std::string_view();
    }
    std::string take() { return std::move(out_); }

private:
    void flush() {
        std::size_t before = out_.size();
        separate();
        for (std::size_t& a : anchors_)
            if (a == before) a = out_.size();
    }
    void separate() {
        if (newlines_ > 0) {
            if (!out_.empty()) out_.append(static_cast<std::size_t>(newlines_), '\n');
            newlines_ = 0;
            line_start_ = true;
            space_ = false;
            cell_sep_ = false;
        }
        if (line_start_) {
            for (int q = 0; q < quote_; ++q) out_ += "> ";
            out_ += marker_;
            marker_.clear();
            line_start_ = false;
            space_ = false;
            cell_sep_ = false;
            return;
        }
        if (cell_sep_) {
            out_ += " | ";
            cell_sep_ = false;
            space_ = false;
        } else if (space_) {
            out_ += ' ';
            space_ = false;
        }
    }
    void put(char c) {
        flush();
        out_ += c;
    }

    std::string out_;
    int newlines_ = 0;
    bool space_ = false;
    bool line_start_ = true;
    bool cell_sep_ = false;
    int quote_ = 0;
    std::string marker_;
    std::vector<std::size_t> anchors_;
};

/// The element events of one document, in tree order, turned into text. Elements left out
/// (skipped_element) are never entered: their subtree gives no events.
class TextBuilder {
public:
    explicit TextBuilder(std::size_t max_depth) : max_depth_(max_depth) {}
    /// `href` is read for <a> only, `alt` for <img> only.
    void enter(GumboTag tag, std::string_view href, std::string_view alt);
    void leave();
    void text(std::string_view t) { w_.text(t, pre_depth_ > 0); }
    /// The element at depth `i` (0: <html>) and the one inside it trade places, no event: the
    /// adoption agency moving an inert formatting element, which gives no text of its own.
    void swap_with_next(std::size_t i) { std::swap(frames_[i], frames_[i + 1]); }
    std::string finish();

private:
    struct Frame {
        GumboTag tag;
        bool structural = false;  // within the depth bound: shapes the output
        int ol_counter = 0;       // for <ol>: the next item number
        std::string href;         // for <a>
    };
    Writer w_;
    std::vector<Frame> frames_;
    std::size_t max_depth_;
    int pre_depth_ = 0;
    int list_depth_ = 0;
};

}  // namespace ticketd::parsers::html_internal
