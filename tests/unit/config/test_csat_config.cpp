// `csat:` (issue 9): satisfaction ratings by email. Defaults, every key, and the checks with
// file:line:col: unknown queues, a missing template, no smtp:.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "config/config.h"
#include "tests/support/paths.h"
#include "tests/unit/config/config_dir.h"

using namespace ticketd::config;
using ticketd::testing::TempDir;
using ticketd::testing::all_errors;
using Dir = ticketd::testing::ConfigDir;

namespace {

const std::string kBase = R"(desk:
  name: ACME Support
  addresses: [support@example.com]
  database: t.db
smtp:
  url: smtps://smtp.example.com:465
queues: [support, billing]
)";

}  // namespace

TEST(CsatConfig, OffByDefault) {
    Dir d;
    auto r = d.load(kBase);
    ASSERT_TRUE(r.config) << all_errors(r);
    EXPECT_FALSE(r.config->csat.enabled);
    EXPECT_TRUE(r.config->csat.queues.empty());
    EXPECT_EQ(r.config->csat.scale, CsatConfig::Scale::good_bad);
    EXPECT_EQ(r.config->csat.template_name, "csat_request");
    EXPECT_EQ(r.config->csat.min_interval, std::chrono::hours(24 * 7));
}

TEST(CsatConfig, EveryKey) {
    Dir d;
    auto r = d.load(kBase +
                    "csat: {enabled: true, queues: [billing], scale: one_to_five, template: csat_request, "
                    "min_interval: 3d}\n");
    ASSERT_TRUE(r.config) << all_errors(r);
    const auto& c = r.config->csat;
    EXPECT_TRUE(c.enabled);
    EXPECT_EQ(c.queues, std::vector<std::string>{"billing"});
    EXPECT_EQ(c.scale, CsatConfig::Scale::one_to_five);
    EXPECT_EQ(c.min_interval, std::chrono::hours(24 * 3));
    EXPECT_EQ(r.config->templates.count("csat_request"), 1u);
}

TEST(CsatConfig, AnAgentsQueueCountsToo) {
    Dir d;
    auto r = d.load(kBase + "agents:\n  - {address: a@example.com, queues: [vip]}\ncsat:\n  enabled: true\n  queues: [vip]\n");
    EXPECT_TRUE(r.config) << all_errors(r);
}

TEST(CsatConfig, UnknownQueueIsAnErrorAtTheItem) {
    Dir d;
    auto r = d.load(kBase + "csat:\n  enabled: true\n  queues:\n    - support\n    - biling\n");
    ASSERT_FALSE(r.config);
    const auto e = all_errors(r);
    EXPECT_NE(e.find("ticketd.yaml:12:7: csat.queues: unknown queue 'biling' (did you mean 'billing'?)"),
              std::string::npos)
        << e;
}

TEST(CsatConfig, MissingTemplateIsAnError) {
    Dir d;
    auto r = d.load(kBase + "csat:\n  enabled: true\n  template: how_was_it\n");
    ASSERT_FALSE(r.config);
    const auto e = all_errors(r);
    EXPECT_NE(e.find("ticketd.yaml:10:13: csat.template: no template 'how_was_it'"), std::string::npos) << e;
    // Not enabled: the template is not needed.
    r = d.load(kBase + "csat:\n  enabled: false\n  template: how_was_it\n");
    EXPECT_TRUE(r.config) << all_errors(r);
}

TEST(CsatConfig, WrongValuesAndKeys) {
    Dir d;
    auto r = d.load(kBase + "csat:\n  enabled: sometimes\n  scale: one_to_ten\n  min_interval: soon\n  colour: red\n");
    ASSERT_FALSE(r.config);
    const auto e = all_errors(r);
    EXPECT_NE(e.find("ticketd.yaml:9:12: csat.enabled:"), std::string::npos) << e;
    EXPECT_NE(e.find("csat.scale: expected good_bad or one_to_five, got 'one_to_ten'"), std::string::npos) << e;
    EXPECT_NE(e.find("ticketd.yaml:11:17: csat.min_interval:"), std::string::npos) << e;
    EXPECT_NE(e.find("colour"), std::string::npos) << e;
}

TEST(CsatConfig, EnabledWithoutSmtpIsAnError) {
    Dir d;
    auto r = d.load("desk:\n  addresses: [support@example.com]\n  database: t.db\ncsat: {enabled: true}\n");
    ASSERT_FALSE(r.config);
    EXPECT_NE(all_errors(r).find("csat.enabled: asking for ratings needs smtp:"), std::string::npos) << all_errors(r);
}
