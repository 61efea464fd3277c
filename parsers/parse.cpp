#include "parsers/parse.h"

#include <exception>
#include <new>

#include "parsers/body.h"
#include "parsers/classify.h"
#include "parsers/limits.h"
#include "parsers/mime.h"

namespace ticketd::parsers {

ParseResult parse(std::string_view raw, const Limits& limits) {
    try {
        auto scanned = prescan(raw, limits);
        if (auto* err = std::get_if<ParseError>(&scanned)) return std::move(*err);
        auto& ps = std::get<Prescan>(scanned);
        Message m;
        m.raw_size = raw.size();
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
