#include "parsers/mime.h"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cassert>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <sstream>
#include <mimetic/mimetic.h>

#include "parsers/charset.h"
#include "parsers/content_type.h"
#include "parsers/header_block.h"
#include "parsers/headers.h"
#include "parsers/textutil.h"
#include "parsers/transfer.h"

namespace ticketd::parsers {

using namespace std::string_view_literals;

std::string sha256_hex(std::string_view data) {
    // EVP_sha256() makes OpenSSL 3 look the implementation up (EVP_MD_fetch, locks) on every
    // init: fetched once here, and one context per thread reused (parse() runs on any thread).
    static EVP_MD* const sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    thread_local std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!sha256 || !ctx || EVP_DigestInit_ex(ctx.get(), sha256, nullptr) != 1 ||
        EVP_DigestUpdate(ctx.get(), data.data(), data.size()) != 1 || EVP_DigestFinal_ex(ctx.get(), md, &len) != 1)
        return {};
    static const char* hex = "0123456789abcdef";
    std::string out(len * 2, '0');
    for (unsigned i = 0; i < len; ++i) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    return out;
}

std::string leaf_sha256(const Leaf& l) { return l.sha256.empty() ? sha256_hex(l.data) : l.sha256; }

namespace {

/// The fields the walk looks up by name (compared without regard to case); `other`: the rest.
enum class Name : unsigned char {
    other, from, sender, reply_to, to, cc, bcc, return_path, message_id, in_reply_to, references, date, subject,
    content_type, content_id, content_disposition, content_transfer_encoding,
};

/// Which of the walk's names `n` is: by length first, so most fields take one comparison or none
/// (no lower-case copy of every name).
Name name_of(std::string_view n) {
    switch (n.size()) {
        case 2: return text::iequals(n, "to") ? Name::to : text::iequals(n, "cc") ? Name::cc : Name::other;
        case 3: return text::iequals(n, "bcc") ? Name::bcc : Name::other;
        case 4: return text::iequals(n, "from") ? Name::from : text::iequals(n, "date") ? Name::date : Name::other;
        case 6: return text::iequals(n, "sender") ? Name::sender : Name::other;
        case 7: return text::iequals(n, "subject") ? Name::subject : Name::other;
        case 8: return text::iequals(n, "reply-to") ? Name::reply_to : Name::other;
        case 10:
            return text::iequals(n, "message-id")   ? Name::message_id
                   : text::iequals(n, "references") ? Name::references
                   : text::iequals(n, "content-id") ? Name::content_id
                                              : Name::other;
        case 11:
            return text::iequals(n, "in-reply-to") ? Name::in_reply_to : text::iequals(n, "return-path") ? Name::return_path : Name::other;
        case 12: return text::iequals(n, "content-type") ? Name::content_type : Name::other;
        case 19: return text::iequals(n, "content-disposition") ? Name::content_disposition : Name::other;
        case 25: return text::iequals(n, "content-transfer-encoding") ? Name::content_transfer_encoding : Name::other;
        default: return Name::other;
    }
}

struct RawField {
    std::string_view name;  // as written: a view of mimetic's field or of the input, which outlive the walk
    Name kind = Name::other;
    /// Unfolded, raw bytes (see fields_of: not always filled): a view of the input (a left-out
    /// block's field, which outlives the walk) or of `owned` (a value mimetic wrote out).
    std::string_view value() const { return has_owned ? std::string_view(owned) : in_place; }
    void set_value(std::string_view v) { in_place = v; }
    void set_owned(std::string v) {
        owned = std::move(v);
        has_owned = true;
    }
    /// The owned value, given away (the field is not read again), else a copy of the view.
    std::string take_value() { return has_owned ? std::move(owned) : std::string(in_place); }
    std::string owned;
    std::string_view in_place;
    bool has_owned = false;
    const mimetic::Field* field = nullptr;
    std::string_view raw;   // the value as read_header_block gave it (a field mimetic did not read)
    /// The first Content-Type of a left-out block, in the plain form: as read_simple_content_type
    /// split it (else null; LeftOutBlock::simple_ct).
    const SimpleContentType* simple_ct = nullptr;
};

/// The fields whose values the walk reads in a part (the message itself reads every one).
bool value_read_in_part(Name n) {
    switch (n) {
        case Name::from: case Name::subject: case Name::content_id: case Name::message_id:
        case Name::content_disposition: case Name::content_transfer_encoding:
            return true;
        default:
            return false;
    }
}

/// `every_value`: fill every value (the message's own header), else only those a part reads.
/// mimetic rebuilds a value on every value() call (a Content-Type through an ostream): a part's
/// Content-Type comes from the parsed object, its text only when that fails (field_value()).
/// `out`: cleared and filled (a vector reused from part to part keeps its capacity).
void fields_of(const mimetic::MimeEntity& e, bool every_value, std::vector<RawField>& out) {
    out.clear();
    out.reserve(e.header().size());
    for (const auto& f : e.header()) {
        RawField& r = out.emplace_back();  // made in place: a RawField is ~100 bytes
        r.name = std::string_view(f.name());
        r.kind = name_of(r.name);
        r.field = &f;
        if (every_value || value_read_in_part(r.kind)) {
            // value() is a fresh string: trimmed in place when it needs it, not copied again.
            std::string v = f.value();
            const std::string_view t = trim(v);
            r.set_owned(t.size() == v.size() ? std::move(v) : std::string(t));
        }
    }
}

/// How a header block's first Content-Type went into the skeleton.
enum class BlockCt : char {
    none,     ///< the block has none
    mimetic,  ///< copied for mimetic to read (a multipart, a message, or not in the plain form)
    simple,   ///< a leaf's, in the plain form: left out (mimetic reads the part as a leaf without it)
};

/// A header block the skeleton left out: its fields as read in place, and how its first
/// Content-Type went into the skeleton. Never copied once made (views point into it).
struct LeftOutBlock {
    HeaderBlock read;
    BlockCt ct = BlockCt::none;
    /// The first Content-Type as read_simple_content_type split it, when it is in the plain form:
    /// always for BlockCt::simple; for BlockCt::mimetic (a multipart's or a message's), so that
    /// the walk does not split it again.
    std::optional<SimpleContentType> simple_ct;
};

/// fields_of for a part whose header block was read by read_header_block: mimetic read at most
/// its first Content-Type (the skeleton's entity `e` holds it after the marker field). A first
/// Content-Type in the plain form comes split (LeftOutBlock::simple_ct), copied or not.
void fields_of_block(const mimetic::MimeEntity& e, const LeftOutBlock& block, bool every_value,
                     std::vector<RawField>& out) {
    out.clear();
    out.reserve(block.read.fields.size());
    bool ct_seen = false;
    for (const auto& f : block.read.fields) {
        RawField& r = out.emplace_back();  // made in place: a RawField is ~100 bytes
        r.name = f.name;
        r.kind = name_of(f.name);
        if (!ct_seen && block.ct == BlockCt::simple && r.kind == Name::content_type) {
            // mimetic's value() would be its parse written out again: the same from ours
            // (field_value writes it out when a part's walk needs the text).
            ct_seen = true;
            r.simple_ct = &*block.simple_ct;
            r.raw = f.value;
            if (every_value) r.set_owned(block.simple_ct->str());
        } else if (!ct_seen && r.kind == Name::content_type) {
            // mimetic parsed this one (the structure depends on it), and value() writes that
            // parse out again: the plain path reads it so, and so does this one.
            ct_seen = true;
            r.field = &*std::next(e.header().begin());
            r.raw = f.value;
            if (block.simple_ct) {
                // Split by make_skeleton already (the same value): written out as mimetic's
                // value() would (content_type.h).
                r.simple_ct = &*block.simple_ct;
                if (every_value) r.set_owned(block.simple_ct->str());
            } else if (every_value) {
                std::string v = r.field->value();
                const std::string_view t = trim(v);
                r.set_owned(t.size() == v.size() ? std::move(v) : std::string(t));
            }
        } else {
            r.raw = f.value;
            // A view of the block (it outlives the walk): no copy of the value.
            if (every_value || value_read_in_part(r.kind)) r.set_value(trim(f.value));
        }
    }
}

/// The field's value as fields_of(e, true) gives it.
std::string field_value(const RawField& f) {
    if (!f.value().empty()) return std::string(f.value());
    if (f.simple_ct) return f.simple_ct->str();
    if (!f.field) return std::string(trim(f.raw));
    std::string v = f.field->value();
    const std::string_view t = trim(v);
    return t.size() == v.size() ? v : std::string(t);
}

const RawField* first(const std::vector<RawField>& fs, Name name) {
    for (const auto& f : fs)
        if (f.kind == name) return &f;
    return nullptr;
}

/// The part's Content-Type as mimetic split it: its value() is re-serialised (RFC 2231 pieces
/// survive only in the parameter list), so type and parameters come from the parsed object.
ContentTypeValue content_type_of(const mimetic::MimeEntity& e, const std::vector<RawField>& fs) {
    ContentTypeValue ct;
    const RawField* field = first(fs, Name::content_type);
    if (!field) return ct;
    // A Content-Type in the plain form (a leaf's, or a multipart's or message's the skeleton
    // copied for mimetic) comes split by make_skeleton: mimetic's getField<ContentType> would
    // parse the value again on every call.
    if (const SimpleContentType* simple = field->simple_ct) {
        // Split as mimetic splits it (content_type.h): the same type, subtype and parameters.
        ct.type = ascii_lower(simple->type);
        ct.subtype = ascii_lower(simple->subtype);
        // The walk reads a part's charset and name, nothing else (add_leaf_bytes).
        ct.params = fold_params_only(std::span(simple->params.begin(), simple->params.size()), {"charset", "name"});
    } else {
        const auto& mct = e.header().contentType();
        ct.type = ascii_lower(trim(mct.type()));
        ct.subtype = ascii_lower(trim(mct.subtype()));
        std::vector<std::pair<std::string, std::string>> raw;
        raw.reserve(mct.paramList().size());
        for (const auto& p : mct.paramList()) raw.emplace_back(std::string(p.name()), p.value());
        ct.params = fold_params(raw);
    }
    if (const auto sp = ct.subtype.find_first_of(" \t("); sp != std::string::npos) ct.subtype.resize(sp);
    if (ct.type.find_first_of(" \t") != std::string::npos || ct.type.empty() || ct.subtype.empty()) {
        // mimetic could not read it: fall back on our own reading of the value
        ct = parse_content_type(field_value(*first(fs, Name::content_type)));
    }
    // A MIME type is ASCII (RFC 2045 token). Other bytes would reach the summary JSON and the
    // store as invalid UTF-8 (nlohmann::json throws on them: found by fuzz/fuzz_parse), so such
    // a Content-Type counts as absent: the part is read as the default type.
    auto ascii = [](const std::string& s) {
        return std::all_of(s.begin(), s.end(), [](char c) { return c > 0x20 && c < 0x7f; });
    };
    if (!ascii(ct.type) || !ascii(ct.subtype)) return {};
    return ct;
}

std::vector<std::string> slices(std::string_view bytes, const Prescan& ps) {
    std::vector<std::string> out;
    out.reserve(ps.rfc822_bodies.size());
    for (const auto& [b, e] : ps.rfc822_bodies)
        out.emplace_back(b <= e && e <= bytes.size() ? bytes.substr(b, e - b) : std::string_view());
    return out;
}

// --- The skeleton: mimetic reads the message without the bodies of its leaves.
//
// mimetic copies every body into a string of its own and searches each for its boundary: for
// the bodies the pre-scan already delimited (Prescan::leaf_bodies) that is work done twice and
// a second copy of every attachment. So mimetic parses a skeleton instead: the bytes with each
// such body replaced by a short marker naming its index, and each leaf then takes its bytes
// from the caller's input. Outside the bodies the skeleton is the input byte for byte, so
// mimetic builds the same headers and structure, provided the pre-scan delimited every body
// the way mimetic does. That is checked where it can be: every marker must come back as the
// whole body of one part (SkeletonBodies::verify), and the input must hold no marker of its
// own; otherwise the message is parsed again the plain way, as it is when the walk would need
// mimetic to write a part out (NeedPlainParse). What the check cannot see, a boundary string
// inside a body that would end mimetic's body earlier, the pre-scan rules out: it renames every
// multipart whose boundary shows up anywhere but on its delimiter lines. Two details keep
// mimetic's reading of the neighbouring bytes unchanged: a body's first byte stays when it is CR
// or LF (mimetic may take it as the end of the blank line above), and a marker holds no "--",
// CR or LF.

constexpr std::string_view kMarkerPrefix = "\x01\x02ticketd-leaf:";
constexpr char kMarkerEnd = '\x02';
// Shorter bodies stay in the skeleton: a marker would save nothing.
constexpr std::size_t kMinBlanked = 32;

struct Blank {
    std::size_t begin = 0;  ///< first byte replaced by the marker (in the bytes mimetic would parse)
    std::size_t end = 0;
    bool kept_first = false;  ///< the body's first byte (CR or LF) stayed in front of the marker
    int messages = 0;         ///< message/rfc822 parts around it (Prescan::leaf_messages)
};

// Header blocks go the same way: each block the pre-scan delimited (Prescan::header_blocks) is
// read by read_header_block, and mimetic gets in its place a marker field naming the block,
// then the block's first Content-Type byte for byte (the only field mimetic's reading of the
// structure depends on) unless it is a leaf's in the plain form (without one a part is a leaf
// too; read_simple_content_type splits it as mimetic would), then the block's own empty line.
// mimetic then builds the same structure, and the walk takes the fields from the block as read. Checked as the
// bodies are: every entity with a header must start with a marker field of its own, followed
// by the Content-Type or nothing, and every marker must turn up. A block read_header_block
// cannot vouch for, or one that does not end where the pre-scan says, leaves the headers to
// mimetic for the whole message (the bodies may still be left out).

constexpr std::string_view kBlockField = "X-Ticketd-Block";

struct Skeleton {
    std::string text;
    std::vector<Blank> blanks;       ///< by marker index
    std::vector<LeftOutBlock> blocks;  ///< by block marker index
};

bool is_content_type(std::string_view name) { return name_of(name) == Name::content_type; }

/// nullopt when the skeleton cannot stand for the input (the input holds a marker itself), or,
/// `with_headers`, when a header block cannot be left out (see above).
std::optional<Skeleton> make_skeleton(std::string_view bytes, const Prescan& ps, bool with_headers) {
    assert(ps.leaf_messages.size() == ps.leaf_bodies.size());  // one count per leaf body (limits.h)
    Skeleton sk;
    sk.text.reserve(bytes.size() < 4096 ? bytes.size() : 4096);
    std::size_t copied = 0;
    auto copy_to = [&](std::size_t to) {
        const std::string_view seg = bytes.substr(copied, to - copied);
        // A marker written by the sender would be taken for ours.
        if (seg.find(kMarkerPrefix) != std::string_view::npos) return false;
        sk.text.append(seg);
        copied = to;
        return true;
    };
    auto next_block = ps.header_blocks.begin();
    // The blocks before `upto` (they never overlap a body: a block ends where its body starts).
    auto blocks_before = [&](std::size_t upto) {
        for (; with_headers && next_block != ps.header_blocks.end() && next_block->first < upto; ++next_block) {
            const auto [b, e] = *next_block;
            if (e > bytes.size() || b < copied || e < b) return false;
            // The pre-scan kept the lines of most blocks as it read them: no second reading.
            const auto k = static_cast<std::size_t>(next_block - ps.header_blocks.begin());
            std::optional<HeaderBlock> hb;
            if (k < ps.block_reads.size() && ps.block_reads[k].read) {
                const Prescan::BlockRead& r = ps.block_reads[k];
                hb = header_block_from_lines(
                    bytes, std::span<const HeaderLine>(ps.field_lines.data() + r.first, r.last - r.first), r.blank_line, e);
            } else {
                hb = read_header_block(bytes, b);
            }
            if (!hb || hb->end != e) return false;
            if (hb->fields.empty()) continue;  // an empty line: mimetic reads no field from it either
            if (!copy_to(b)) return false;
            sk.text.append(kBlockField);
            sk.text.append(": ");
            sk.text.append(kMarkerPrefix);
            sk.text.push_back('h');
            sk.text.append(std::to_string(sk.blocks.size()));
            sk.text.push_back(kMarkerEnd);
            sk.text.append("\r\n");
            LeftOutBlock block;
            for (const auto& f : hb->fields) {
                if (!is_content_type(f.name)) continue;
                // A leaf's Content-Type changes nothing in mimetic's reading of the structure
                // (a part without one is a leaf too), and the walk splits it itself.
                auto simple = read_simple_content_type(f.value);
                if (simple && !simple->is_multipart() && !simple->is_message_rfc822()) {
                    block.ct = BlockCt::simple;
                    block.simple_ct = std::move(simple);
                    break;
                }
                std::string_view lines = bytes.substr(f.begin, f.end - f.begin);
                if (lines.find(kMarkerPrefix) != std::string_view::npos) return false;
                // Its line end now comes right before the empty line: a lone LF there, with a
                // CR next, would be one line end to mimetic (LF CR) and change where the body
                // starts. CR LF cannot pair with what follows.
                const bool lone_lf = lines.size() >= 2 && lines[lines.size() - 2] != '\r';
                if (lone_lf) lines.remove_suffix(1);
                sk.text.append(lines);
                if (lone_lf) sk.text.append("\r\n");
                block.ct = BlockCt::mimetic;
                block.simple_ct = std::move(simple);  // the walk's split of a multipart's or message's
                break;
            }
            sk.text.append(bytes.substr(hb->blank_line, hb->end - hb->blank_line));
            copied = e;
            block.read = std::move(*hb);
            sk.blocks.push_back(std::move(block));
        }
        return true;
    };
    for (std::size_t leaf = 0; leaf < ps.leaf_bodies.size(); ++leaf) {
        const auto [b, e] = ps.leaf_bodies[leaf];
        if (!blocks_before(b)) return std::nullopt;
        if (e > bytes.size() || b < copied || e < b + kMinBlanked || leaf >= ps.leaf_messages.size()) continue;
        Blank bl;
        bl.messages = ps.leaf_messages[leaf];
        bl.begin = b;
        bl.end = e;
        if (bytes[b] == '\r' || bytes[b] == '\n') {
            bl.begin = b + 1;
            bl.kept_first = true;
        }
        if (!copy_to(bl.begin)) return std::nullopt;
        sk.text.append(kMarkerPrefix);
        sk.text.append(std::to_string(sk.blanks.size()));
        sk.text.push_back(kMarkerEnd);
        copied = e;
        sk.blanks.push_back(bl);
    }
    if (!blocks_before(bytes.size() + 1) || !copy_to(bytes.size())) return std::nullopt;
    return sk;
}

/// The marker index a body consists of (after at most the kept first byte), or -1.
long marker_index(std::string_view body) {
    std::size_t at = 0;
    if (!body.empty() && (body[0] == '\r' || body[0] == '\n')) at = 1;
    if (body.size() < at + kMarkerPrefix.size() + 2 || body.compare(at, kMarkerPrefix.size(), kMarkerPrefix) != 0 ||
        body.back() != kMarkerEnd)
        return -1;
    long n = 0;
    for (std::size_t i = at + kMarkerPrefix.size(); i + 1 < body.size(); ++i) {
        if (body[i] < '0' || body[i] > '9' || n > 100000000) return -1;
        n = n * 10 + (body[i] - '0');
    }
    return n;
}

/// Where each blanked body went in mimetic's tree: the part whose body is that marker.
class SkeletonBodies {
public:
    SkeletonBodies(std::string_view bytes, Skeleton&& sk)
        : bytes_(bytes), blanks_(std::move(sk.blanks)), blocks_(std::move(sk.blocks)) {}

    /// Every marker is the whole body of exactly one part, with the kept first byte in front of
    /// it or not (mimetic's choice, the same as on the input); every block marker is the first
    /// field of exactly one part, followed by its Content-Type if it had one, and every part
    /// with a header starts with one.
    bool verify(const mimetic::MimeEntity& top) {
        found_.assign(blanks_.size(), 0);
        block_found_.assign(blocks_.size(), 0);
        if (!visit(top, 0, 0)) return false;
        for (char f : found_)
            if (!f) return false;
        for (char f : block_found_)
            if (!f) return false;
        std::sort(block_of_.begin(), block_of_.end(), by_part);
        return true;
    }

    /// The header block read in place of mimetic's reading of part `e`, or null (mimetic read it).
    const LeftOutBlock* block(const mimetic::MimeEntity& e) const {
        if (blocks_.empty()) return nullptr;
        const auto it = std::lower_bound(block_of_.begin(), block_of_.end(), std::make_pair(&e, std::size_t{0}), by_part);
        if (it == block_of_.end() || it->first != &e) return nullptr;
        return &blocks_[it->second];
    }

    bool with_headers() const { return !blocks_.empty(); }

    /// The part's body as mimetic would have read it from the input: a view of the input for a
    /// blanked body, else mimetic's own string.
    std::string_view body(const mimetic::MimeEntity& e) const {
        const std::string& s = e.body();
        if (blanks_.empty() || s.size() < kMarkerPrefix.size() + 2) return s;
        const long n = marker_index(s);
        if (n < 0 || static_cast<std::size_t>(n) >= blanks_.size()) return s;
        const Blank& bl = blanks_[n];
        const std::size_t begin = bl.kept_first && s[0] != kMarkerPrefix[0] ? bl.begin - 1 : bl.begin;
        return bytes_.substr(begin, bl.end - begin);
    }

    bool empty() const { return blanks_.empty(); }

private:
    /// The block index a marker field's value names, or -1.
    static long block_index(std::string_view v) {
        if (v.size() < kMarkerPrefix.size() + 3 || v.compare(0, kMarkerPrefix.size(), kMarkerPrefix) != 0 ||
            v[kMarkerPrefix.size()] != 'h' || v.back() != kMarkerEnd)
            return -1;
        long n = 0;
        for (std::size_t i = kMarkerPrefix.size() + 1; i + 1 < v.size(); ++i) {
            if (v[i] < '0' || v[i] > '9' || n > 100000000) return -1;
            n = n * 10 + (v[i] - '0');
        }
        return n;
    }

    bool visit_header(const mimetic::MimeEntity& e) {
        const auto& h = e.header();
        if (h.empty()) return true;
        const auto& first_field = *h.begin();
        if (std::string_view(first_field.name()) != kBlockField) return false;
        const long n = block_index(first_field.value());
        if (n < 0 || static_cast<std::size_t>(n) >= blocks_.size() || block_found_[n]) return false;
        if (h.size() != (blocks_[n].ct == BlockCt::mimetic ? 2u : 1u)) return false;
        block_found_[n] = 1;
        block_of_.emplace_back(&e, static_cast<std::size_t>(n));
        return true;
    }

    /// `messages`: the message/rfc822 parts around `e` as mimetic read them.
    bool visit(const mimetic::MimeEntity& e, int depth, int messages) {
        if (depth > 10000) return false;
        if (!blocks_.empty()) {
            if (!visit_header(e)) return false;
            // A block marker anywhere else: mimetic saw another structure than the pre-scan.
            if (e.body().preamble().find(kMarkerPrefix) != std::string::npos ||
                e.body().epilogue().find(kMarkerPrefix) != std::string::npos)
                return false;
        }
        const std::string& s = e.body();
        if (s.find(kMarkerPrefix) != std::string::npos) {
            const long n = marker_index(s);
            if (n < 0 || static_cast<std::size_t>(n) >= blanks_.size() || found_[n]) return false;
            // A kept first byte may go (mimetic took it for a line end) but never come from elsewhere.
            if (s[0] != kMarkerPrefix[0] && !blanks_[n].kept_first) return false;
            // mimetic read a body the pre-scan took for a leaf's as a message, or the other way
            // round (e.g. a Content-Type after a bare CR, which only mimetic sees): the marker is
            // then the whole body of the part it made of it, but the input's bytes would have
            // been read as a header (found by fuzz_skeleton).
            if (blanks_[n].messages != messages) return false;
            found_[n] = 1;
        }
        // With the header blocks left out, a part holding only its marker field has no
        // Content-Type for mimetic (no lookup needed).
        int inner = messages;
        if (blocks_.empty() || e.header().size() > 1) {
            const auto& ct = e.header().contentType();
            if (ct.type() == "message" && ct.subtype() == "rfc822") ++inner;
        }
        for (const auto* child : e.body().parts())
            if (!visit(*child, depth + 1, inner)) return false;
        return true;
    }

    std::string_view bytes_;
    std::vector<Blank> blanks_;
    std::vector<char> found_;
    /// Never resized after construction: RawField::simple_ct points into it during the walk.
    std::vector<LeftOutBlock> blocks_;
    std::vector<char> block_found_;
    /// Unrelated objects' addresses are ordered by std::less (the built-in < need not be).
    static bool by_part(const std::pair<const mimetic::MimeEntity*, std::size_t>& a,
                        const std::pair<const mimetic::MimeEntity*, std::size_t>& b) {
        return std::less<const mimetic::MimeEntity*>()(a.first, b.first);
    }
    /// (part, block index), sorted by part once verify() has seen them all.
    std::vector<std::pair<const mimetic::MimeEntity*, std::size_t>> block_of_;
};

/// Thrown by the walk when it meets something the skeleton cannot answer: parse plainly.
struct NeedPlainParse {};

class Walker {
public:
    /// `rfc822_raw`: the bytes of every message/rfc822 body, in document order (pre-scan).
    /// `bodies`: the blanked leaf bodies when mimetic read a skeleton (null: it read the input).
    Walker(Message& m, const Limits& limits, std::vector<std::string> rfc822_raw, const SkeletonBodies* bodies = nullptr)
        : m_(m), lim_(limits), rfc822_raw_(std::move(rfc822_raw)), bodies_(bodies) {}

    void top(mimetic::MimeEntity& e) {
        auto& fs = fields(e, true, 0);
        fill_message_headers(fs);
        walk(e, fs, 0, false, false);
    }

private:
    /// The part's fields: from its header block when the skeleton left it out, else mimetic's.
    /// Held in the vector of the part's depth, which the walk reuses for the part's next sibling
    /// (a part's fields are read until its own walk returns, its children's one level deeper).
    std::vector<RawField>& fields(const mimetic::MimeEntity& e, bool every_value, int depth) {
        const auto d = static_cast<std::size_t>(depth);
        if (d >= shallow_fields_.size())
            while (deep_fields_.size() <= d - shallow_fields_.size())
                deep_fields_.push_back(std::make_unique<std::vector<RawField>>());
        auto& out = d < shallow_fields_.size() ? shallow_fields_[d] : *deep_fields_[d - shallow_fields_.size()];
        const LeftOutBlock* block = bodies_ ? bodies_->block(e) : nullptr;
        if (block) fields_of_block(e, *block, every_value, out);
        else fields_of(e, every_value, out);
        return out;
    }

    /// `fs`: the values of fields the walk does not read again are moved into m_.headers.
    void fill_message_headers(std::vector<RawField>& fs) {
        m_.headers.reserve(m_.headers.size() + fs.size());
        for (auto& f : fs) {
            read_message_field(f);
            // mimetic keeps only printable ASCII in a field name: sanitizing would copy it as is.
            const bool plain_name = std::all_of(f.name.begin(), f.name.end(), [](char c) { return c > 0x20 && c < 0x7f; });
            // A value without encoded words that is its own UTF-8 is its decoded form
            // (decode_rfc2047 would copy it): taken as is when the walk does not read it again.
            const std::string_view v = f.value();
            const bool decoded_already = is_decoded_header_text(v);
            std::string value = decoded_already && !value_read_in_part(f.kind) && f.kind != Name::content_type
                                    ? f.take_value()
                                    : decoded_already ? std::string(v) : decode_rfc2047(v);
            if (f.kind == Name::subject) {
                if (!seen_subject_) m_.subject = value;
                seen_subject_ = true;
            }
            // Header{...}: an aggregate; emplace_back(name, value) needs C++20's parenthesised
            // aggregate init, which the fuzz build's clang lacks.
            m_.headers.push_back(Header{plain_name ? std::string(f.name) : sanitize_utf8(f.name), std::move(value)});
        }
    }

    /// The fields the message keeps apart from its header list (addresses, ids, date).
    void read_message_field(const RawField& f) {
        auto append = [&](std::vector<Address>& to) {
            auto a = parse_address_list(f.value());
            if (to.empty()) to = std::move(a);
            else to.insert(to.end(), std::make_move_iterator(a.begin()), std::make_move_iterator(a.end()));
        };
        const Name n = f.kind;
        if (n == Name::from) {
            if (m_.from.empty()) append(m_.from);
        } else if (n == Name::sender) {
            if (m_.sender.empty()) append(m_.sender);
        } else if (n == Name::reply_to) {
            if (m_.reply_to.empty()) append(m_.reply_to);
        } else if (n == Name::to) {
            append(m_.to);
        } else if (n == Name::cc) {
            append(m_.cc);
        } else if (n == Name::bcc) {
            append(m_.bcc);
        } else if (n == Name::return_path) {
            if (!m_.has_return_path) {
                // "<>" is the null reverse path (bounces, auto-replies): present but empty.
                m_.has_return_path = true;
                if (f.value().find('<') != std::string_view::npos) {
                    auto ids = parse_msg_ids(f.value());
                    m_.return_path = ids.empty() ? std::string() : ids.front();
                } else {
                    m_.return_path = sanitize_utf8(trim(f.value()));
                }
            }
        } else if (n == Name::message_id) {
            if (m_.message_id.empty()) {
                auto ids = parse_msg_ids(f.value());
                m_.message_id = ids.empty() ? std::string() : ids.front();
            }
        } else if (n == Name::in_reply_to) {
            if (m_.in_reply_to.empty()) m_.in_reply_to = parse_msg_ids(f.value());
        } else if (n == Name::references) {
            if (m_.references.empty()) m_.references = parse_msg_ids(f.value());
        } else if (n == Name::date) {
            if (m_.date_raw.empty()) {
                m_.date_raw = sanitize_utf8(f.value());
                m_.date = parse_date(f.value());
                if (!m_.date) {
                    // Cut at 80 bytes, never inside a UTF-8 sequence: warnings go to JSON
                    // (found by fuzz/fuzz_parse).
                    std::size_t cut = std::min<std::size_t>(80, m_.date_raw.size());
                    while (cut > 0 && cut < m_.date_raw.size() &&
                           (static_cast<unsigned char>(m_.date_raw[cut]) & 0xC0) == 0x80)
                        --cut;
                    warn("unreadable Date: " + m_.date_raw.substr(0, cut));
                }
            }
        }
    }

    void warn(std::string w) {
        if (m_.warnings.size() < 100) m_.warnings.push_back(ParseWarning{std::move(w)});
    }

    void walk(mimetic::MimeEntity& e, const std::vector<RawField>& fs, int depth, bool in_rfc822,
              bool parent_digest) {
        if (++parts_ > lim_.max_parts || depth > lim_.max_depth) {
            if (!limit_warned_) warn("MIME structure cut at the part or depth limit");
            limit_warned_ = true;
            return;
        }
        ContentTypeValue ct = content_type_of(e, fs);
        if (ct.type.empty()) {
            ct = {};
            if (parent_digest) {
                ct.type = "message";
                ct.subtype = "rfc822";
            } else {
                ct.type = "text";
                ct.subtype = "plain";
            }
        }
        const auto& body = e.body();  // parts, preamble, epilogue; its text through body_of()
        if (ct.type == "multipart"sv && !body.parts().empty()) {
            const bool digest = ct.subtype == "digest"sv;
            for (auto* child : e.body().parts()) {
                const auto& cfs = fields(*child, false, depth + 1);
                walk(*child, cfs, depth + 1, in_rfc822, digest);
            }
            return;
        }
        if (ct.type == "message"sv && ct.subtype == "rfc822"sv) {
            const Cte cte = transfer_encoding(fs);
            if (cte == Cte::base64 || cte == Cte::quoted_printable) {
                // An encoded message/rfc822 (not allowed by RFC 2046, sent anyway): mimetic
                // parsed the encoded text as a message; decode our copy of the body instead.
                if (rfc822_index_ < rfc822_raw_.size()) {
                    std::string enc = std::move(rfc822_raw_[rfc822_index_++]);
                    std::string raw = cte == Cte::base64 ? decode_base64(enc).data : decode_qp(enc);
                    if (parse_nested(std::move(raw), depth, in_rfc822)) return;
                }
            } else if (!body.parts().empty() && !body.parts().front()->header().empty()) {
                auto& child = *e.body().parts().front();
                const auto& cfs = fields(child, false, depth + 1);
                add_forwarded(child, cfs);
                walk(child, cfs, depth + 1, true, false);
                return;
            }
            if (!body.parts().empty() && body.parts().front()->header().empty()) {
                // Not a message at all (no header field): keep the bytes as a text leaf.
                std::string raw;
                if (rfc822_index_ < rfc822_raw_.size()) {
                    raw = std::move(rfc822_raw_[rfc822_index_]);
                } else {
                    raw = body_of(*body.parts().front());
                }
                ++rfc822_index_;
                add_leaf_bytes(fs, ct, depth, in_rfc822, raw, true);
                return;
            }
            // No content-type, in a digest: mimetic kept the message as a plain body.
            if (parent_digest && !body.empty() && parse_nested(std::string(body_of(e)), depth, in_rfc822))
                return;
        }
        if (ct.type == "multipart"sv) {
            // No boundary line was ever found: the whole body is one part of this type.
            std::string text = body.preamble() + body.epilogue();
            add_leaf_bytes(fs, ct, depth, in_rfc822, text, true);
            return;
        }
        add_leaf(e, fs, ct, depth, in_rfc822);
    }

    enum class Cte { other, base64, quoted_printable, uuencode };

    /// The part's Content-Transfer-Encoding: its first word, compared without regard to case
    /// (no lower-case copy: "quoted-printable" is one byte past what a string holds in place).
    static Cte transfer_encoding(const std::vector<RawField>& fs) {
        const auto* f = first(fs, Name::content_transfer_encoding);
        if (!f) return Cte::other;
        std::string_view v = trim(f->value());
        v = v.substr(0, v.find_first_of(" \t(;"));
        using text::iequals;
        if (iequals(v, "base64")) return Cte::base64;
        if (iequals(v, "quoted-printable")) return Cte::quoted_printable;
        if (iequals(v, "x-uuencode") || iequals(v, "uuencode") || iequals(v, "x-uue") || iequals(v, "uue"))
            return Cte::uuencode;
        return Cte::other;
    }

    /// A message held in a string (decoded from an encoded message/rfc822, or a digest part
    /// without Content-Type): pre-scan, parse and walk it as a forwarded message.
    bool parse_nested(std::string raw, int depth, bool) {
        if (depth + 1 > lim_.max_depth) return false;
        Limits sub_limits = lim_;
        sub_limits.max_depth = lim_.max_depth - depth - 1;
        auto sub = prescan(raw, sub_limits);
        auto* ok = std::get_if<Prescan>(&sub);
        if (!ok) {
            warn("forwarded message not parsed: " + std::get<ParseError>(sub).message);
            return false;
        }
        std::string_view b = ok->bytes(raw);
        // Constructed, then loaded, as in build_message: if mimetic throws inside the forward, the
        // destructor must still free the parts it made (found again here by fuzz/fuzz_classify).
        mimetic::MimeEntity child;
        child.load(b.begin(), b.end());
        std::vector<RawField> cfs;
        fields_of(child, false, cfs);
        // Its own rfc822 bodies are indexed in its own bytes: walk it with its own pre-scan.
        Walker inner(m_, sub_limits, slices(b, *ok));
        add_forwarded_raw(child, cfs, std::move(raw));
        inner.parts_ = parts_;
        inner.walk(child, cfs, depth + 1, true, false);
        parts_ = inner.parts_;
        return true;
    }

    void add_forwarded(const mimetic::MimeEntity& child, const std::vector<RawField>& cfs) {
        std::string raw;
        if (rfc822_index_ < rfc822_raw_.size()) {
            raw = std::move(rfc822_raw_[rfc822_index_]);
        } else {
            // mimetic writes the message out again: from a skeleton it would write markers.
            if (bodies_ && (!bodies_->empty() || bodies_->with_headers())) throw NeedPlainParse{};
            std::ostringstream os;
            os << child;
            raw = os.str();
        }
        ++rfc822_index_;
        add_forwarded_raw(child, cfs, std::move(raw));
    }

    void add_forwarded_raw(const mimetic::MimeEntity&, const std::vector<RawField>& cfs, std::string raw) {
        Forwarded f;
        if (const auto* s = first(cfs, Name::subject)) f.subject = decode_rfc2047(s->value());
        if (const auto* s = first(cfs, Name::from)) f.from = parse_address_list(s->value());
        if (const auto* s = first(cfs, Name::message_id)) {
            auto ids = parse_msg_ids(s->value());
            if (!ids.empty()) f.message_id = ids.front();
        }
        f.raw = std::move(raw);
        m_.forwarded.push_back(std::move(f));
    }

    void add_leaf(mimetic::MimeEntity& e, const std::vector<RawField>& fs, const ContentTypeValue& ct,
                  int depth, bool in_rfc822) {
        // mimetic's copy of the body is not read again once it is a leaf: the leaf takes it
        // when it needs no decoding (no copy of a large 8-bit or binary body).
        std::string& body = e.body();
        const std::string_view raw = body_of(e);
        add_leaf_bytes(fs, ct, depth, in_rfc822, raw, false, raw.data() == body.data() ? &body : nullptr);
    }

    /// The part's body as read from the input (a blanked body comes from the caller's bytes).
    std::string_view body_of(const mimetic::MimeEntity& e) const {
        return bodies_ ? bodies_->body(e) : std::string_view(e.body());
    }

    /// `as_text`: show the bytes as text whatever the type (a structure that did not parse).
    /// `owner`: the string `raw` views, which the leaf may take instead of copying `raw`.
    void add_leaf_bytes(const std::vector<RawField>& fs, const ContentTypeValue& ct, int depth, bool in_rfc822,
                        std::string_view raw, bool as_text = false, std::string* owner = nullptr) {
        Leaf leaf;
        leaf.content_type.reserve(ct.type.size() + 1 + ct.subtype.size());
        leaf.content_type.append(ct.type).append(1, '/').append(ct.subtype);
        leaf.charset = ascii_lower(trim(param_view(ct.params, "charset")));
        leaf.depth = depth;
        leaf.in_rfc822 = in_rfc822;
        Params disp;
        if (const auto* d = first(fs, Name::content_disposition)) {
            const std::string_view dv = d->value();
            const auto semi = dv.find(';');
            leaf.disposition = ascii_lower(trim(dv.substr(0, semi)));
            if (semi != std::string_view::npos) disp = parse_params(dv.substr(semi + 1));
        }
        leaf.filename = param(disp, "filename");
        if (leaf.filename.empty()) leaf.filename = param(ct.params, "name");
        if (const auto* cid = first(fs, Name::content_id)) {
            auto ids = parse_msg_ids(cid->value());
            leaf.content_id = ids.empty() ? sanitize_utf8(trim(cid->value())) : ids.front();
        }
        const Cte cte = transfer_encoding(fs);
        bool fell_back = false;
        if (cte == Cte::base64) {
            auto d = decode_base64(raw);
            if (d.ok) {
                leaf.data = std::move(d.data);
            } else {
                // Not base64 at all: keep the bytes as they are (and show them as text).
                warn("invalid base64 in part " + leaf.content_type + ": kept undecoded");
                leaf.data.assign(raw);
                fell_back = true;
            }
        } else if (cte == Cte::quoted_printable) {
            leaf.data = decode_qp(raw);
        } else if (cte == Cte::uuencode) {
            std::string name;
            auto d = decode_uuencode(raw, &name);
            if (d.ok) {
                leaf.data = std::move(d.data);
                if (leaf.filename.empty()) leaf.filename = sanitize_utf8(name);
            } else {
                warn("no uuencoded data in part " + leaf.content_type + ": kept undecoded");
                leaf.data.assign(raw);
            }
        } else if (owner) {
            leaf.data = std::move(*owner);
        } else {
            leaf.data.assign(raw);
        }
        // A TNEF blob, a JPEG or a PDF labelled text/plain is not text: converting, showing and
        // reply-splitting it helps nobody (and costs most of the parse); it becomes a file.
        const bool declared_text = ct.type == "text"sv || as_text || fell_back;
        leaf.binary = declared_text && looks_binary(leaf.data, leaf.charset);
        leaf.is_text = declared_text && !leaf.binary;
        if (leaf.is_text) {
            // Most text is its own UTF-8 already: then the leaf holds its bytes once.
            auto conv = to_utf8_or_same(leaf.data, leaf.charset);
            if (!conv.exact && !leaf.charset.empty())
                warn("part " + leaf.content_type + " is not valid " + sanitize_utf8(leaf.charset) + ": converted with replacements");
            leaf.text_is_data = conv.same;
            leaf.converted = std::move(conv.text);
        }
        m_.leaves.push_back(std::move(leaf));
    }

    Message& m_;
    const Limits& lim_;
    std::vector<std::string> rfc822_raw_;
    const SkeletonBodies* bodies_ = nullptr;
    std::size_t rfc822_index_ = 0;
    std::size_t parts_ = 0;
    bool limit_warned_ = false;
    bool seen_subject_ = false;
    /// Each depth's fields (see fields()): the first levels in place, deeper ones each in its
    /// own allocation (growing the list moves none of them; a std::deque allocates when made).
    std::array<std::vector<RawField>, 4> shallow_fields_;
    std::vector<std::unique_ptr<std::vector<RawField>>> deep_fields_;
};

}  // namespace

namespace {

/// True when `m` holds nothing but raw_size and warnings (every other member as a new Message
/// has it): what parse() hands build_message.
bool holds_only_size_and_warnings(const Message& m) {
    return m.headers.empty() && m.subject.empty() && m.from.empty() && m.sender.empty() && m.reply_to.empty() &&
           m.to.empty() && m.cc.empty() && m.bcc.empty() && m.return_path.empty() && !m.has_return_path &&
           m.message_id.empty() && m.in_reply_to.empty() && m.references.empty() && !m.date && m.date_raw.empty() &&
           m.leaves.empty() && m.forwarded.empty() && m.attachments.empty() && m.body.empty() && m.body_html.empty() &&
           m.new_text.empty() && m.quoted_text.empty() && m.signature.empty() &&
           m.classification == Classification::requester && m.classification_reason.empty() && !m.bounce;
}

/// mimetic reads the skeleton; the walk fills `m` when that reading checks out. nullopt (and
/// `m` as it was) when it does not.
std::optional<MimeLoad> build_from_skeleton(std::string_view bytes, Prescan& ps, const Limits& limits, Message& m,
                                            Skeleton&& sk) {
    const MimeLoad used = sk.blocks.empty() ? MimeLoad::skeleton_bodies : MimeLoad::skeleton;
    std::string text = std::move(sk.text);
    SkeletonBodies bodies(bytes, std::move(sk));
    // Constructed, then loaded: see build_message.
    mimetic::MimeEntity top;
    bool loaded = false;
    try {
        top.load(text.cbegin(), text.cend());
        loaded = bodies.verify(top);
    } catch (const std::exception&) {
        // mimetic threw on the skeleton: the plain parse says what the input does.
    }
    // mimetic holds its own copy of what it keeps: the skeleton is not read again.
    text = std::string();
    if (!loaded) return std::nullopt;
    // Only the walk's own "start over" is caught here: any other error it throws (out of
    // memory, mimetic on a nested message) would throw again on the plain path, after `m` had
    // been filled once already.
    // `m` as it was, restored if the walk must start over. parse() hands over a message holding
    // only its size and the pre-scan's warnings, and the walk only appends warnings: that much is
    // put back without copying the whole Message first (a copy was ~800 instructions a message).
    const bool only_warnings = holds_only_size_and_warnings(m);
    std::optional<Message> before;
    if (!only_warnings) before = m;
    const std::size_t warnings_before = m.warnings.size();
    // One leaf per body the pre-scan delimited, about: the leaves (eight strings each) are not
    // moved to a larger array once or twice a message.
    m.leaves.reserve(m.leaves.size() + std::min<std::size_t>(ps.leaf_bodies.size() + 1, limits.max_parts));
    try {
        Walker w(m, limits, slices(bytes, ps), &bodies);
        w.top(top);
        // The leaves are decoded: the mended copy is not read again either.
        if (ps.changed) ps.mended = std::string();
        return used;
    } catch (const NeedPlainParse&) {
        if (before) {
            m = std::move(*before);
        } else {
            Message fresh;
            fresh.raw_size = m.raw_size;
            m.warnings.resize(warnings_before);
            fresh.warnings = std::move(m.warnings);
            m = std::move(fresh);
        }
        return std::nullopt;
    }
}

}  // namespace

MimeLoad build_message(std::string_view bytes, Prescan& ps, const Limits& limits, Message& m, MimeLoad how) {
    // Header blocks left out: mimetic then reads each field once less (every message has them).
    bool tried_bodies = false;
    if (how == MimeLoad::skeleton || how == MimeLoad::skeleton_always) {
        if (auto sk = make_skeleton(bytes, ps, true); sk && (!sk->blanks.empty() || !sk->blocks.empty())) {
            tried_bodies = sk->blocks.empty();
            if (auto used = build_from_skeleton(bytes, ps, limits, m, std::move(*sk))) return *used;
        }
    }
    if (how != MimeLoad::plain && !tried_bodies) {
        // Bodies alone (the header blocks could not be left out, or mimetic read them some other
        // way, e.g. the fields of a quoted-printable message/rfc822): the skeleton costs a copy
        // of the bytes it keeps and saves mimetic's copy of (and boundary search over) the bytes
        // it leaves out: worth it only when these are the larger share.
        std::size_t blankable = 0;
        for (const auto& [b, e] : ps.leaf_bodies)
            if (e >= b + kMinBlanked) blankable += e - b;
        if (how == MimeLoad::skeleton ? blankable > bytes.size() / 3 : blankable > 0)
            if (auto sk = make_skeleton(bytes, ps, false); sk && !sk->blanks.empty())
                if (auto used = build_from_skeleton(bytes, ps, limits, m, std::move(*sk))) return *used;
    }
    // Constructed, then loaded: mimetic's parser throws on some malformed input (a lone CR line
    // before a boundary: std::length_error), and a constructor that throws never runs
    // ~MimeEntity, so every child part parsed so far leaked (found by fuzz/fuzz_classify).
    mimetic::MimeEntity top;
    top.load(bytes.begin(), bytes.end());
    Walker w(m, limits, slices(bytes, ps));
    // mimetic holds its own copy of every body now: give the mended copy back before decoding
    // (it matters for a large attachment: see bench_parse). `bytes` may dangle from here on.
    if (ps.changed) ps.mended = std::string();
    w.top(top);
    return MimeLoad::plain;
}

}  // namespace ticketd::parsers
