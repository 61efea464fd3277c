#pragma once
// `reports:` (issue 9): scheduled digests of the service-desk report, mailed through the outbox
// once per period. The YAML side only; daemon/report_digest.h sends them.

#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "config/config.h"

namespace ticketd::config {

class Reader;

void read_report_digests(Reader& r, const YAML::Node& node, std::vector<ReportDigest>& out);

}  // namespace ticketd::config
