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
        YAML::Mark every_mark = item.Mark(), to_mark = item.Mark(), tz_mark = item.Mark();
        r.map(item, "reports[]",
              {
                  {"every",
                   [&](const YAML::Node& n, const std::string& p) {
                       every_mark = n.Mark();
                       r.string(n, p, d.every);
                   }},
                  {"to",
                   [&](const YAML::Node& n, const std::string& p) {
                       to_mark = n.Mark();
                       r.string_list(n, p, d.to);
                   }},
                  {"queue", [&](const YAML::Node& n, const std::string& p) { r.string(n, p, d.queue); }},
                  {"tag", [&](const YAML::Node& n, const std::string& p) { r.string(n, p, d.tag); }},
                  {"tz",
                   [&](const YAML::Node& n, const std::string& p) {
                       tz_mark = n.Mark();
                       r.string(n, p, d.tz);
                   }},
              });
        if (!item.IsMap()) continue;
        if (d.every != "daily" && d.every != "weekly" && d.every != "monthly")
            r.error(every_mark, "reports[].every: expected daily, weekly or monthly, got '" + d.every + "'");
        if (d.to.empty()) r.error(to_mark, "reports[].to: at least one address is required");
        for (auto& a : d.to) {
            a = parsers::ascii_lower(a);
            const auto at = a.find('@');
            if (at == std::string::npos || at == 0 || at + 1 == a.size())
                r.error(to_mark, "reports[].to: '" + a + "' is not an email address");
        }
        if (!d.tz.empty() && !sla::find_zone(d.tz))
            r.error(tz_mark, "reports[].tz: unknown time zone '" + d.tz + "'");
        for (const auto& other : out)
            if (other.key() == d.key()) r.error(item.Mark(), "reports[]: the same digest is listed twice");
        out.push_back(std::move(d));
    }
}

}  // namespace ticketd::config
