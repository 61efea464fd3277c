// The commands at the top of an agent's reply (issue 5): syntax, what is removed, what is text.
#include <gtest/gtest.h>

#include "tickets/agent_commands.h"

using namespace ticketd;
using namespace ticketd::tickets;

TEST(AgentCommands, CommandsAtTheTopAreRemovedFromTheText) {
    auto c = parse_agent_commands("#status pending\r\n#priority HIGH\n#tag +vip -new billing\n\nHello Ann,\nfixed.\n");
    EXPECT_TRUE(c.errors.empty()) << c.errors[0];
    EXPECT_EQ(c.status, "pending");
    EXPECT_EQ(c.priority, "high");
    EXPECT_EQ(c.add_tags, (std::vector<std::string>{"vip", "billing"}));
    EXPECT_EQ(c.remove_tags, (std::vector<std::string>{"new"}));
    EXPECT_EQ(c.text, "Hello Ann,\nfixed.\n");
    EXPECT_EQ(c.lines.size(), 3u);
    EXPECT_FALSE(c.note);
    EXPECT_TRUE(c.any());
}

TEST(AgentCommands, NoCommandsLeavesTheTextAlone) {
    const std::string t = "\nHi,\n#status closed is what I would do\n#tag +x\n";
    auto c = parse_agent_commands(t);
    EXPECT_TRUE(c.errors.empty());
    EXPECT_FALSE(c.any());
    EXPECT_EQ(c.text, t);
}

TEST(AgentCommands, HashNumbersAndHeadingsAreText) {
    auto c = parse_agent_commands("#1042 is the same problem\n");
    EXPECT_TRUE(c.lines.empty());
    EXPECT_TRUE(c.errors.empty());
    auto h = parse_agent_commands("# Summary\n");
    EXPECT_TRUE(h.lines.empty());
}

TEST(AgentCommands, NoteOnlyAsTheFirstLine) {
    auto c = parse_agent_commands("#note\n#assign me\ninternal: customer is on the old plan\n");
    EXPECT_TRUE(c.errors.empty());
    EXPECT_TRUE(c.note);
    EXPECT_EQ(c.assign, "me");
    EXPECT_EQ(c.text, "internal: customer is on the old plan\n");
    auto late = parse_agent_commands("#status pending\n#note\ntext\n");
    ASSERT_EQ(late.errors.size(), 1u);
    EXPECT_NE(late.errors[0].find("first line"), std::string::npos);
}

TEST(AgentCommands, InvalidCommandsAreErrorsWithTheirLine) {
    auto c = parse_agent_commands("#stauts closed\n#status open\n#priority whenever\n#tag\n#queue\nok\n");
    ASSERT_EQ(c.errors.size(), 5u);
    EXPECT_NE(c.errors[0].find("line 1: unknown command #stauts"), std::string::npos) << c.errors[0];
    EXPECT_NE(c.errors[1].find("line 2"), std::string::npos);
    EXPECT_NE(c.errors[2].find("#priority"), std::string::npos);
    auto both = parse_agent_commands("#tag +a -a\n#status closed\n#status pending\n");
    EXPECT_EQ(both.errors.size(), 2u);
    EXPECT_EQ(parse_agent_commands("#tag +a/b\n").errors.size(), 1u);
}

TEST(AgentCommands, AssignAndQueueAreResolvedAgainstTheConfig) {
    config::Config cfg;
    cfg.agents = {{"alice@agents.test", "Alice Smith", {"billing"}}, {"bob@agents.test", "Bob", {}}};
    cfg.queues = {"general"};
    auto c = parse_agent_commands("#assign alice smith\n#queue billing\n");
    resolve_agent_commands(c, cfg, cfg.agents[1]);
    EXPECT_TRUE(c.errors.empty());
    EXPECT_EQ(c.assign, "alice@agents.test");
    auto me = parse_agent_commands("#assign me\n#queue general\n");
    resolve_agent_commands(me, cfg, cfg.agents[1]);
    EXPECT_TRUE(me.errors.empty());
    EXPECT_EQ(me.assign, "bob@agents.test");
    auto bad = parse_agent_commands("#assign carol\n#queue nowhere\n");
    resolve_agent_commands(bad, cfg, cfg.agents[0]);
    EXPECT_EQ(bad.errors.size(), 2u);
    EXPECT_EQ(find_agent(cfg, "BOB@agents.test"), &cfg.agents[1]);
    EXPECT_EQ(find_agent(cfg, "eve@agents.test"), nullptr);
}
