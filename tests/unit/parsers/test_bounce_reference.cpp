// detect_bounce and read_bounce view the report instead of copying it, lower-case it once for
// both and only when a test reads it, and skip per-line tests that cannot change the answer
// (parsers/bounce.cpp); bounce_reference.cpp holds the code as it was before. Both must agree on
// thousands of generated messages (report lines from the vocabulary the tests look for, in any
// case, with white space, in plain, HTML, delivery-status, headers and feedback parts) and on
// every message of the shared corpus. Also: text::lower (eight bytes at a time) against
// lower_char byte by byte.
#include <gtest/gtest.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "parsers/bounce.h"
#include "parsers/parse.h"
#include "parsers/textutil.h"
#include "tests/support/paths.h"

namespace ticketd::parsers::reference {
std::string bounce_report_text(const Message& m);
BounceVerdict detect_bounce(const Message& m);
BounceVerdict detect_bounce(const Message& m, std::string_view report);
BounceInfo read_bounce(const Message& m);
}  // namespace ticketd::parsers::reference

namespace tp = ticketd::parsers;
namespace ref = ticketd::parsers::reference;

namespace {

const std::vector<std::string> kReportLines = {
    "This is the mail system at host mx.example.com.",
    "I'm sorry to have to inform you that your message could not",
    "be delivered to one or more recipients. It's attached below.",
    "<bob@example.com>: host mx.example.org[192.0.2.1] said: 550 5.1.1 <bob@example.com>: User unknown",
    "    carol@example.net", "  dave@example.org (delivery failed)", "Final-Recipient: rfc822; erin@example.com",
    "Action: failed", "Action: delayed", "Status: 5.1.1", "Status: 4.4.7", "Diagnostic-Code: smtp; 550 5.7.1 rejected",
    "Please contact <postmaster@example.com> for help.", "From: sender@example.com", "Reporting-MTA: dns; mx.example.com",
    "Return-Path: <x@example.com>", "Received: from mx by mx2", "------ This is a copy of the message, including all the headers. ------",
    "--- Below this line is a copy of the message.", "Original message follows", "Unsent message below",
    // the needles read_bounce searches for at the very end of a line
    "This is a copy of the message", "Below this line is a copy", "mx.example.org said:",
    "Your message could not be delivered", "Delivery has failed to these recipients or groups:",
    "\"notificationType\" : \"Bounce\"", "{\"notificationType\":\n \"Complaint\"}", "192.168.10.1 and 1.2.3.4.5",
    "remote said: 421 4.4.2 Connection timed out", "4.2.2 mailbox full", "Message-ID: <orig-123@example.com>",
    "X-Original-Message-ID:", "  <folded-456@example.com>", "The user unknown error: no such user here",
    "mailbox unavailable ... frank@example.com", "Delivery to the following recipient failed permanently:",
    "Ihre Nachricht konnte nicht zugestellt werden", "hello", "", "   ", "Thanks, Ann", "5.1.1", "550-5.1.1",
    "Feedback-Type: abuse", "Original-Rcpt-To: grace@example.com", "Removal-Recipient: heidi@example.com",
};
const std::vector<std::string> kSubjects = {
    "Undelivered Mail Returned to Sender", "Delivery Status Notification (Failure)", "Re: Undeliverable: invoice",
    "Mail delivery failed: returning message to sender", "Warning: message delayed", "failure notice",
    "Complaint about message from 192.0.2.1", "Hello", "My parcel was not delivered", "", "AW: Unzustellbar"};
const std::vector<std::string> kFrom = {"MAILER-DAEMON@mx.example.com", "postmaster@example.org", "ann@example.com",
                                        "double-bounce@example.net", "no-reply@shop.example"};
const std::vector<std::string> kFromNames = {"", "Mail Delivery System", "Mail Delivery Subsystem", "Ann"};

std::string mangle_case(std::string s, std::mt19937& rng) {
    switch (rng() % 4) {
        case 0: for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c))); break;
        case 1: for (char& c : s) if (rng() % 3 == 0) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c))); break;
        default: break;
    }
    return s;
}

std::string report(std::mt19937& rng, std::size_t lines) {
    std::string r;
    for (std::size_t i = 0; i < lines; ++i) {
        static const std::vector<std::string> prose = {"Hello Ann,", "The order arrives on 4.4. at 10:00.",
                                                       "Thanks, Bob <bob@example.com>", "Version 5.1.2 is out.", ""};
        r += mangle_case(rng() % 3 ? prose[rng() % prose.size()] : kReportLines[rng() % kReportLines.size()], rng);
        r += rng() % 6 == 0 ? "\r\n" : "\n";
        if (rng() % 10 == 0) r += "\t \n";
    }
    return r;
}

tp::Leaf leaf(std::string type, std::string data, bool text = true) {
    tp::Leaf l;
    l.content_type = std::move(type);
    l.data = std::move(data);
    l.is_text = text;
    l.text_is_data = text;
    return l;
}

tp::Message message(std::mt19937& rng) {
    tp::Message m;
    m.subject = mangle_case(kSubjects[rng() % kSubjects.size()], rng);
    tp::Address from{kFromNames[rng() % kFromNames.size()], kFrom[rng() % kFrom.size()]};
    m.from.push_back(from);
    m.headers.push_back({"From", (from.name.empty() ? "" : from.name + " ") + "<" + from.address + ">"});
    m.headers.push_back({"Subject", m.subject});
    switch (rng() % 4) {
        case 0: m.has_return_path = true; m.headers.push_back({"Return-Path", "<>"}); break;
        case 1: m.has_return_path = true; m.return_path = "x@example.com"; m.headers.push_back({"Return-Path", "<x@example.com>"}); break;
        default: break;
    }
    static const std::vector<std::string> types = {"multipart/report; report-type=delivery-status; boundary=x",
                                                   "multipart/mixed; boundary=y", "text/plain",
                                                   "multipart/report; report-type=feedback-report"};
    if (rng() % 4 == 0) m.headers.push_back({"Content-Type", types[rng() % types.size()]});
    if (rng() % 8 == 0) m.headers.push_back({"X-Failed-Recipients", "ivan@example.com, judy@example.org"});
    if (rng() % 5 == 0) m.in_reply_to.push_back("irt@example.com");
    m.message_id = "self@example.com";
    m.to.push_back({"", "ann@example.com"});

    const std::size_t parts = rng() % 4;
    for (std::size_t p = 0; p < parts + 1; ++p) {
        switch (rng() % 16) {
            case 0: case 1: case 2: case 3: case 4: case 5: case 6:
                // Some reports of kilobytes: read_bounce searches them a window (1 KiB) at a time.
                m.leaves.push_back(leaf("text/plain", report(rng, 1 + rng() % (rng() % 6 == 0 ? 160 : 25))));
                break;
            case 7: case 8: m.leaves.push_back(leaf("text/html", "<p>" + report(rng, 1 + rng() % 10) + "</p>")); break;
            case 9: m.leaves.push_back(leaf("message/delivery-status", report(rng, 1 + rng() % 12), false)); break;
            case 10: m.leaves.push_back(leaf("text/rfc822-headers", report(rng, 1 + rng() % 6), false)); break;
            case 11: m.leaves.push_back(leaf("message/feedback-report", report(rng, 1 + rng() % 6), false)); break;
            case 12: m.leaves.push_back(leaf("text/plain", rng() % 2 ? "  \n" : "")); break;
            default: {
                tp::Leaf l = leaf("text/plain", report(rng, 1 + rng() % 5));
                l.in_rfc822 = true;
                m.leaves.push_back(std::move(l));
                tp::Forwarded f;
                f.raw = "Message-ID: <fwd-" + std::to_string(rng() % 100) + "@example.com>\n\nbody\n";
                if (rng() % 2) f.message_id = "fwd@example.com";
                m.forwarded.push_back(std::move(f));
            }
        }
    }
    m.body = report(rng, rng() % 8);
    return m;
}

void expect_same(const tp::Message& m, const std::string& where) {
    ASSERT_EQ(tp::bounce_report_text(m), ref::bounce_report_text(m)) << where;
    const tp::BounceVerdict a = tp::detect_bounce(m), b = ref::detect_bounce(m);
    ASSERT_EQ(a.bounce, b.bounce) << where;
    ASSERT_EQ(a.reason, b.reason) << where;
    const std::string report = ref::bounce_report_text(m);
    const tp::BounceVerdict c = tp::detect_bounce(m, report);
    ASSERT_EQ(c.bounce, b.bounce) << where;
    ASSERT_EQ(c.reason, b.reason) << where;
    const tp::BounceInfo x = tp::read_bounce(m), y = ref::read_bounce(m);
    ASSERT_EQ(x.original_message_id, y.original_message_id) << where;
    ASSERT_EQ(x.failed_recipients, y.failed_recipients) << where;
    ASSERT_EQ(x.status, y.status) << where;
    ASSERT_EQ(x.diagnostic, y.diagnostic) << where;
    ASSERT_EQ(x.permanent, y.permanent) << where;
}

}  // namespace

TEST(BounceFastPath, EqualsReferenceOnGeneratedMessages) {
    std::mt19937 rng(424242);
    std::size_t bounces = 0, with_recipients = 0, with_status = 0;
    for (int n = 0; n < 5000; ++n) {
        const tp::Message m = message(rng);
        expect_same(m, "message " + std::to_string(n));
        bounces += ref::detect_bounce(m).bounce;
        const tp::BounceInfo i = ref::read_bounce(m);
        with_recipients += !i.failed_recipients.empty();
        with_status += !i.status.empty();
    }
    // The generator reaches both answers and the fields, not only one path.
    EXPECT_GT(bounces, 1000u);
    EXPECT_LT(bounces, 4500u);
    EXPECT_GT(with_recipients, 1000u);
    EXPECT_GT(with_status, 1000u);
}

TEST(BounceFastPath, EqualsReferenceOnCorpus) {
    if (ticketd::testing::corpus_dir().empty()) GTEST_SKIP() << "no ../shared corpus";
    std::size_t messages = 0;
    for (const auto& path : ticketd::testing::corpus_message_files()) {
        auto r = tp::parse(ticketd::testing::read_file(path));
        if (auto* m = std::get_if<tp::Message>(&r)) {
            expect_same(*m, path.string());
            ++messages;
        }
    }
    EXPECT_GT(messages, 500u);
}

// The bounce reader finds SMTP reply codes ("550 ", "421-") 16 bytes at a time and the bounce
// subjects behind a byte-set test: report lines and subjects made of the bytes those look at
// (class digits, digits, ' ', '-', letters before a code), at every length and position around
// 16, read by both; the diagnostic and permanent flag show the reply codes found.
TEST(BounceFastPath, ReplyCodesAndSubjectsEqualReferenceOnGeneratedLines) {
    static const std::string kBytes = "4455501299 --aZ.\t:@";
    std::mt19937 rng(5501);
    std::size_t with_diagnostic = 0, temporary = 0;
    for (int n = 0; n < 20000; ++n) {
        std::string line(rng() % 60, ' ');
        for (char& c : line) c = kBytes[rng() % kBytes.size()];
        // Past the 500 bytes a diagnostic keeps, cut inside a UTF-8 sequence or a run of blanks.
        if (n % 4 == 0) {
            std::string run;
            while (run.size() < 490 + rng() % 30) run += rng() % 3 ? "\xE2\x82\xAC" : rng() % 2 ? " \t " : "x";
            line = "550 " + run + line;
        }
        tp::Message m;
        m.from.push_back({"", "MAILER-DAEMON@mx.example.com"});
        m.subject = n % 2 ? line : kSubjects[rng() % kSubjects.size()] + line;
        m.leaves.push_back(leaf("text/plain", line + (rng() % 2 ? "\n" : "")));
        m.body = line;
        expect_same(m, "line '" + line + "'");
        const tp::BounceInfo i = ref::read_bounce(m);
        with_diagnostic += !i.diagnostic.empty();
        temporary += !i.permanent;
    }
    EXPECT_GT(with_diagnostic, 1500u);
    EXPECT_GT(temporary, 1000u);
}

TEST(TextLower, EightBytesAtATimeEqualsBytewise) {
    std::mt19937 rng(77);
    for (int n = 0; n < 5000; ++n) {
        std::string s(rng() % 70, '\0');
        for (char& c : s) c = static_cast<char>(rng() % 4 == 0 ? rng() % 256 : 0x3E + rng() % 0x24);  // around 'A'..'Z'
        std::string want = s;
        for (char& c : want) c = tp::text::lower_char(c);
        ASSERT_EQ(tp::text::lower(s), want) << n;
    }
    std::string all;
    for (int c = 0; c < 256; ++c) all += static_cast<char>(c);
    std::string want = all;
    for (char& c : want) c = c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c;
    EXPECT_EQ(tp::text::lower(all), want);
    // lower_char stands for std::tolower (the bounce reader, html.cpp): the same in the C locale.
    for (int c = 0; c < 256; ++c)
        ASSERT_EQ(static_cast<unsigned char>(tp::text::lower_char(static_cast<char>(c))), std::tolower(c)) << c;
}
