// Config keys for agents working by mail (issue 5): trusted_authserv_ids, imap[].trusted_agents,
// and the templates agents are sent, checked at load.

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
agents:
  - {address: Alice@Example.com, name: Alice}
)";

}  // namespace

TEST(AgentsConfig, TrustedIdsAndTrustedMailboxes) {
    Dir d;
    auto r = d.load(kBase +
                    "trusted_authserv_ids: [MX.Example.com, filter.example.com]\n"
                    "imap:\n"
                    "  - {name: agents, url: 'imaps://mail.example.com/INBOX', username: u, password_file: p,"
                    " trusted_agents: true}\n"
                    "  - {name: support, url: 'imaps://mail.example.com/INBOX', username: u, password_file: p}\n");
    ASSERT_TRUE(r.config) << all_errors(r);
    EXPECT_EQ(r.config->trusted_authserv_ids, (std::vector<std::string>{"mx.example.com", "filter.example.com"}));
    EXPECT_TRUE(r.config->imap.at(0).trusted_agents);
    EXPECT_FALSE(r.config->imap.at(1).trusted_agents);
    EXPECT_EQ(r.config->agents.at(0).address, "alice@example.com");
    for (const char* t : {"agent_notification", "relayed_reply", "agent_command_error", "agent_unverified"})
        EXPECT_EQ(r.config->templates.count(t), 1u) << t;
}

TEST(AgentsConfig, WrongTypesAreErrors) {
    Dir d;
    auto r = d.load(kBase + "trusted_authserv_ids: {mx: example.com}\n");
    EXPECT_FALSE(r.config);
    EXPECT_NE(all_errors(r).find("trusted_authserv_ids"), std::string::npos) << all_errors(r);
}

TEST(AgentsConfig, AMissingAgentTemplateIsAConfigError) {
    Dir d;
    std::filesystem::remove(d.tmp.path() / "templates" / "agent_unverified.txt");
    auto r = d.load(kBase);
    ASSERT_FALSE(r.config);
    EXPECT_NE(all_errors(r).find("agent_unverified"), std::string::npos) << all_errors(r);
    // Without smtp: nothing is sent, so nothing is needed.
    auto quiet = d.load("desk: {name: D, addresses: [support@example.com], database: t.db}\n"
                        "agents: [{address: a@example.com}]\n");
    EXPECT_TRUE(quiet.config) << all_errors(quiet);
}
