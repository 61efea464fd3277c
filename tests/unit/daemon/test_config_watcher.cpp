// What a running daemon watches: every file its config snapshot was made from, so saving any of
// them reloads (issue 4 for rules; the SLA policies and templates likewise).

#include "daemon/config_watcher.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace ticketd::daemon {
namespace {

bool has(const std::vector<std::string>& v, const std::string& s) { return std::find(v.begin(), v.end(), s) != v.end(); }

TEST(ConfigWatcher, WatchesTheConfigRulesSlaPoliciesAndTemplates) {
    config::Config cfg;
    cfg.path = "/etc/ticketd/ticketd.yaml";
    cfg.rule_sources = {"/etc/ticketd/rules.d"};
    cfg.rules.files = {"/etc/ticketd/rules.d/10-vip.yaml"};
    cfg.sla_file = "/etc/ticketd/sla.yaml";
    config::MailTemplate ack;
    ack.name = "acknowledgement";
    ack.text_file = "/etc/ticketd/templates/acknowledgement.txt";
    ack.html_file = "/etc/ticketd/templates/acknowledgement.html";
    cfg.templates["acknowledgement"] = ack;
    config::MailTemplate plain;
    plain.name = "relayed_reply";
    plain.text_file = "/etc/ticketd/templates/relayed_reply.txt";
    cfg.templates["relayed_reply"] = plain;

    const auto w = watched_paths(cfg);
    for (const char* p : {"/etc/ticketd/ticketd.yaml", "/etc/ticketd/rules.d", "/etc/ticketd/rules.d/10-vip.yaml",
                          "/etc/ticketd/sla.yaml", "/etc/ticketd/templates/acknowledgement.txt",
                          "/etc/ticketd/templates/acknowledgement.html", "/etc/ticketd/templates/relayed_reply.txt"})
        EXPECT_TRUE(has(w, p)) << p;
    EXPECT_FALSE(has(w, "")) << "a template without HTML adds no empty path";
}

TEST(ConfigWatcher, WithoutSlaNothingExtraIsWatched) {
    config::Config cfg;
    cfg.path = "/etc/ticketd/ticketd.yaml";
    EXPECT_EQ(watched_paths(cfg), std::vector<std::string>{"/etc/ticketd/ticketd.yaml"});
}

}  // namespace
}  // namespace ticketd::daemon
