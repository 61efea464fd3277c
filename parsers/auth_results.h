#pragma once
// Authentication-Results (RFC 8601): parsing one header field, and deciding from a message's
// fields whether a trusted server vouched for its sender's domain (DKIM aligned with the From
// domain, or SPF for it). Pure: strings in, values out; issue 5 uses it to decide whether an
// agent's mail may act on a ticket.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "parsers/message.h"

namespace ticketd::parsers {

/// One `method=result` with its reason and properties, e.g.
/// `dkim=pass reason="good signature" header.d=example.com header.s=sel`.
struct AuthResult {
    std::string method;  ///< lower-case, without a "/version"
    std::string result;  ///< lower-case: pass, fail, none, neutral, temperror, ...
    std::string reason;
    std::vector<std::pair<std::string, std::string>> properties;  ///< "header.d" (lower-case key) -> value
    /// The value of `ptype.property` (case-insensitive key), "" when absent.
    std::string property(std::string_view key) const;
};

/// One Authentication-Results field.
struct AuthResults {
    std::string authserv_id;  ///< lower-case
    std::vector<AuthResult> results;  ///< empty for "authserv-id; none"
};

/// Parse one field value (comments, quoted strings, folding whitespace and `a = b` spacing are
/// allowed). nullopt when there is no authserv-id or a result is malformed.
std::optional<AuthResults> parse_authentication_results(std::string_view value);

/// The Authentication-Results fields of a message that a trusted server added: walking the fields
/// from the top, each A-R whose authserv-id is in `trusted_ids` counts the first time that id is
/// seen; a later one with the same id (lower down, so older or forged by the sender) is ignored,
/// and the first A-R with an untrusted id (or one that does not parse) ends the walk, since
/// everything below it was written before the mail crossed into the trusted servers.
/// `trusted_ids` are compared case-insensitively.
std::vector<AuthResults> trusted_authentication_results(const std::vector<Header>& headers,
                                                        const std::vector<std::string>& trusted_ids);

/// Is `signing` aligned with `from_domain` (DMARC's relaxed sense, without a public suffix
/// list): the same domain, or `from_domain` a subdomain of a `signing` that has at least one dot.
bool domains_aligned(std::string_view signing, std::string_view from_domain);

struct SenderVerdict {
    bool verified = false;
    std::string evidence;  ///< for the trail: what passed, or why nothing did
};

/// Did a trusted server see DKIM pass with header.d aligned to `from_domain`, or SPF pass for
/// smtp.mailfrom in that domain? `headers` in message order (top first).
SenderVerdict verify_sender_domain(const std::vector<Header>& headers, std::string_view from_domain,
                                   const std::vector<std::string>& trusted_ids);

/// Did a trusted server say the sender's domain was forged: `dmarc=fail` for `from_domain`, or
/// a hard `spf=fail` for a smtp.mailfrom in that domain with no aligned `dkim=pass`? Softfail,
/// none, neutral and temperror are not forgery. nullopt when not, else the evidence. Used before
/// answering a stranger: an acknowledgement to a forged From is backscatter.
std::optional<std::string> sender_domain_forged(const std::vector<Header>& headers, std::string_view from_domain,
                                                const std::vector<std::string>& trusted_ids);

}  // namespace ticketd::parsers
