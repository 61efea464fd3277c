#include "parsers/body.h"

#include <algorithm>
#include <cctype>
#include <optional>
#include <string>
#include <vector>

#include "parsers/html.h"
#include "parsers/mime.h"
#include "parsers/textutil.h"

namespace ticketd::parsers {
namespace {

using text::iequals;
using text::lower;

bool blank(std::string_view s) { return std::all_of(s.begin(), s.end(), text::space_char); }

// The top-level Content-Type parameters matter only for a single-part message: Leaf keeps the
// type and charset, not format=flowed, so nested flowed parts are shown as sent.
struct Flowed {
    bool flowed = false;
    bool delsp = false;
};
Flowed top_level_flowed(const Message& m) {
    for (const Header& h : m.headers) {
        if (!iequals(h.name, "Content-Type")) continue;
        std::string v = lower(h.value);
        v.erase(std::remove_if(v.begin(), v.end(), [](char c) { return c == ' ' || c == '"' || c == '\t'; }),
                v.end());
        return {v.find("format=flowed") != std::string::npos, v.find("delsp=yes") != std::string::npos};
    }
    return {};
}

// A leaf that is (part of) the text the sender meant us to read, not a file they attached.
bool is_body_candidate(const Leaf& l) {
    return !l.in_rfc822 && !l.binary && (l.content_type == "text/plain" || l.content_type == "text/html") &&
           l.disposition != "attachment" && l.filename.empty();
}

}  // namespace

std::string unflow(std::string_view text, bool delsp) {
    std::string out;
    out.reserve(text.size());
    std::string para;   // the logical line being assembled
    int para_depth = -1;
    bool open = false;  // the last physical line was soft-broken
    auto emit = [&]() {
        if (para_depth < 0) return;
        for (int q = 0; q < para_depth; ++q) out += '>';
        if (para_depth > 0) out += ' ';
        out += para;
        out += '\n';
        para.clear();
        para_depth = -1;
        open = false;
    };
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t nl = text.find('\n', pos);
        if (nl == std::string_view::npos) nl = text.size();
        std::string_view line = text.substr(pos, nl - pos);
        pos = nl + 1;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        int depth = 0;
        while (!line.empty() && line.front() == '>') {
            ++depth;
            line.remove_prefix(1);
        }
        if (!line.empty() && line.front() == ' ') line.remove_prefix(1);  // space stuffing
        if (open && depth != para_depth) emit();  // a quote-depth change ends a paragraph
        bool sig = line == "-- ";
        bool soft = !sig && !line.empty() && line.back() == ' ';
        if (soft && delsp) line.remove_suffix(1);
        para_depth = depth;
        para.append(line);
        if (soft) {
            open = true;
        } else {
            emit();
        }
    }
    if (para_depth >= 0) emit();
    if (!out.empty() && (text.empty() || text.back() != '\n')) out.pop_back();
    return out;
}

void extract_body(Message& m) {
    m.body.clear();
    m.body_html.clear();
    m.attachments.clear();

    std::vector<bool> displayed(m.leaves.size(), false);
    std::vector<std::size_t> plain, html;
    for (std::size_t i = 0; i < m.leaves.size(); ++i) {
        const Leaf& l = m.leaves[i];
        if (!is_body_candidate(l)) continue;
        (l.content_type == "text/plain" ? plain : html).push_back(i);
        displayed[i] = true;
    }
    // A single-part message sent as "attachment" (or with a filename) is still all there is.
    if (plain.empty() && html.empty() && !m.leaves.empty()) {
        const Leaf& l = m.leaves.front();
        if (l.depth == 0 && !l.in_rfc822 && l.is_text &&
            (l.content_type == "text/plain" || l.content_type == "text/html")) {
            (l.content_type == "text/plain" ? plain : html).push_back(0);
            displayed[0] = true;
        }
    }

    // text/plain wins when it says anything; several plain parts (Apple Mail puts text around
    // inline images) are shown in order. Otherwise the HTML, as readable text.
    bool have_plain = std::any_of(plain.begin(), plain.end(), [&](std::size_t i) { return !blank(m.leaves[i].text()); });
    // Some senders put only "view this mail in an HTML-capable client" in the plain part.
    if (have_plain && !html.empty() && plain.size() == 1) {
        const std::string_view t = m.leaves[plain.front()].text();
        std::string l = lower(t.substr(0, 400));
        bool placeholder = t.size() < 400 && l.find("html") != std::string::npos &&
                           (l.find("capable") != std::string::npos || l.find("client") != std::string::npos ||
                            l.find("browser") != std::string::npos || l.find("program") != std::string::npos ||
                            l.find("viewer") != std::string::npos || l.find("support") != std::string::npos);
        if (placeholder) have_plain = false;
    }
    // Read only for a top-level plain part (single-part mail), not for every message.
    std::optional<Flowed> flowed;
    auto text_of = [&](std::size_t i) {
        const Leaf& l = m.leaves[i];
        const std::string_view t = l.is_text ? l.text() : std::string_view(l.data);
        if (l.content_type == "text/html") return html_to_text(t);
        if (l.depth == 0) {
            if (!flowed) flowed = top_level_flowed(m);
            if (flowed->flowed) return unflow(t, flowed->delsp);
        }
        return std::string(t);
    };
    for (std::size_t i : (have_plain ? plain : html)) {
        std::string t = text_of(i);
        if (blank(t)) continue;
        while (!t.empty() && text::space_char(t.back())) t.pop_back();
        if (m.body.empty()) {
            m.body = std::move(t);  // most mail has one text part: no second copy
        } else {
            m.body += "\n\n";
            m.body += t;
        }
    }
    if (!html.empty()) {
        const Leaf& l = m.leaves[html.front()];
        m.body_html = l.is_text ? l.text() : std::string_view(l.data);
    }

    for (std::size_t i = 0; i < m.leaves.size(); ++i) {
        if (displayed[i]) continue;
        const Leaf& l = m.leaves[i];
        // Inside a forward, the text is the forward's (kept in m.forwarded); only its files
        // are the ticket's.
        if (l.in_rfc822 && l.filename.empty() &&
            (l.content_type.rfind("text/", 0) == 0 || l.content_type.rfind("multipart/", 0) == 0))
            continue;
        Attachment a;
        a.filename = l.filename;
        // A binary blob sent as text has no name of its own: give it one an agent can save.
        if (a.filename.empty() && l.binary)
            a.filename = l.depth == 0 ? "body.bin" : "part-" + std::to_string(i + 1) + ".bin";
        a.content_type = l.content_type;
        a.content_id = l.content_id;
        a.size = l.data.size();
        // Hashed here, where a leaf becomes something identified by its hash (content_hash);
        // no leaf has one before (parse() hashes nothing else).
        m.leaves[i].sha256 = sha256_hex(l.data);
        a.sha256 = l.sha256;
        a.leaf_index = i;
        bool referenced = false;
        if (!l.content_id.empty() && !l.in_rfc822) {
            std::string cid = "cid:" + l.content_id;
            for (std::size_t h : html) {
                const Leaf& hl = m.leaves[h];
                if ((hl.is_text ? hl.text() : std::string_view(hl.data)).find(cid) != std::string_view::npos) {
                    referenced = true;
                    break;
                }
            }
        }
        a.inline_image = referenced || (l.disposition == "inline" && !l.filename.empty());
        m.attachments.push_back(std::move(a));
    }

    ReplySplit split = split_reply(m.body);
    m.new_text = std::move(split.new_text);
    m.quoted_text = std::move(split.quoted_text);
    m.signature = std::move(split.signature);
}

}  // namespace ticketd::parsers
