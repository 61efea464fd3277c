#pragma once
// Content-Transfer-Encoding decoders: base64, quoted-printable, uuencode. Each works on the raw
// body bytes of one part and never throws.

#include <string>
#include <string_view>

namespace ticketd::parsers {

struct Decoded {
    std::string data;
    bool ok = true;  ///< false: the input was not valid in this encoding (caller decides)
};

/// Whitespace is skipped; padding ends a quantum and decoding continues after it (concatenated
/// base64 blocks are common). Any other byte outside the alphabet makes `ok` false, and `data`
/// then holds what was decoded before it.
Decoded decode_base64(std::string_view in);

/// RFC 2045 quoted-printable: soft line breaks (also with trailing blanks), `=XX` in either
/// case; a `=` not followed by two hex digits is kept literally. Line ends are kept as written.
std::string decode_qp(std::string_view in);

/// "Q" encoding of RFC 2047 encoded words: like QP, plus `_` meaning space.
std::string decode_q(std::string_view in);

/// uuencode (`begin MODE NAME` ... `end`). Lines before `begin` are skipped; `filename`, when
/// given, receives the name from the begin line. `ok` is false when no begin line is found.
Decoded decode_uuencode(std::string_view in, std::string* filename = nullptr);

}  // namespace ticketd::parsers
