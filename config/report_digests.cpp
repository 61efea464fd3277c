#include "config/report_digests.h"

#include <algorithm>

#include "config/reader.h"
#include "parsers/headers.h"
#include "sla/calendar.h"

namespace ticketd::config {

std::string ReportDigest::key() const {
    std::vector<std::string> sorted = to;
    std::sort(sorted.begin(), sorted.end());
    std::string k = every + "|" + queue + "|" + tag + "|";
    for (std::size_t i = 0; i < sorted.size(); ++i) k += (i ? "," : "") + sorted[i];
    return k;
}

void read_report_digests(Reader& r, const YAML::Node& node, std::vector<ReportDigest>& out) {
    if (!node.IsSequence())
        return r.error(node.Mark(), "reports: expected a list of {every, to, queue, tag, tz}");
    for (const auto& item : node) {
        ReportDigest d;
        const Seen seen = read_settings(r, item, "reports[]", &d);  // every, and the addresses of to
        if (!item.IsMap()) continue;
        const YAML::Mark to_mark = seen.mark("to", item.Mark()), tz_mark = seen.mark("tz", item.Mark());
        if (!seen.has("every")) r.error(item.Mark(), "reports[].every: expected daily, weekly or monthly, got ''");
        if (d.to.empty()) r.error(to_mark, "reports[].to: at least one address is required");
        if (!d.tz.empty() && !sla::find_zone(d.tz))
            r.error(tz_mark, "reports[].tz: unknown time zone '" + d.tz + "'");
        for (const auto& other : out)
            if (other.key() == d.key()) r.error(item.Mark(), "reports[]: the same digest is listed twice");
        out.push_back(std::move(d));
    }
}

}  // namespace ticketd::config
