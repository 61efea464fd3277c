#pragma once
// The accounting end-to-end fault tests finish with (issue 8): what the desk stored and sent,
// counted by Message-ID, so a test can check "every delivered mail is exactly one message row"
// and "every outbox row reached the sink exactly once".

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace ticketd::testing {

/// The Message-ID header of a raw message, without angle brackets ("" when none).
std::string message_id_of(const std::string& raw);

/// Message-ID -> copies, over raw messages (what an SmtpSink received).
std::map<std::string, int> count_by_message_id(const std::vector<std::string>& raws);

struct OutboxRow {
    std::string message_id;
    std::string kind;
    std::string state;
};

/// What a desk database holds, read once with a fresh connection.
struct DeskLedger {
    std::map<std::string, std::int64_t> inbound;  ///< Message-ID -> inbound message rows
    std::vector<OutboxRow> outbox;
    std::int64_t inbox_not_done = 0;               ///< inbox entries pending or quarantined
    std::int64_t inbox_rows = 0;
    std::map<std::string, std::int64_t> outcomes;  ///< inbox outcome -> entries
};
DeskLedger read_ledger(const std::string& db_path);

}  // namespace ticketd::testing
