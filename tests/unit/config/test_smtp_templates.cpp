// smtp:, templates: and auto_reply: (issue 5): validation with positions, defaults, and the
// template renderer.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "config/config.h"
#include "config/templates.h"
#include "tests/support/paths.h"
#include "tests/unit/config/config_dir.h"

using namespace ticketd::config;
using ticketd::testing::TempDir;
using ticketd::testing::all_errors;
using Dir = ticketd::testing::ConfigDir;

namespace {

const std::string kDesk = R"(desk:
  name: ACME Support
  addresses: [support@example.com]
  subject_tag: ACME
  database: t.db
)";

}  // namespace

TEST(SmtpConfig, DefaultsFromTheDesk) {
    Dir d;
    auto r = load_file(d.config(kDesk + "smtp:\n  url: smtps://smtp.example.com:465\n"));
    ASSERT_TRUE(r.config) << all_errors(r);
    ASSERT_TRUE(r.config->smtp);
    EXPECT_EQ(r.config->smtp->from, "support@example.com");
    EXPECT_EQ(r.config->smtp->reply_to, "support@example.com");
    EXPECT_TRUE(r.config->smtp->require_starttls);
    EXPECT_TRUE(r.config->smtp->tls_verify);
    EXPECT_TRUE(r.config->auto_reply.enabled);
    EXPECT_EQ(r.config->auto_reply.max_per_sender_per_hour, 3);
    EXPECT_EQ(r.config->templates_dir, (d.tmp.path() / "templates").string());
    EXPECT_EQ(r.config->templates.count("acknowledgement"), 1u);
    EXPECT_EQ(r.config->templates.count("sla_reminder"), 1u);
    EXPECT_FALSE(r.config->templates.at("acknowledgement").html.empty());
}

TEST(SmtpConfig, NoSmtpNeedsNoTemplates) {
    TempDir t;  // no templates directory at all: fine while nothing is sent
    ticketd::testing::write_config_file(t.path() / "c.yaml", kDesk);
    auto r = load_file((t.path() / "c.yaml").string());
    ASSERT_TRUE(r.config) << all_errors(r);
    EXPECT_FALSE(r.config->smtp);
}

TEST(SmtpConfig, ErrorsPointAtTheText) {
    Dir d;
    auto path = d.config(kDesk + R"(smtp:
  url: http://smtp.example.com
  username: desk
  from: not-an-address
  tls_verfy: false
auto_reply:
  max_per_sender_per_hour: -1
)");
    auto r = load_file(path);
    EXPECT_FALSE(r.config);
    std::string e = all_errors(r);
    EXPECT_NE(e.find(path + ":7:8: smtp.url: expected smtps://"), std::string::npos) << e;
    EXPECT_NE(e.find(path + ":10:3: unknown key 'smtp.tls_verfy' (did you mean 'tls_verify'?)"), std::string::npos) << e;
    EXPECT_NE(e.find(path + ":9:9: smtp.from: 'not-an-address' is not an email address"), std::string::npos) << e;
    EXPECT_NE(e.find("smtp: with a username, give exactly one of password_file and xoauth2_token_command"),
              std::string::npos) << e;
    EXPECT_NE(e.find(path + ":12:28: auto_reply.max_per_sender_per_hour: -1 is out of range"), std::string::npos) << e;
}

TEST(SmtpConfig, PasswordWithoutUsernameIsAnError) {
    Dir d;
    auto r = load_file(d.config(kDesk + "smtp: {url: 'smtp://127.0.0.1:25', password_file: pw}\n"));
    EXPECT_NE(all_errors(r).find("password_file or xoauth2_token_command needs a username"), std::string::npos);
}

TEST(SmtpConfig, MissingAcknowledgementTemplateIsAConfigError) {
    Dir d;
    auto r = load_file(d.config(kDesk + "smtp: {url: 'smtp://127.0.0.1:25'}\nauto_reply:\n  template: thanks\n"));
    EXPECT_FALSE(r.config);
    EXPECT_NE(all_errors(r).find(":8:13: auto_reply.template: no template 'thanks'"), std::string::npos)
        << all_errors(r);
}

TEST(SmtpConfig, MissingTemplatesDirectoryIsAConfigError) {
    TempDir t;
    ticketd::testing::write_config_file(t.path() / "c.yaml", kDesk + "smtp: {url: 'smtp://127.0.0.1:25'}\n");
    auto r = load_file((t.path() / "c.yaml").string());
    EXPECT_FALSE(r.config);
    EXPECT_NE(all_errors(r).find("templates: '" + (t.path() / "templates").string() + "' is not a directory"),
              std::string::npos) << all_errors(r);
}

TEST(SmtpConfig, BrokenTemplateIsReportedWithItsFileAndLine) {
    Dir d;
    ticketd::testing::write_config_file(d.tmp.path() / "templates/agent_notification.txt",
          "Subject: {{ticket.tag}}\n\nline one\n{{#ticket}}never closed\n");
    ticketd::testing::write_config_file(d.tmp.path() / "templates/no_subject.txt", "Hello\n");
    auto r = load_file(d.config(kDesk + "smtp: {url: 'smtp://127.0.0.1:25'}\n"));
    EXPECT_FALSE(r.config);
    std::string e = all_errors(r);
    EXPECT_NE(e.find((d.tmp.path() / "templates/agent_notification.txt").string() + ":"), std::string::npos) << e;
    EXPECT_NE(e.find("template syntax: Unclosed section"), std::string::npos) << e;
    EXPECT_NE(e.find((d.tmp.path() / "templates/no_subject.txt").string() +
                     ":1:1: a template starts with a 'Subject:' line"),
              std::string::npos) << e;
}

TEST(Templates, RenderNestedNamesWithoutEscapingText) {
    MailTemplate t;
    std::vector<ConfigError> errors;
    ASSERT_TRUE(parse_template_text("t.txt", "Subject: {{ticket.tag}} {{ticket.subject}}\n\nHi {{requester.name}} <&>\n",
                                    t, errors));
    t.html = "<p>{{requester.name}}</p>";
    auto out = render(t, {{"ticket.tag", "[ACME #7 abcdef]"},
                          {"ticket.subject", "line\r\nBcc: evil@x"},
                          {"requester.name", "Zoë <&>"}});
    EXPECT_EQ(out.subject, "[ACME #7 abcdef] line  Bcc: evil@x");  // one line, whatever came in
    EXPECT_EQ(out.text, "Hi Zoë <&> <&>\n");
    EXPECT_EQ(out.html, "<p>Zoë &lt;&amp;&gt;</p>");
}

TEST(Templates, ShippedTemplatesRender) {
    std::vector<ConfigError> errors;
    auto all = load_templates((ticketd::testing::source_dir() / "config/templates").string(), errors);
    ASSERT_TRUE(errors.empty()) << errors[0].to_string();
    for (const char* name : {"acknowledgement", "agent_notification", "relayed_reply", "sla_reminder"}) {
        ASSERT_EQ(all.count(name), 1u) << name;
        auto out = render(all.at(name), {{"ticket.tag", "[ACME #9 0123456789]"}, {"ticket.number", "9"}});
        EXPECT_NE(out.subject.find("[ACME #9 0123456789]"), std::string::npos) << name;
        EXPECT_FALSE(out.text.empty()) << name;
    }
}
