#pragma once
// mimetic's MIME tree -> Message: headers decoded, leaves transfer-decoded and converted to
// UTF-8, forwarded messages kept. Called by parse() after the pre-scan.

#include <string>
#include <string_view>

#include "parsers/limits.h"
#include "parsers/message.h"
#include "parsers/parse.h"

namespace ticketd::parsers {

/// How mimetic read the message: `skeleton`, without the leaf bodies the pre-scan delimited
/// (each leaf takes its bytes from `bytes`), or `plain`, the whole input (mimetic copies every
/// body). Both give the same Message; skeleton falls back on plain whenever mimetic's reading
/// of the skeleton does not show that (see mime.cpp).
enum class MimeLoad { skeleton, plain };

/// Fill headers, addresses, ids, date, leaves and forwarded of `m` from `bytes` (already
/// pre-scanned: `ps` describes them). Never throws on bad input. Returns the way it was read.
/// `ps.mended` may be released on the plain path once mimetic holds the bodies (so `bytes`
/// must not be used after).
MimeLoad build_message(std::string_view bytes, Prescan& ps, const Limits& limits, Message& m,
                       MimeLoad how = MimeLoad::skeleton);

/// Lower-case hex SHA-256 (OpenSSL EVP).
std::string sha256_hex(std::string_view data);

}  // namespace ticketd::parsers
