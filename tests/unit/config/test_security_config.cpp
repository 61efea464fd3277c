// security: (issue 8): the guessed-token limits, their defaults and their errors.

#include <gtest/gtest.h>

#include "config/config.h"

namespace ticketd::config {
namespace {

const std::string kDesk = "desk:\n  addresses: [support@example.com]\n  database: d.db\n";

TEST(SecurityConfig, DefaultsAreFivePerDay) {
    auto r = load_string(kDesk, "c.yaml");
    ASSERT_TRUE(r.config) << r.errors.at(0).to_string();
    EXPECT_EQ(r.config->security.token_guessing_limit, 5);
    EXPECT_EQ(r.config->security.token_guessing_window, std::chrono::hours(24));
}

TEST(SecurityConfig, KeysAreReadAndCheckedWithPositions) {
    auto r = load_string(kDesk + "security:\n  token_guessing_limit: 3\n  token_guessing_window: 1h\n", "c.yaml");
    ASSERT_TRUE(r.config) << r.errors.at(0).to_string();
    EXPECT_EQ(r.config->security.token_guessing_limit, 3);
    EXPECT_EQ(r.config->security.token_guessing_window, std::chrono::hours(1));

    auto bad = load_string(kDesk + "security:\n  token_guessing_limit: -1\n  token_guesing_window: 1h\n", "c.yaml");
    ASSERT_FALSE(bad.config);
    ASSERT_EQ(bad.errors.size(), 2u);
    EXPECT_EQ(bad.errors[0].to_string().rfind("c.yaml:5:25: security.token_guessing_limit:", 0), 0u)
        << bad.errors[0].to_string();
    EXPECT_EQ(bad.errors[1].to_string().rfind("c.yaml:6:3: unknown key 'security.token_guesing_window'", 0), 0u)
        << bad.errors[1].to_string();
}

}  // namespace
}  // namespace ticketd::config
