#pragma once
// The `ticketd parse --json` summary (schema: ../shared/tools/score-parse, plus body,
// attachments, classification and more).

#include <nlohmann/json.hpp>

#include "parsers/message.h"

namespace ticketd::parsers {

nlohmann::json to_summary_json(const Message& m);

}  // namespace ticketd::parsers
