// The operations keys: metrics.listen (loopback unless allowed) and imap[].alert_after.

#include <gtest/gtest.h>

#include "config/config.h"

using namespace ticketd::config;

namespace {

const std::string kDesk = "desk:\n  addresses: [support@example.com]\n  database: /var/lib/ticketd/desk.db\n";

LoadResult with(const std::string& extra) { return load_string(kDesk + extra, "t.yaml"); }

std::string first_error(const LoadResult& r) { return r.errors.empty() ? "" : r.errors[0].to_string(); }

}  // namespace

TEST(OpsConfig, NoMetricsSectionMeansNoListener) {
    auto r = with("");
    ASSERT_TRUE(r.config) << first_error(r);
    EXPECT_FALSE(r.config->metrics.enabled());
}

TEST(OpsConfig, LoopbackListenAddressesAreParsed) {
    struct Case {
        const char* listen;
        const char* host;
        int port;
    };
    for (auto c : {Case{"127.0.0.1:9469", "127.0.0.1", 9469}, Case{"127.3.2.1:80", "127.3.2.1", 80},
                   Case{"[::1]:9469", "::1", 9469}, Case{"localhost:1", "127.0.0.1", 1}}) {
        auto r = with(std::string("metrics:\n  listen: \"") + c.listen + "\"\n");
        ASSERT_TRUE(r.config) << c.listen << ": " << first_error(r);
        EXPECT_TRUE(r.config->metrics.enabled());
        EXPECT_EQ(r.config->metrics.host, c.host);
        EXPECT_EQ(r.config->metrics.port, c.port);
    }
}

TEST(OpsConfig, BadListenAddressesPointAtTheValue) {
    EXPECT_EQ(first_error(with("metrics:\n  listen: 127.0.0.1\n")),
              "t.yaml:5:11: metrics.listen: expected host:port, like 127.0.0.1:9469 or [::1]:9469");
    EXPECT_EQ(first_error(with("metrics:\n  listen: 127.0.0.1:0\n")),
              "t.yaml:5:11: metrics.listen: port '0' is not 1 to 65535");
    EXPECT_EQ(first_error(with("metrics:\n  listen: 127.0.0.1:99999\n")),
              "t.yaml:5:11: metrics.listen: port '99999' is not 1 to 65535");
    EXPECT_EQ(first_error(with("metrics:\n  listen: metrics.example.com:9469\n")),
              "t.yaml:5:11: metrics.listen: 'metrics.example.com' is not an IP address (or localhost)");
    EXPECT_EQ(first_error(with("metrics:\n  listen: \"::1:9469\"\n")),
              "t.yaml:5:11: metrics.listen: write an IPv6 address in brackets: [::1]:9469");
    EXPECT_EQ(first_error(with("metrics:\n  allow_remote: true\n")),
              "t.yaml:5:3: metrics.listen: the address to serve /metrics on, like 127.0.0.1:9469");
    EXPECT_EQ(first_error(with("metrics:\n  listne: 127.0.0.1:9469\n")),
              "t.yaml:5:3: unknown key 'metrics.listne' (did you mean 'listen'?)");
}

TEST(OpsConfig, NonLoopbackNeedsAllowRemote) {
    auto refused = with("metrics:\n  listen: 0.0.0.0:9469\n");
    EXPECT_FALSE(refused.config);
    EXPECT_NE(first_error(refused).find("metrics.listen: 0.0.0.0 is not a loopback address"), std::string::npos)
        << first_error(refused);
    EXPECT_FALSE(with("metrics:\n  listen: \"[2001:db8::1]:9469\"\n").config);
    auto allowed = with("metrics:\n  listen: 0.0.0.0:9469\n  allow_remote: true\n");
    ASSERT_TRUE(allowed.config) << first_error(allowed);
    EXPECT_EQ(allowed.config->metrics.host, "0.0.0.0");
    EXPECT_TRUE(allowed.config->metrics.allow_remote);
}

TEST(OpsConfig, AlertAfterDefaultsToFifteenMinutes) {
    const std::string imap = "imap:\n  - name: support\n    url: imaps://mail.example.com/INBOX\n"
                             "    username: u\n    password_file: /etc/ticketd/pw\n";
    auto r = with(imap);
    ASSERT_TRUE(r.config) << first_error(r);
    EXPECT_EQ(r.config->imap[0].alert_after, std::chrono::minutes(15));
    auto set = with(imap + "    alert_after: 2h\n");
    ASSERT_TRUE(set.config) << first_error(set);
    EXPECT_EQ(set.config->imap[0].alert_after, std::chrono::hours(2));
    EXPECT_EQ(first_error(with(imap + "    alert_after: soon\n")),
              "t.yaml:9:18: imap[].alert_after: expected a duration like 30s, 5m, 2h or 14d, got 'soon'");
}
