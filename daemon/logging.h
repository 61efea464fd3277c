#pragma once
// Structured logs: "ts level=info event=imap.fetch account=support uid=42 ms=8". Callers write
// `spdlog::info("event=... key={}", v)`; this sets the shared format and the level.

#include <string>

namespace ticketd::daemon {

/// Log to stderr at `level` (trace..off). Under systemd (JOURNAL_STREAM set) the timestamp is
/// left to journald and each line carries a <N> priority prefix journald understands.
void setup_logging(const std::string& level);

}  // namespace ticketd::daemon
