#include "parsers/parse.h"

#include <exception>
#include <new>

#include "parsers/body.h"
#include "parsers/classify.h"
#include "parsers/limits.h"
#include "parsers/mime.h"

namespace ticketd::parsers {

namespace {

/// An mbox envelope line ("From sender@host Thu Apr 29 ..."), as mbox files, procmail and
/// Postfix pipe(8) with flags=F put before the message. It is not a header (a field name cannot
/// hold a space), and left in place it would end the header block at line one.
std::size_t mbox_from_line_length(std::string_view raw) {
    if (raw.substr(0, 5) != "From ") return 0;
    auto eol = raw.find('\n');
    return eol == std::string_view::npos ? 0 : eol + 1;
}

}  // namespace

ParseResult parse(std::string_view raw, const Limits& limits) {
    try {
        const std::size_t envelope = mbox_from_line_length(raw);
        const std::size_t original_size = raw.size();
        raw.remove_prefix(envelope);
        auto scanned = prescan(raw, limits);
        if (auto* err = std::get_if<ParseError>(&scanned)) return std::move(*err);
        auto& ps = std::get<Prescan>(scanned);
        Message m;
        m.raw_size = original_size;
        if (envelope) m.warnings.push_back(ParseWarning{"leading mbox 'From ' envelope line skipped"});
        for (auto& w : ps.warnings) m.warnings.push_back(ParseWarning{std::move(w)});
        build_message(ps.bytes(raw), ps, limits, m);
        extract_body(m);
        auto c = classify(m);
        m.classification = c.classification;
        m.classification_reason = std::move(c.reason);
        m.bounce = std::move(c.bounce);
        return m;
    } catch (const std::bad_alloc&) {
        return ParseError{"out_of_memory", "not enough memory to parse this message"};
    } catch (const std::exception& e) {
        // Library code below us (mimetic, iconv wrappers) is not supposed to throw on bad
        // input; if it does, the message is quarantined with the reason instead of crashing.
        return ParseError{"internal", std::string("parser failure: ") + e.what()};
    }
}

}  // namespace ticketd::parsers
