#pragma once
// mimetic's MIME tree -> Message: headers decoded, leaves transfer-decoded and converted to
// UTF-8, forwarded messages kept. Called by parse() after the pre-scan.

#include <string>
#include <string_view>

#include "parsers/limits.h"
#include "parsers/message.h"
#include "parsers/parse.h"

namespace ticketd::parsers {

/// How mimetic reads the message. `skeleton`: without the header fields and the leaf bodies the
/// pre-scan delimited (mimetic reads only each part's Content-Type; the fields are read in
/// place, each leaf takes its bytes from `bytes`); when the header blocks cannot be left out,
/// without the bodies alone if those are over a third of the bytes. `skeleton_always` (for
/// tests): the same, the bodies alone whenever there is one. `skeleton_bodies` (tests, bench):
/// the bodies alone, whenever there is one. `plain`: the whole input (mimetic copies every
/// body). All give the same Message; a skeleton falls back on plain whenever mimetic's reading
/// of it does not show that (see mime.cpp). build_message returns `skeleton`, `skeleton_bodies`
/// or `plain`: the way it was read.
enum class MimeLoad { skeleton, skeleton_always, skeleton_bodies, plain };

/// Fill headers, addresses, ids, date, leaves and forwarded of `m` from `bytes` (already
/// pre-scanned: `ps` describes them). Never throws on bad input. Returns the way it was read.
/// `ps.mended` may be released on the plain path once mimetic holds the bodies (so `bytes`
/// must not be used after).
MimeLoad build_message(std::string_view bytes, Prescan& ps, const Limits& limits, Message& m,
                       MimeLoad how = MimeLoad::skeleton);

/// Lower-case hex SHA-256 (OpenSSL EVP).
std::string sha256_hex(std::string_view data);

/// The leaf's SHA-256: Leaf::sha256 when parse() filled it (attachments), else computed now.
std::string leaf_sha256(const Leaf& l);

}  // namespace ticketd::parsers
