#pragma once
// `csat:` (issue 9): satisfaction ratings by email. The keys are rows of the settings table
// (settings.cpp); this reads the section through it and checks what one row cannot say: that
// the queues exist and the template is there. tickets/csat.h does the asking and recording.

#include <yaml-cpp/yaml.h>

#include "config/config.h"

namespace ticketd::config {

class Reader;

/// The table pass over the `csat:` mapping into `out`.
void read_csat(Reader& r, const YAML::Node& node, CsatConfig& out);
/// After queues, agents and templates are loaded: every name in csat.queues is a declared queue
/// (or an agent's), and an enabled csat has its template (needs smtp: too). `root` is the whole
/// document: the errors point at the keys under its `csat:`.
void check_csat(Reader& r, const Config& cfg, const YAML::Node& root);

}  // namespace ticketd::config
