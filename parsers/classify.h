#pragma once
// Loop prevention starts here: is this mail from a human, an auto-responder, a bounce or a list?

#include <optional>
#include <string>
#include <vector>

#include "parsers/message.h"

namespace ticketd::parsers {

struct ClassifyResult {
    Classification classification = Classification::requester;
    std::string reason;                 ///< the evidence, e.g. "Auto-Submitted: auto-replied"
    std::optional<BounceInfo> bounce;   ///< set for bounces when the report could be read
};

/// Pure: reads headers, leaves and the From address. Never throws.
ClassifyResult classify(const Message& m);

/// What classify cannot know by itself: the desk's own addresses. When the support address is
/// itself a list (a Google Group, a Mailman alias), every requester's mail arrives with List-*
/// headers naming it; those headers (and the Precedence the list adds) then say nothing about
/// who wrote the message.
struct ClassifyOptions {
    std::vector<std::string> own_addresses;  ///< e.g. "support@acme.example"
};
ClassifyResult classify(const Message& m, const ClassifyOptions& options);

/// X-Auto-Response-Suppress asks *us* not to auto-respond (All, OOF, AutoReply). It does not
/// make the message automatic (Exchange and Outlook set it on ordinary mail too), so it is no
/// classification: the pipeline checks this before sending any acknowledgement.
bool auto_reply_suppressed(const Message& m);

}  // namespace ticketd::parsers
