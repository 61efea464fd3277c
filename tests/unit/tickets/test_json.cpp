#include "tickets/json.h"

#include <gtest/gtest.h>

namespace ticketd::tickets {
namespace {

TicketView sample() {
    TicketView v;
    v.ticket.id = 1;
    v.ticket.number = 1042;
    v.ticket.token = "7f3a9c0b1d";
    v.ticket.subject = "Caf\xc3\xa9 broken \xff\xfe";  // valid UTF-8, then two stray bytes
    v.ticket.requester_address = "ann@customer.example";
    v.ticket.tags = {"vip"};
    v.ticket.created_at = v.ticket.updated_at = 1795000000;
    store::MessageRecord m;
    m.id = 5;
    m.kind = store::MessageKind::bounce;
    m.from_address = "MAILER-DAEMON@mx.example";
    m.subject = "Undelivered";
    m.body = "latin-1 \xe9t\xe9";
    m.message_id = "x@y";
    v.messages.push_back({m, {}});
    v.events.push_back({1, 1, 5, std::nullopt, 1795000000, "bounce.recorded", "5.1.1"});
    return v;
}

TEST(Json, InvalidUtf8IsReplacedNotFatal) {
    config::DeskConfig desk;
    desk.subject_tag = "ACME";
    auto j = show_json(sample(), desk);
    std::string dumped;
    ASSERT_NO_THROW(dumped = j.dump());
    EXPECT_EQ(j["subject"], "Caf\xc3\xa9 broken \xef\xbf\xbd\xef\xbf\xbd");
    EXPECT_EQ(j["messages"][0]["kind"], "bounce");
    EXPECT_EQ(j["messages"][0]["body"], "latin-1 \xef\xbf\xbdt\xef\xbf\xbd");
    EXPECT_EQ(j["subject_tag"], "[ACME #1042 7f3a9c0b1d]");
}

TEST(Json, ListCarriesNoToken) {
    auto v = sample();
    auto j = list_json({v.ticket});
    ASSERT_EQ(j.size(), 1u);
    for (const char* key : {"number", "status", "priority", "tags", "queue", "assignee",
                            "requester", "subject"})
        EXPECT_TRUE(j[0].contains(key)) << key;
    EXPECT_EQ(j.dump().find("7f3a9c0b1d"), std::string::npos);
    EXPECT_EQ(j[0]["tags"][0], "vip");
}

TEST(Text, RenderShowAndList) {
    config::DeskConfig desk;
    desk.subject_tag = "ACME";
    auto v = sample();
    auto s = render_show(v, desk);
    EXPECT_NE(s.find("[ACME #1042 7f3a9c0b1d]"), std::string::npos);
    EXPECT_NE(s.find("[bounce]"), std::string::npos);
    EXPECT_NE(s.find("bounce.recorded"), std::string::npos);
    auto l = render_list({v.ticket});
    EXPECT_NE(l.find("1042"), std::string::npos);
    EXPECT_EQ(l.find("7f3a9c0b1d"), std::string::npos);
    EXPECT_NE(render_list({}).find("no tickets"), std::string::npos);
    EXPECT_EQ(format_time(0), "");
    EXPECT_EQ(format_time(1795000000), "2026-11-18 11:06:40Z");
}

TEST(Text, TerminalEscapesInMailNeverReachTheTerminal) {
    // A subject with an OSC title change, a CSI colour, a C1 CSI and a backspace; newline and
    // tab stay, printable UTF-8 stays.
    const std::string hostile = "Invoice\x1b]0;pwned\x07 \x1b[31mred\x1b[0m \xc2\x9b" "2J back\bspace\x7f\tt\u00e4b\nnext";
    const std::string safe = terminal_safe(hostile);
    for (unsigned char c : safe) {
        EXPECT_TRUE(c >= 0x20 || c == '\n' || c == '\t') << int(c);
        EXPECT_NE(c, 0x7F);
    }
    EXPECT_EQ(safe.find("\xc2\x9b"), std::string::npos);
    EXPECT_NE(safe.find("t\u00e4b\nnext"), std::string::npos);
    EXPECT_NE(safe.find("\xEF\xBF\xBD]0;pwned"), std::string::npos) << safe;
    EXPECT_EQ(terminal_safe("plain \u00fcml\u00e4ut, \U0001F600"), "plain \u00fcml\u00e4ut, \U0001F600");
}

}  // namespace
}  // namespace ticketd::tickets
