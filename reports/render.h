#pragma once
// A report as text (terminal and mail), JSON and CSV. The JSON fields and CSV columns are a
// contract for dashboards and spreadsheets: docs/reports.md lists them; add, never rename.

#include <string>

#include "reports/report.h"

namespace ticketd::reports {

std::string render_text(const Report& r);
std::string render_json(const Report& r);  ///< one object, pretty-printed, trailing newline
/// One row per period, then a row labelled "total"; a header line first.
std::string render_csv(const Report& r);

/// "45s", "17m", "3h05m", "2d04h"; "-" for none.
std::string human_duration(const std::optional<std::int64_t>& seconds);

/// Unix seconds as ISO 8601 UTC, "2026-12-06T15:04:05Z": the form every JSON field and report
/// of ticketd uses for a moment (`ticketd status` too).
std::string iso_utc(std::int64_t unix_seconds);

}  // namespace ticketd::reports
