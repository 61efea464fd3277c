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

/// bounce_report_text(m) made once for detect_bounce and read_bounce (what classify() does):
/// a view of the leaf or body it comes from (a copy only for HTML, which is converted), and
/// its lower-cased copy made only when a test needs it, once for both. Not copyable: `text`
/// may view `converted`.
class BounceReport {
public:
    explicit BounceReport(const Message& m);
    explicit BounceReport(std::string_view report) : text_(report) {}
    BounceReport(const BounceReport&) = delete;
    BounceReport& operator=(const BounceReport&) = delete;

    std::string_view text() const { return text_; }
    /// text() lower-cased (ASCII), byte for byte: offsets into one are offsets into the other.
    std::string_view lowered();
    /// Whether lowered() has been made (read_bounce lower-cases only the lines it reads if not).
    bool has_lowered() const { return have_lowered_; }

private:
    std::string converted_;  // the HTML report as text
    std::string_view text_;
    std::string lowered_;
    bool have_lowered_ = false;
};
BounceVerdict detect_bounce(const Message& m, BounceReport& report);
BounceInfo read_bounce(const Message& m, BounceReport& report);

}  // namespace ticketd::parsers
