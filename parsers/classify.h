#pragma once
// Loop prevention starts here: is this mail from a human, an auto-responder, a bounce or a list?

#include <optional>
#include <string>

#include "parsers/message.h"

namespace ticketd::parsers {

struct ClassifyResult {
    Classification classification = Classification::requester;
    std::string reason;                 ///< the evidence, e.g. "Auto-Submitted: auto-replied"
    std::optional<BounceInfo> bounce;   ///< set for bounces when the report could be read
};

/// Pure: reads headers, leaves and the From address. Never throws.
ClassifyResult classify(const Message& m);

}  // namespace ticketd::parsers
