#pragma once
// The decoders of parsers/headers.h, charset.h and transfer.h as they were at e8a68db, before
// their fast paths (fields_reference.cpp): the oracle of test_fields_fast.cpp. Same contracts
// as the parsers' own declarations.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "parsers/charset.h"
#include "parsers/headers.h"
#include "parsers/message.h"
#include "parsers/transfer.h"

namespace ticketd::parsers::reference {

bool is_valid_utf8(std::string_view s);
bool looks_like_iso2022jp(std::string_view s);
std::string iconv_charset_name(std::string_view label);
Converted to_utf8(std::string_view bytes, std::string_view charset);
Converted to_utf8_or_same(std::string_view bytes, std::string_view charset);
bool looks_binary(std::string_view bytes, std::string_view charset);
std::string sanitize_utf8(std::string_view bytes);

Decoded decode_base64(std::string_view in);
std::string decode_qp(std::string_view in);
std::string decode_q(std::string_view in);
Decoded decode_uuencode(std::string_view in, std::string* filename = nullptr);

std::string decode_rfc2047(std::string_view value);
Params parse_params(std::string_view value_after_type);
Params fold_params(const std::vector<std::pair<std::string, std::string>>& raw);
std::string param(const Params& p, std::string_view name);
ContentTypeValue parse_content_type(std::string_view value, bool with_params = true);
std::vector<Address> parse_address_list(std::string_view value);
std::vector<std::string> parse_msg_ids(std::string_view value);
std::optional<std::chrono::sys_seconds> parse_date(std::string_view value);
std::string format_iso8601(std::chrono::sys_seconds t);
std::string ascii_lower(std::string_view s);
std::string_view trim(std::string_view s);

}  // namespace ticketd::parsers::reference
