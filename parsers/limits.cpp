#include "parsers/limits.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <optional>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <mimetic/contenttype.h>

#include "parsers/content_type.h"
#include "parsers/headers.h"

namespace ticketd::parsers {

using namespace std::string_view_literals;

namespace {

struct Frame {
    bool multipart = false;
    std::string boundary;    ///< "--" + boundary parameter (multipart frames)
    std::string seen;        ///< the delimiter mimetic matches (differs when renamed)
    int ordinal = -1;        ///< multiparts in document order
    bool digest = false;     ///< multipart/digest: parts default to message/rfc822
    std::size_t rfc822 = 0;  ///< index into rfc822_bodies (message frames)
    /// A message mimetic keeps as one body (a digest part without Content-Type): nothing
    /// inside it is a leaf mimetic copies on its own.
    bool opaque = false;
};

bool ieq_prefix(std::string_view line, std::string_view name) {
    if (line.size() < name.size()) return false;
    for (std::size_t i = 0; i < name.size(); ++i) {
        char a = line[i];
        if (a >= 'A' && a <= 'Z') a = static_cast<char>(a + 32);
        if (a != name[i]) return false;
    }
    return true;
}

class Scanner {
public:
    /// `plan`: by multipart ordinal, whether its boundary must be renamed (second pass);
    /// null on the first pass, which renames nothing and finds out what needs it.
    Scanner(std::string_view raw, const Limits& limits, const std::vector<char>* plan, bool every_line)
        : raw_(raw), lim_(limits), plan_(plan), every_line_(every_line) {}

    /// Multiparts whose boundary mimetic would read differently from us (see
    /// finish_content_type); empty when none.
    const std::vector<char>& needs() const { return needs_; }
    bool any_need() const {
        for (char c : needs_)
            if (c) return true;
        return false;
    }

    std::variant<Prescan, ParseError> run() {
        if (raw_.size() > lim_.max_message_bytes)
            return ParseError{"too_large", "message is " + std::to_string(raw_.size()) + " bytes, the limit is " +
                                               std::to_string(lim_.max_message_bytes)};
        result_.field_lines.reserve(32);
        if (auto err = start_header_block(false, 0)) return *err;
        std::size_t pos = 0;
        while (pos < raw_.size()) {
            if (!in_header_ && !every_line_) {
                // In a body only lines holding "--" matter (a delimiter starts with it, and a
                // stray boundary holds it): jump to the next line that has one. Bodies are most
                // of the bytes, and nearly all their lines have none (base64 none at all).
                const std::size_t dash = find_dash_pair(pos);
                if (dash == npos) break;
                const void* before = memrchr(raw_.data() + pos, '\n', dash - pos);
                if (before) pos = static_cast<std::size_t>(static_cast<const char*>(before) - raw_.data()) + 1;
            }
            const void* nl = std::memchr(raw_.data() + pos, '\n', raw_.size() - pos);
            const std::size_t end = nl ? static_cast<const char*>(nl) - raw_.data() + 1 : raw_.size();
            std::string_view line = raw_.substr(pos, end - pos);  // with its line end
            if (!plan_) note_stray_boundaries(line);
            if (in_header_) {
                if (auto err = header_line(pos, line)) return *err;
            } else {
                if (auto err = body_line(pos, line)) return *err;
            }
            pos = end;
        }
        if (in_header_ && !raw_.empty()) {
            // mimetic drops the last field of a header block that ends the input without a
            // blank line (and without a line end): end the block properly.
            mend_at(raw_.size(), 0, raw_.back() == '\n' ? "\r\n" : "\r\n\r\n");
            end_block_record(raw_.size());
        }
        const std::size_t eof = out_pos(raw_.size());
        if (open_leaf_ != npos) result_.leaf_bodies[open_leaf_].second = eof;
        for (auto& f : frames_)
            if (!f.multipart && result_.rfc822_bodies[f.rfc822].second == npos) result_.rfc822_bodies[f.rfc822].second = eof;
        if (result_.changed) result_.mended.append(raw_.substr(copied_));
        else result_.skipped = copied_;
        unread_blocks_before_cr();
        return std::move(result_);
    }

private:
    static constexpr std::size_t npos = static_cast<std::size_t>(-1);

    /// The Content-Type of the current header block (its value after the colon), parsed once:
    /// the end of the field, a delimiter inside the block and the end of the block all read it.
    const ContentTypeValue& block_content_type() {
        if (!ct_parsed_) {
            std::string_view v = content_type_;
            if (const auto colon = v.find(':'); colon != std::string_view::npos) v = v.substr(colon + 1);
            else v = {};
            // Only a multipart's parameters are read here (its boundary): the others are not
            // decoded at all. A value that starts like one is read with them at once.
            const auto lead = v.find_first_not_of(" \t");
            const bool looks_multipart = lead != std::string_view::npos && ieq_prefix(v.substr(lead), "multipart/");
            ct_parsed_ = parse_content_type(v, looks_multipart);
            if (!looks_multipart && ct_parsed_->type == "multipart"sv) ct_parsed_ = parse_content_type(v);
        }
        return *ct_parsed_;
    }

    /// The first "--" at or after `from`, or npos.
    std::size_t find_dash_pair(std::size_t from) const {
        const char* const base = raw_.data();
        const std::size_t n = raw_.size();
#if defined(__SSE2__)
        // Both bytes of the pair at once, 16 positions a turn: text and HTML are full of single
        // dashes, each of which restarted a memchr.
        const __m128i dash = _mm_set1_epi8('-');
        while (from + 17 <= n) {
            const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(base + from));
            const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(base + from + 1));
            const unsigned both =
                static_cast<unsigned>(_mm_movemask_epi8(_mm_and_si128(_mm_cmpeq_epi8(a, dash), _mm_cmpeq_epi8(b, dash))));
            if (both) return from + static_cast<std::size_t>(__builtin_ctz(both));
            from += 16;
        }
#endif
        while (from + 1 < n) {
            const void* d = std::memchr(base + from, '-', n - from - 1);
            if (!d) return npos;
            const std::size_t at = static_cast<std::size_t>(static_cast<const char*>(d) - base);
            if (base[at + 1] == '-') return at;
            from = at + 1;
        }
        return npos;
    }

    /// Position in the output of raw position p (p >= copied_). Until something is mended the
    /// output is the input after the lines dropped from its front (copied_ of them).
    std::size_t out_pos(std::size_t p) const {
        if (p < copied_) p = copied_;
        return result_.changed ? result_.mended.size() + (p - copied_) : p - copied_;
    }

    /// Replace raw [p, p+len) by `with` in the output.
    void mend_at(std::size_t p, std::size_t len, std::string_view with) {
        if (!result_.changed && p == copied_ && with.empty()) {
            // Nothing kept yet before p, nothing written: the output just starts later. (No
            // line of the block being read is kept before p either: its reading stands.)
            copied_ = p + len;
            return;
        }
        ++mends_;  // a header block with a mend in it is not read as the pre-scan saw it
        if (!result_.changed) {
            result_.changed = true;
            result_.mended.reserve(raw_.size() + 64);
        }
        result_.mended.append(raw_.substr(copied_, p - copied_));
        result_.mended.append(with);
        copied_ = p + len;
    }

    /// `at`: where the block starts (raw position).
    std::optional<ParseError> start_header_block(bool nested, std::size_t at) {
        if (++result_.parts > lim_.max_parts)
            return ParseError{"too_many_parts", "more than " + std::to_string(lim_.max_parts) + " MIME parts"};
        // A block inside a message mimetic keeps as one body is body text to mimetic.
        block_record_ = npos;
        if (std::none_of(frames_.begin(), frames_.end(), [](const Frame& g) { return g.opaque; })) {
            block_record_ = result_.header_blocks.size();
            result_.header_blocks.emplace_back(out_pos(at), npos);
            Prescan::BlockRead r;
            r.first = r.last = result_.field_lines.size();
            result_.block_reads.push_back(r);
            block_mends_ = mends_;
            block_tidy_ = true;
            block_has_field_ = false;
            blank_line_out_ = npos;
        }
        message_block_ = nested;
        in_header_ = true;
        header_bytes_ = 0;
        field_len_ = 0;
        field_truncated_ = false;
        dropping_ = false;
        content_type_.clear();
        ct_parsed_.reset();
        in_content_type_ = false;
        ct_seen_ = false;
        header_lines_ = 0;
        skipping_continuations_ = false;
        cte_.clear();
        ct_field_begin_ = ct_field_end_ = 0;
        block_boundary_.clear();
        block_seen_.clear();
        block_ordinal_ = -1;
        return std::nullopt;
    }

    std::optional<ParseError> push(Frame f) {
        frames_.push_back(std::move(f));
        const int depth = static_cast<int>(frames_.size());
        if (depth > result_.depth) result_.depth = depth;
        if (depth > lim_.max_depth)
            return ParseError{"too_deep", "MIME nesting deeper than " + std::to_string(lim_.max_depth) + " levels"};
        return std::nullopt;
    }

    std::optional<ParseError> header_line(std::size_t pos, std::string_view line) {
        std::string_view content = line;
        while (!content.empty() && (content.back() == '\n' || content.back() == '\r')) content.remove_suffix(1);
        if (content.empty()) {
            if (in_content_type_) finish_content_type();
            if (block_record_ != npos) {
                if (!tidy_line_end(pos, line, content)) block_tidy_ = false;
                blank_line_out_ = out_pos(pos);
            }
            return end_header_block(pos + line.size());
        }
        if (content.size() >= 2 && content[0] == '-' && content[1] == '-' && matches_boundary(content)) {
            if (in_content_type_) finish_content_type();
            const auto m = match_boundary(content);
            if (header_lines_ == 0 && m->closing && pos == last_delim_raw_end_ && !plan_)
                need(frames_[m->frame].ordinal);
            if (header_lines_ == 0 && m->closing && pos == last_delim_raw_end_ && last_delim_mended_ && result_.changed &&
                last_delim_out_ <= result_.mended.size() && copied_ <= pos) {
                // "--b" directly followed by "--b--": no part in between was meant (and none
                // is counted by other parsers). Take back the opening delimiter.
                result_.mended.resize(last_delim_out_);
                copied_ = pos;
                drop_block_record();
                in_header_ = false;
                return body_line(pos, line);
            }
            // A delimiter inside a header block: the part has no body (and maybe no header).
            // mimetic needs the blank line that ends a header: add it before the delimiter.
            const bool crlf = line.size() >= 2 && line[line.size() - 2] == '\r';
            const char* eol = crlf ? "\r\n" : "\n";
            std::string insert = eol;
            if (content_type_.find(':') != std::string::npos) {
                const auto& ct = block_content_type();
                if (ct.type == "message"sv && ct.subtype == "rfc822"sv)
                    result_.rfc822_bodies.emplace_back(out_pos(pos), out_pos(pos));
                // An empty multipart: close it, or mimetic would end every enclosing level
                // at the enclosing delimiter that follows.
                if (ct.type == "multipart"sv && block_seen_.size() > 2) insert += block_seen_ + "--" + eol;
            }
            mend_at(pos, 0, insert);
            end_block_record(pos);
            in_header_ = false;
            return body_line(pos, line);
        }

        ++header_lines_;
        const bool continuation = content[0] == ' ' || content[0] == '\t';
        const std::size_t name_end = continuation ? npos : field_name_end(content);
        if (header_lines_ == 1 && message_block_ && !continuation && name_end == npos) {
            // An attached "message" that does not start with a header field is not one:
            // mimetic reads it as body, and so do we.
            drop_block_record();
            in_header_ = false;
            return std::nullopt;
        }
        if (continuation && header_lines_ == 1 && !message_block_) {
            // folded text with nothing to fold into
            mend_at(pos, line.size(), "");
            skipping_continuations_ = true;
            return std::nullopt;
        }
        if (!continuation && name_end == npos) {
            // Not "name: value" (fuzzed or broken header): mimetic would start the body here
            // and lose every field after it; skip the line and keep reading fields, as other
            // parsers do.
            if (in_content_type_) finish_content_type();
            mend_at(pos, line.size(), "");
            skipping_continuations_ = true;
            if (!warned_bad_line_) result_.warnings.push_back("malformed header line skipped");
            warned_bad_line_ = true;
            return std::nullopt;
        }
        if (continuation && skipping_continuations_) {
            mend_at(pos, line.size(), "");
            return std::nullopt;
        }
        skipping_continuations_ = false;
        if (!continuation && in_content_type_) finish_content_type();
        // The two fields read here both start "content-": most lines are spared the rest.
        const bool content_field = !continuation && ieq_prefix(content, "content-");
        if (content_field && ieq_prefix(content.substr(8), "transfer-encoding:"))
            cte_ = ascii_lower(trim(content.substr(26)));
        if (!continuation) {
            field_len_ = 0;
            field_truncated_ = false;
            in_content_type_ = content_field &&
                               (ieq_prefix(content.substr(8), "type:") || ieq_prefix(content.substr(8), "type :")) &&
                               !ct_seen_;
            if (in_content_type_) ct_seen_ = true;
            if (in_content_type_) ct_field_begin_ = pos;
        }
        {
            // count what is kept: a field cut to max_header_line must not drop its neighbours
            const std::size_t room = lim_.max_header_line > field_len_ ? lim_.max_header_line - field_len_ : 0;
            header_bytes_ += field_truncated_ ? 0 : std::min(line.size(), room + 2);
        }
        if (!dropping_ && header_bytes_ > lim_.max_header_bytes) {
            dropping_ = true;
            result_.warnings.push_back("header block larger than " + std::to_string(lim_.max_header_bytes) +
                                       " bytes: later fields dropped");
        }
        if (dropping_) {
            mend_at(pos, line.size(), "");
            return std::nullopt;
        }
        if (field_truncated_) {  // continuation of a field already cut
            mend_at(pos, line.size(), "");
            return std::nullopt;
        }
        const std::size_t room = lim_.max_header_line > field_len_ ? lim_.max_header_line - field_len_ : 0;
        if (content.size() > room) {
            field_truncated_ = true;
            const auto colon = content.find(':');
            std::string name = colon != std::string_view::npos && colon < 80 ? std::string(content.substr(0, colon)) : "?";
            result_.warnings.push_back("header field '" + sanitize_name(name) + "' longer than " +
                                       std::to_string(lim_.max_header_line) + " bytes: truncated");
            std::string cut(content.substr(0, room));
            for (auto& c : cut)
                if (c == '\0') c = ' ';
            cut += "\r\n";
            mend_at(pos, line.size(), cut);
            if (in_content_type_) {
                content_type_.append(content.substr(0, std::min<std::size_t>(room, 8192)));
                ct_parsed_.reset();
            }
            return std::nullopt;
        }
        field_len_ += content.size();
        if (in_content_type_) ct_field_end_ = pos + line.size();
        if (in_content_type_ && content_type_.size() < 8192) {
            content_type_.append(content.substr(0, 8192));
            ct_parsed_.reset();
        }
        const unsigned specials = cr_or_nul_in(pos, content);
        if (block_record_ != npos && block_tidy_) note_line(pos, line, content, name_end, specials);
        if (specials & kNul) {
            // mimetic cuts a header at a NUL: make it a blank instead, and say so.
            std::string fixed(line);
            for (auto& c : fixed)
                if (c == '\0') c = ' ';
            mend_at(pos, line.size(), fixed);
            result_.warnings.push_back("NUL byte in a header replaced by a blank");
        }
        return std::nullopt;
    }

    /// Where the field name ends when the line is a field: a name mimetic accepts (printable,
    /// no blank inside), then optional blanks, then ':'. npos when it is not a field.
    static std::size_t field_name_end(std::string_view line) {
        std::size_t i = 0;
        while (i < line.size() && static_cast<unsigned char>(line[i]) > 32 && static_cast<unsigned char>(line[i]) < 127 &&
               line[i] != ':')
            ++i;
        if (i == 0) return npos;
        const std::size_t name_end = i;
        while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
        return i < line.size() && line[i] == ':' ? name_end : npos;
    }

    static std::string sanitize_name(std::string s) {
        for (auto& c : s)
            if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = '?';
        return s;
    }

    /// The open header block ends at raw position p (after its empty line).
    void end_block_record(std::size_t p) {
        if (block_record_ != npos) {
            result_.header_blocks[block_record_].second = out_pos(p);
            Prescan::BlockRead& r = result_.block_reads[block_record_];
            if (block_tidy_ && mends_ == block_mends_ && blank_line_out_ != npos) {
                r.read = true;
                r.last = result_.field_lines.size();
                r.blank_line = blank_line_out_;
            } else {
                result_.field_lines.resize(r.first);
            }
        }
        block_record_ = npos;
    }

    /// A block kept whose empty line is a lone LF, with a CR right after it in the bytes to
    /// parse, ends in LF CR to mimetic (one line end: the body starts a byte later): it is left
    /// to read_header_block. The input's own CR there spoiled the block already (tidy_line_end);
    /// this catches one a later mend brought: a CR written there (an empty message/rfc822 at the
    /// end of the input or before a delimiter, found by review), or a line dropped in between.
    void unread_blocks_before_cr() {
        const std::string_view out = result_.bytes(raw_);
        for (std::size_t k = 0; k < result_.block_reads.size(); ++k) {
            Prescan::BlockRead& r = result_.block_reads[k];
            const std::size_t end = result_.header_blocks[k].second;
            if (r.read && end - r.blank_line == 1 && end < out.size() && out[end] == '\r') {
                r.read = false;
                r.last = r.first;
            }
        }
    }

    /// The open header block was not one after all.
    void drop_block_record() {
        if (block_record_ != npos && block_record_ + 1 == result_.header_blocks.size()) {
            result_.header_blocks.pop_back();
            result_.field_lines.resize(result_.block_reads.back().first);
            result_.block_reads.pop_back();
        }
        block_record_ = npos;
    }

    /// A header line's end as read_header_block takes it: CR LF, or a lone LF not followed by
    /// a CR (mimetic pairs LF CR).
    bool tidy_line_end(std::size_t pos, std::string_view line, std::string_view content) const {
        const std::size_t tail = line.size() - content.size();
        if (tail == 2) return line[line.size() - 2] == '\r' && line.back() == '\n';
        return tail == 1 && line.back() == '\n' && (pos + line.size() >= raw_.size() || raw_[pos + line.size()] != '\r');
    }

    static constexpr unsigned kCr = 1, kNul = 2;

    /// Whether the header line content `s` (at raw position `pos`) holds a CR or a NUL
    /// (kCr | kNul): one pass for both. Header lines are short: a line with 16 bytes of the
    /// message after its start is read in one load, the bytes past its end masked off.
    unsigned cr_or_nul_in(std::size_t pos, std::string_view s) const {
        unsigned found = 0;
#if defined(__SSE2__)
        const __m128i cr = _mm_set1_epi8('\r'), nul = _mm_setzero_si128();
        auto test = [&](const char* at, unsigned keep) {
            const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(at));
            if (static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, cr))) & keep) found |= kCr;
            if (static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, nul))) & keep) found |= kNul;
        };
        if (s.size() < 16) {
            if (pos + 16 <= raw_.size()) {
                test(raw_.data() + pos, (1u << s.size()) - 1);
                return found;
            }
        } else {
            std::size_t i = 0;
            for (; i + 16 <= s.size(); i += 16) test(s.data() + i, 0xffffu);
            if (i < s.size()) test(s.data() + s.size() - 16, 0xffffu);  // overlaps bytes already tested
            return found;
        }
#endif
        for (char c : s) {
            if (c == '\r') found |= kCr;
            else if (c == '\0') found |= kNul;
        }
        return found;
    }

    /// Keep a header line the block's reading goes by (Prescan::field_lines), or find that the
    /// block cannot be read from them. Called for each line kept as it is (every other line
    /// was mended, and a mend spoils the block anyway).
    void note_line(std::size_t pos, std::string_view line, std::string_view content, std::size_t name_end,
                   unsigned specials) {
        const bool continuation = name_end == npos;
        // A fold with no field above it: mimetic reads a name with a blank in it.
        if (specials || (continuation && !block_has_field_) || !tidy_line_end(pos, line, content)) {
            block_tidy_ = false;
            return;
        }
        HeaderLine l;
        l.begin = out_pos(pos);
        l.content_end = l.begin + content.size();
        l.end = l.begin + line.size();
        std::size_t i = 0;
        auto blank = [&](std::size_t k) { return content[k] == ' ' || content[k] == '\t'; };
        if (continuation) {
            l.fold = true;
        } else {
            // field_name_end said: the name, blanks, then the colon.
            i = name_end;
            l.name_end = l.begin + i;
            while (i < content.size() && blank(i)) ++i;
            ++i;  // the colon
            block_has_field_ = true;
        }
        while (i < content.size() && blank(i)) ++i;
        l.value_begin = l.begin + i;
        result_.field_lines.push_back(l);
    }

    std::optional<ParseError> end_header_block(std::size_t body_begin) {
        end_block_record(body_begin);
        in_header_ = false;
        const auto& ct = block_content_type();
        bool parent_digest = !frames_.empty() && frames_.back().multipart && frames_.back().digest && !at_top_;
        at_top_ = false;
        if (ct.type == "multipart"sv) {
            Frame f;
            f.multipart = true;
            f.boundary = block_boundary_;
            f.seen = block_seen_;
            f.ordinal = block_ordinal_;
            f.digest = ct.subtype == "digest"sv;
            return push(std::move(f));
        }
        const bool in_opaque = std::any_of(frames_.begin(), frames_.end(), [](const Frame& g) { return g.opaque; });
        if ((ct.type == "message"sv && ct.subtype == "rfc822"sv) || (ct.type.empty() && parent_digest)) {
            Frame f;
            f.opaque = in_opaque || ct.type.empty();
            f.rfc822 = result_.rfc822_bodies.size();
            result_.rfc822_bodies.emplace_back(out_pos(body_begin), npos);
            if (auto err = push(std::move(f))) return err;
            // An encoded message (base64 / QP, against RFC 2046) is decoded and parsed later
            // from its own bytes: here it is opaque body text.
            if (cte_ == "base64"sv || cte_ == "quoted-printable"sv) return std::nullopt;
            return start_header_block(true, body_begin);
        }
        if (!in_opaque) {
            open_leaf_ = result_.leaf_bodies.size();
            result_.leaf_bodies.emplace_back(out_pos(body_begin), npos);
            result_.leaf_messages.push_back(
                static_cast<int>(std::count_if(frames_.begin(), frames_.end(), [](const Frame& g) { return !g.multipart; })));
        }
        return std::nullopt;
    }

    /// Boundaries are matched the way mail parsers agree on (mail-parser, Dovecot): only the
    /// innermost open multipart's boundary delimits, as a line prefix; an enclosing boundary
    /// inside an unclosed inner multipart is content. mimetic matches every open boundary and
    /// never recovers from an unclosed inner one, and finds no boundary in "multipart/mixed
    /// boundary=x" (no ';'). So every multipart gets a unique boundary name, its Content-Type
    /// field is rewritten to carry it, and each delimiter line is rewritten to match: mimetic
    /// then sees exactly the structure found here (and bounded here).
    void finish_content_type() {
        in_content_type_ = false;
        std::string_view v = content_type_;
        if (const auto colon = v.find(':'); colon != std::string_view::npos) v = v.substr(colon + 1);
        else v = {};
        const auto& ct = block_content_type();
        if (ct.type != "multipart"sv) return;
        const std::string boundary = param(ct.params, "boundary");
        block_ordinal_ = next_ordinal_++;
        const std::string mimetic_boundary = boundary_as_mimetic_reads_it(v);
        if (!plan_) {
            // First pass: would mimetic see the same boundary, and only where we do?
            bool conflict = boundary.empty() || mimetic_boundary != boundary;
            for (const auto& g : frames_)
                if (g.multipart && g.boundary.size() > 2 &&
                    (g.boundary.compare(0, boundary.size() + 2, "--" + boundary) == 0 ||
                     ("--" + boundary).compare(0, g.boundary.size(), g.boundary) == 0))
                    conflict = true;
            if (conflict) need(block_ordinal_);
        }
        const bool rename = plan_ && block_ordinal_ < static_cast<int>(plan_->size()) && (*plan_)[block_ordinal_];
        if (!rename) {
            block_boundary_ = boundary.empty() ? std::string() : "--" + boundary;
            block_seen_ = "--" + mimetic_boundary;
            return;
        }
        if (ct_field_end_ > ct_field_begin_ && copied_ <= ct_field_begin_) {
            if (token_prefix_.empty()) {
                token_prefix_ = "=_ticketd_";
                while (raw_.find(token_prefix_) != std::string_view::npos) token_prefix_ += "x_";
            }
            const std::string name = token_prefix_ + std::to_string(++renamed_) + "_";
            const bool crlf = ct_field_end_ >= 2 && raw_[ct_field_end_ - 2] == '\r';
            std::string subtype;
            for (char c : ct.subtype)
                if (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_') subtype.push_back(c);
            mend_at(ct_field_begin_, ct_field_end_ - ct_field_begin_,
                    "Content-Type: multipart/" + (subtype.empty() ? std::string("mixed") : subtype) +
                        "; boundary=\"" + name + "\"" + (crlf ? "\r\n" : "\n"));
            block_boundary_ = boundary.empty() ? std::string() : "--" + boundary;
            block_seen_ = "--" + name;
        } else {
            // The field was cut (limits): leave it, and follow what mimetic will do with it.
            block_boundary_ = block_seen_ = "--" + mimetic_boundary;
        }
    }

    /// ContentType::param("boundary") of mimetic's reading of `v` (the value after the colon):
    /// without mimetic's tokenizer when the value is in the plain form (content_type.h).
    static std::string boundary_as_mimetic_reads_it(std::string_view v) {
        const auto lead = v.find_first_not_of(" \t");
        if (lead != std::string_view::npos)
            if (const auto simple = read_simple_content_type(v.substr(lead))) return std::string(simple->boundary());
        return mimetic::ContentType{std::string(v)}.param("boundary");
    }

    void need(int ordinal) {
        if (ordinal < 0) return;
        if (needs_.size() <= static_cast<std::size_t>(ordinal)) needs_.resize(ordinal + 1, 0);
        needs_[ordinal] = 1;
    }

    /// mimetic searches a boundary anywhere in the bytes, innermost first, then enclosing
    /// ones: a boundary string where we see none (mid-line, or an enclosing boundary inside
    /// an open inner multipart) means that multipart must be renamed.
    void note_stray_boundaries(std::string_view line) {
        if (frames_.empty() || line.find("--") == std::string_view::npos) return;
        bool innermost = true;
        for (std::size_t k = frames_.size(); k-- > 0;) {
            const Frame& f = frames_[k];
            if (!f.multipart) continue;
            if (f.seen.size() > 2) {
                const auto at = line.find(f.seen);
                if (at != std::string_view::npos && (at > 0 || !innermost || f.seen != f.boundary)) need(f.ordinal);
            }
            innermost = false;
        }
    }

    struct BoundaryMatch {
        std::size_t frame;
        bool closing;
        bool exact;  ///< the whole line is the delimiter (plus transport padding)
    };

    std::optional<BoundaryMatch> match_boundary(std::string_view content) const {
        for (std::size_t k = frames_.size(); k-- > 0;) {
            const Frame& f = frames_[k];
            if (!f.multipart) continue;  // a message inside a multipart ends at its delimiter
            if (f.boundary.size() <= 2 || content.compare(0, f.boundary.size(), f.boundary) != 0) return std::nullopt;
            const bool closing = content.compare(f.boundary.size(), 2, "--") == 0;
            return BoundaryMatch{k, closing, true};
        }
        return std::nullopt;
    }

    bool matches_boundary(std::string_view line) const { return match_boundary(line).has_value(); }

    std::optional<ParseError> body_line(std::size_t pos, std::string_view line) {
        if (line.size() < 2 || line[0] != '-' || line[1] != '-') return std::nullopt;
        std::string_view content = line;
        while (!content.empty() && (content.back() == '\n' || content.back() == '\r')) content.remove_suffix(1);
        const auto m = match_boundary(content);
        if (!m) return std::nullopt;
        const std::size_t k = m->frame;
        // The line end before a boundary belongs to the boundary.
        std::size_t body_end = pos;
        if (body_end > 0 && raw_[body_end - 1] == '\n') --body_end;
        if (body_end > 0 && raw_[body_end - 1] == '\r') --body_end;
        if (open_leaf_ != npos) {
            result_.leaf_bodies[open_leaf_].second = out_pos(body_end);
            open_leaf_ = npos;
        }
        close_above(k, body_end);
        const Frame& f = frames_[k];
        // A delimiter as the very last line opens a part with nothing in it: no sender meant
        // one, so it closes the multipart instead.
        const bool closing = m->closing || pos + line.size() >= raw_.size();
        const std::string delimiter = f.seen + (closing ? "--" : "");
        last_delim_raw_end_ = pos + line.size();
        last_delim_mended_ = false;
        if (content != delimiter) {
            mend_at(pos, content.size(), delimiter);
            last_delim_out_ = result_.mended.size() - delimiter.size();
            last_delim_mended_ = true;
        }
        if (closing) {
            frames_.resize(k);
            return std::nullopt;
        }
        return start_header_block(false, pos + line.size());
    }

    /// Pop every frame above index k, ending open message bodies at `end` (raw position).
    /// Returns the delimiters (as mimetic sees them, innermost first, one per line) of the
    /// multiparts popped without their closing delimiter.
    std::string close_above(std::size_t k, std::size_t end) {
        std::string unclosed;
        while (frames_.size() > k + 1) {
            const Frame& f = frames_.back();
            if (!f.multipart && result_.rfc822_bodies[f.rfc822].second == npos)
                result_.rfc822_bodies[f.rfc822].second = out_pos(end);
            if (f.multipart && f.seen.size() > 2 && f.seen.find('\n') == std::string::npos) unclosed += f.seen + "\n";
            frames_.pop_back();
        }
        return unclosed;
    }

    std::string_view raw_;
    const Limits& lim_;
    Prescan result_;
    std::size_t copied_ = 0;
    std::vector<Frame> frames_;
    bool in_header_ = false;
    bool at_top_ = true;
    std::size_t header_bytes_ = 0, field_len_ = 0;
    bool field_truncated_ = false, dropping_ = false;
    std::string content_type_;
    std::optional<ContentTypeValue> ct_parsed_;  ///< content_type_ parsed (block_content_type)
    bool in_content_type_ = false;
    std::size_t ct_field_begin_ = 0, ct_field_end_ = 0;
    bool ct_seen_ = false;
    std::size_t header_lines_ = 0;
    bool skipping_continuations_ = false, warned_bad_line_ = false;
    std::string cte_;
    bool message_block_ = false;  ///< the header block of an attached message/rfc822
    std::size_t last_delim_out_ = npos, last_delim_raw_end_ = npos;
    bool last_delim_mended_ = false;
    std::size_t open_leaf_ = npos;  ///< index into leaf_bodies of the leaf whose body is being read
    std::size_t block_record_ = npos;  ///< index into header_blocks of the block being read
    std::size_t mends_ = 0;            ///< mend_at calls so far
    std::size_t block_mends_ = 0;      ///< mends_ when the block being read started
    bool block_tidy_ = false;          ///< the block's lines so far can be read from field_lines
    bool block_has_field_ = false;
    std::size_t blank_line_out_ = npos;  ///< the block's empty line (output position), once read
    const std::vector<char>* plan_ = nullptr;
    bool every_line_ = false;  ///< read every body line (the reference the skipping is tested against)
    std::vector<char> needs_;
    int next_ordinal_ = 0, block_ordinal_ = -1;
    std::string block_boundary_, block_seen_;
    std::string token_prefix_;
    int renamed_ = 0;
};

}  // namespace

namespace {

std::variant<Prescan, ParseError> scan(std::string_view raw, const Limits& limits, bool every_line) {
    // Most mail needs no boundary renamed, and then no copy of the message is made (a copy of
    // a large attachment is what would dominate memory); the rest takes a second pass.
    Scanner first(raw, limits, nullptr, every_line);
    auto result = first.run();
    if (std::holds_alternative<ParseError>(result) || !first.any_need()) return result;
    std::vector<char> plan = first.needs();
    return Scanner(raw, limits, &plan, every_line).run();
}

}  // namespace

std::variant<Prescan, ParseError> prescan(std::string_view raw, const Limits& limits) {
    return scan(raw, limits, false);
}

std::variant<Prescan, ParseError> prescan_every_line(std::string_view raw, const Limits& limits) {
    return scan(raw, limits, true);
}

}  // namespace ticketd::parsers
