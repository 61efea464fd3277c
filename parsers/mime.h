#pragma once
// mimetic's MIME tree -> Message: headers decoded, leaves transfer-decoded and converted to
// UTF-8, forwarded messages kept. Called by parse() after the pre-scan.

#include <string>
#include <string_view>

#include "parsers/limits.h"
#include "parsers/message.h"
#include "parsers/parse.h"

namespace ticketd::parsers {

/// Fill headers, addresses, ids, date, leaves and forwarded of `m` from `bytes` (already
/// pre-scanned: `ps` describes them). Never throws on bad input.
/// `ps.mended` is released once mimetic holds the bodies (so `bytes` must not be used after).
void build_message(std::string_view bytes, Prescan& ps, const Limits& limits, Message& m);

/// Lower-case hex SHA-256 (OpenSSL EVP).
std::string sha256_hex(std::string_view data);

}  // namespace ticketd::parsers
