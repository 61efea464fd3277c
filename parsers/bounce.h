#pragma once
// Delivery reports: is this a bounce (RFC 3464 DSN, ARF feedback report, or one of the common
// non-standard MTA formats), and what does it say about the message that bounced?

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "parsers/message.h"

namespace ticketd::parsers {

/// The fields of one message/delivery-status body (RFC 3464), flattened over its
/// per-recipient groups: failed (or delayed) recipients, the first status and diagnostic.
struct DsnFields {
    std::vector<std::string> recipients;  ///< Final-Recipient (else Original-Recipient) of failed/delayed groups
    std::string status;                   ///< first per-recipient Status, e.g. "5.1.1"
    std::string diagnostic;               ///< first Diagnostic-Code, without the "smtp;" type
    std::string action;                   ///< first per-recipient Action, lower-case
    bool any_failed = false;              ///< some group has Action: failed (or a 5.x.x status)
};
DsnFields parse_delivery_status(std::string_view text);

struct BounceVerdict {
    bool bounce = false;
    std::string reason;  ///< the evidence
};

/// The report's own text as the MTA wrote it: the first outer text/plain leaf (its first
/// 32 KiB) or text/html leaf (as text) that is not blank, else the start of the body. Both
/// functions below read it; classify() makes it once for both (HTML to text is costly).
std::string bounce_report_text(const Message& m);

/// Is `m` a delivery report? Pure; reads headers, leaves and the From address.
BounceVerdict detect_bounce(const Message& m);
/// The same with `report` = bounce_report_text(m).
BounceVerdict detect_bounce(const Message& m, std::string_view report);

/// What the report says (best effort; fields stay empty when the report does not say).
BounceInfo read_bounce(const Message& m);
/// The same with `report` = bounce_report_text(m).
BounceInfo read_bounce(const Message& m, std::string_view report);

}  // namespace ticketd::parsers
