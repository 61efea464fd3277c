#include "config/csat.h"

#include <filesystem>
#include <map>

#include "config/reader.h"

namespace ticketd::config {

void read_csat(Reader& r, const YAML::Node& node, CsatConfig& out) {
    read_settings(r, node, "csat", &out);  // enabled, queues, scale (a choice), template, min_interval
}

void check_csat(Reader& r, const Config& cfg, const YAML::Node& root) {
    const YAML::Node node = root.IsMap() ? root["csat"] : YAML::Node();
    if (!node || !node.IsMap()) return;
    const auto& c = cfg.csat;
    auto mark = [&](const char* key) { return node[key] ? node[key].Mark() : node.Mark(); };

    std::map<std::string, int> queues;
    for (const auto& q : cfg.queues) queues[q] = 0;
    for (const auto& a : cfg.agents)
        for (const auto& q : a.queues) queues[q] = 0;
    const YAML::Node list = node["queues"];
    for (std::size_t i = 0; i < c.queues.size(); ++i) {
        if (queues.count(c.queues[i])) continue;
        // Point at the item itself when the list is a YAML sequence.
        const YAML::Mark at = list && list.IsSequence() && i < list.size() ? list[i].Mark() : mark("queues");
        r.error(at, "csat.queues: unknown queue '" + c.queues[i] + "'" + Reader::suggestion(c.queues[i], queues) +
                        (queues.empty() ? " (no queues are declared in the config)" : ""));
    }

    if (!c.enabled) return;
    if (!cfg.smtp) {
        r.error(mark("enabled"), "csat.enabled: asking for ratings needs smtp: (or set enabled: false)");
        return;
    }
    if (!cfg.templates.count(c.template_name))
        r.error(node["template"] ? mark("template") : mark("enabled"),
                "csat.template: no template '" + c.template_name + "' (expected " + cfg.templates_dir + "/" +
                    c.template_name + ".txt)");
}

}  // namespace ticketd::config
