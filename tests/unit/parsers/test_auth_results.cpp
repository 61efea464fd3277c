// Authentication-Results (RFC 8601) parsing and the agent-verification decision over it.
#include <gtest/gtest.h>

#include "parsers/auth_results.h"

using namespace ticketd::parsers;

namespace {

std::vector<Header> hs(std::initializer_list<std::pair<const char*, const char*>> l) {
    std::vector<Header> v;
    for (const auto& [n, val] : l) v.push_back({n, val});
    return v;
}

}  // namespace

TEST(AuthResults, ParsesMethodsResultsReasonsAndProperties) {
    auto ar = parse_authentication_results(
        "mx.example.org 1; dkim=pass (2048-bit key; unprotected) reason=\"good sig\" "
        "header.d=Example.COM header.s=sel1; spf=fail smtp.mailfrom=bob@evil.test; dmarc=none");
    ASSERT_TRUE(ar);
    EXPECT_EQ(ar->authserv_id, "mx.example.org");
    ASSERT_EQ(ar->results.size(), 3u);
    EXPECT_EQ(ar->results[0].method, "dkim");
    EXPECT_EQ(ar->results[0].result, "pass");
    EXPECT_EQ(ar->results[0].reason, "good sig");
    EXPECT_EQ(ar->results[0].property("header.d"), "Example.COM");
    EXPECT_EQ(ar->results[0].property("HEADER.S"), "sel1");
    EXPECT_EQ(ar->results[1].method, "spf");
    EXPECT_EQ(ar->results[1].result, "fail");
    EXPECT_EQ(ar->results[1].property("smtp.mailfrom"), "bob@evil.test");
    EXPECT_EQ(ar->results[2].result, "none");
}

TEST(AuthResults, SpacesAroundEqualsVersionsNoneAndTrailingSemicolon) {
    auto ar = parse_authentication_results("(comment) mx ; spf = pass smtp.mailfrom = a.example ;");
    ASSERT_TRUE(ar);
    EXPECT_EQ(ar->authserv_id, "mx");
    ASSERT_EQ(ar->results.size(), 1u);
    EXPECT_EQ(ar->results[0].property("smtp.mailfrom"), "a.example");
    auto none = parse_authentication_results("mx.example.org; none");
    ASSERT_TRUE(none);
    EXPECT_TRUE(none->results.empty());
    auto v = parse_authentication_results("mx; dkim/1=pass header.d=x.example");
    ASSERT_TRUE(v);
    EXPECT_EQ(v->results.at(0).property("header.d"), "x.example");
}

TEST(AuthResults, MalformedIsRejected) {
    EXPECT_FALSE(parse_authentication_results(""));
    EXPECT_FALSE(parse_authentication_results("mx; dkim"));
    EXPECT_FALSE(parse_authentication_results("mx; dkim=pass (unclosed"));
    EXPECT_FALSE(parse_authentication_results("mx; dkim=pass header.d"));
    EXPECT_FALSE(parse_authentication_results("; dkim=pass"));
}

TEST(AuthResults, Alignment) {
    EXPECT_TRUE(domains_aligned("example.com", "example.com"));
    EXPECT_TRUE(domains_aligned("EXAMPLE.com", "mail.example.com"));
    EXPECT_TRUE(domains_aligned("bob@example.com", "example.com"));
    EXPECT_FALSE(domains_aligned("mail.example.com", "example.com"));
    EXPECT_FALSE(domains_aligned("ample.com", "example.com"));
    EXPECT_FALSE(domains_aligned("com", "example.com"));  // a bare TLD aligns nothing
    EXPECT_FALSE(domains_aligned("", "example.com"));
}

TEST(AuthResults, DkimAlignedFromATrustedServerVerifies) {
    auto v = verify_sender_domain(
        hs({{"Received", "from x"}, {"Authentication-Results", "mx.desk.test; dkim=pass header.d=agents.test"}}),
        "agents.test", {"MX.desk.test"});
    EXPECT_TRUE(v.verified) << v.evidence;
    EXPECT_NE(v.evidence.find("dkim=pass"), std::string::npos);
}

TEST(AuthResults, SpfPassForTheDomainVerifies) {
    auto v = verify_sender_domain(
        hs({{"Authentication-Results", "mx.desk.test; dkim=none; spf=pass smtp.mailfrom=alice@agents.test"}}),
        "agents.test", {"mx.desk.test"});
    EXPECT_TRUE(v.verified) << v.evidence;
}

TEST(AuthResults, UnalignedOrFailingDoesNot) {
    for (const char* ar : {"mx.desk.test; dkim=pass header.d=evil.test; spf=pass smtp.mailfrom=x@evil.test",
                           "mx.desk.test; dkim=fail header.d=agents.test; spf=softfail smtp.mailfrom=agents.test",
                           "mx.desk.test; none"}) {
        auto v = verify_sender_domain(hs({{"Authentication-Results", ar}}), "agents.test", {"mx.desk.test"});
        EXPECT_FALSE(v.verified) << ar;
        EXPECT_FALSE(v.evidence.empty());
    }
}

TEST(AuthResults, UntrustedServerOrNoneConfiguredDoesNot) {
    const auto h = hs({{"Authentication-Results", "mx.other.test; dkim=pass header.d=agents.test"}});
    EXPECT_FALSE(verify_sender_domain(h, "agents.test", {"mx.desk.test"}).verified);
    EXPECT_FALSE(verify_sender_domain(h, "agents.test", {}).verified);
    EXPECT_FALSE(verify_sender_domain({}, "agents.test", {"mx.desk.test"}).verified);
}

TEST(AuthResults, AForgedHeaderBelowOursDoesNotCount) {
    // Our server says fail at the top; the sender wrote a "pass" with our id lower down.
    auto v = verify_sender_domain(
        hs({{"Authentication-Results", "mx.desk.test; dkim=fail header.d=agents.test"},
            {"Received", "from outside"},
            {"Authentication-Results", "mx.desk.test; dkim=pass header.d=agents.test"}}),
        "agents.test", {"mx.desk.test"});
    EXPECT_FALSE(v.verified) << v.evidence;
}

TEST(AuthResults, AnUntrustedHeaderEndsTheTrustedBlock) {
    // A trusted id below an untrusted one was written before the mail reached our servers.
    auto v = verify_sender_domain(
        hs({{"Authentication-Results", "mx.other.test; none"},
            {"Authentication-Results", "mx.desk.test; dkim=pass header.d=agents.test"}}),
        "agents.test", {"mx.desk.test"});
    EXPECT_FALSE(v.verified);
    // Two trusted servers, each on top, both count.
    auto two = trusted_authentication_results(
        hs({{"Authentication-Results", "filter.desk.test; none"},
            {"Authentication-Results", "mx.desk.test; spf=pass smtp.mailfrom=agents.test"}}),
        {"mx.desk.test", "filter.desk.test"});
    ASSERT_EQ(two.size(), 2u);
    EXPECT_TRUE(verify_sender_domain(
                    hs({{"Authentication-Results", "filter.desk.test; none"},
                        {"Authentication-Results", "mx.desk.test; spf=pass smtp.mailfrom=agents.test"}}),
                    "agents.test", {"mx.desk.test", "filter.desk.test"})
                    .verified);
}TEST(SenderForged, DmarcFailOrUnsignedHardSpfFailFromATrustedServer) {
    const std::vector<std::string> ids = {"mx.desk.test"};
    auto forged = [&](std::initializer_list<std::pair<const char*, const char*>> l, const char* from) {
        return sender_domain_forged(hs(l), from, ids);
    };
    auto d = forged({{"Authentication-Results", "mx.desk.test; dmarc=fail header.from=bank.test"}}, "ceo@bank.test");
    ASSERT_TRUE(d);
    EXPECT_NE(d->find("dmarc=fail"), std::string::npos) << *d;
    EXPECT_TRUE(forged({{"Authentication-Results", "mx.desk.test; spf=fail smtp.mailfrom=bank.test"}}, "ceo@bank.test"));
    // Signed by the domain: not forged, whatever SPF said (forwarders break SPF).
    EXPECT_FALSE(forged({{"Authentication-Results",
                          "mx.desk.test; spf=fail smtp.mailfrom=bank.test; dkim=pass header.d=bank.test"}},
                        "ceo@bank.test"));
    // Not failures: softfail, none, temperror; DMARC about another domain; an untrusted server.
    EXPECT_FALSE(forged({{"Authentication-Results", "mx.desk.test; spf=softfail smtp.mailfrom=bank.test"}}, "ceo@bank.test"));
    EXPECT_FALSE(forged({{"Authentication-Results", "mx.desk.test; dmarc=temperror header.from=bank.test"}}, "ceo@bank.test"));
    EXPECT_FALSE(forged({{"Authentication-Results", "mx.desk.test; dmarc=fail header.from=other.test"}}, "ceo@bank.test"));
    EXPECT_FALSE(forged({{"Authentication-Results", "evil.test; dmarc=fail header.from=bank.test"}}, "ceo@bank.test"));
    EXPECT_FALSE(sender_domain_forged(hs({{"Authentication-Results", "mx.desk.test; dmarc=fail"}}), "ceo@bank.test", {}));
}


