// The composer: RFC 2047 headers in any language, folding, MIME structure, RFC 2231 file names,
// and no header injection; checked by reading the result back with ticketd's own parser.

#include <gtest/gtest.h>

#include <sstream>

#include "mail/compose.h"
#include "parsers/classify.h"
#include "parsers/parse.h"
#include "parsers/transfer.h"

using namespace ticketd::mail;
namespace parsers = ticketd::parsers;

namespace {

OutgoingMail sample() {
    OutgoingMail m;
    m.from = {"ACME Support", "support@example.com"};
    m.to = {{"Zoë Ünïcodé-Straße", "zoe@example.de"}};
    m.reply_to = Mailbox{"ACME Support", "support@example.com"};
    m.subject = "[ACME #1042 7f3a9c0b1d] Re: Grüße aus Köln";
    m.message_id = "1042.7f3a9c0b1d.r2@support.example.com";
    m.in_reply_to = {"abc@mail.example.de"};
    m.references = {"first@mail.example.de", "abc@mail.example.de"};
    m.date = std::chrono::sys_seconds{std::chrono::seconds{1796173764}};
    m.text = "Hallo Zoë,\nwir haben Ihr Ticket #1042 eröffnet.\n";
    m.auto_submitted = AutoSubmitted::auto_replied;
    return m;
}

parsers::Message parse_ok(const std::string& raw) {
    auto r = parsers::parse(raw);
    if (auto* e = std::get_if<parsers::ParseError>(&r)) {
        ADD_FAILURE() << e->code << ": " << e->message << "\n" << raw;
        return {};
    }
    return std::get<parsers::Message>(r);
}

/// The parser keeps the CRLF of the wire and drops the final line end; compare texts that way.
std::string wire_text(std::string s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\n') out += "\r\n";
        else out += s[i];
    }
    while (out.size() >= 2 && out.compare(out.size() - 2, 2, "\r\n") == 0) out.resize(out.size() - 2);
    return out;
}

std::string header_block(const std::string& raw) { return raw.substr(0, raw.find("\r\n\r\n") + 2); }

std::vector<std::string> lines(const std::string& s) {
    std::vector<std::string> out;
    std::size_t pos = 0;
    while (pos < s.size()) {
        auto e = s.find("\r\n", pos);
        if (e == std::string::npos) e = s.size();
        out.push_back(s.substr(pos, e - pos));
        pos = e + 2;
    }
    return out;
}

bool valid_utf8(const std::string& s) {
    for (std::size_t i = 0; i < s.size();) {
        unsigned char c = s[i];
        std::size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        if (!n || i + n > s.size()) return false;
        for (std::size_t k = 1; k < n; ++k)
            if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return false;
        i += n;
    }
    return true;
}

/// Every encoded word in `headers`: at most 75 characters, and decoding to whole UTF-8
/// characters on its own (no sequence split across two words).
void expect_good_encoded_words(const std::string& headers) {
    std::size_t pos = 0;
    int seen = 0;
    while ((pos = headers.find("=?UTF-8?B?", pos)) != std::string::npos) {
        auto end = headers.find("?=", pos + 10);
        ASSERT_NE(end, std::string::npos);
        std::string word = headers.substr(pos, end + 2 - pos);
        EXPECT_LE(word.size(), 75u) << word;
        auto d = parsers::decode_base64(headers.substr(pos + 10, end - pos - 10));
        EXPECT_TRUE(d.ok);
        EXPECT_TRUE(valid_utf8(d.data)) << word;
        pos = end + 2;
        ++seen;
    }
    EXPECT_GT(seen, 0);
}

}  // namespace

TEST(Compose, RoundTripThroughOurParser) {
    auto m = sample();
    m.cc = {{"Doe, John \"JD\"", "john@example.org"}, {"", "plain@example.org"}};
    const std::string raw = compose(m);
    auto p = parse_ok(raw);
    EXPECT_EQ(p.subject, m.subject);
    ASSERT_EQ(p.from.size(), 1u);
    EXPECT_EQ(p.from[0].name, "ACME Support");
    EXPECT_EQ(p.from[0].address, "support@example.com");
    ASSERT_EQ(p.to.size(), 1u);
    EXPECT_EQ(p.to[0].name, "Zoë Ünïcodé-Straße");
    EXPECT_EQ(p.to[0].address, "zoe@example.de");
    ASSERT_EQ(p.cc.size(), 2u);
    EXPECT_EQ(p.cc[0].name, "Doe, John \"JD\"");
    EXPECT_EQ(p.cc[1].address, "plain@example.org");
    ASSERT_EQ(p.reply_to.size(), 1u);
    EXPECT_EQ(p.reply_to[0].address, "support@example.com");
    EXPECT_EQ(p.message_id, m.message_id);
    EXPECT_EQ(p.in_reply_to, m.in_reply_to);
    EXPECT_EQ(p.references, m.references);
    ASSERT_TRUE(p.date);
    EXPECT_EQ(p.date->time_since_epoch().count(), 1796173764);
    EXPECT_EQ(p.body, wire_text("Hallo Zoë,\nwir haben Ihr Ticket #1042 eröffnet.\n"));
    // What we send automatically is recognisably automatic, to others and to ourselves.
    EXPECT_EQ(p.classification, parsers::Classification::auto_reply);
    EXPECT_TRUE(parsers::auto_reply_suppressed(p));
    EXPECT_NE(raw.find("\r\nAuto-Submitted: auto-replied\r\n"), std::string::npos);
    EXPECT_NE(raw.find("\r\nX-Auto-Response-Suppress: All\r\n"), std::string::npos);
    EXPECT_EQ(raw.find("Precedence"), std::string::npos);
}

TEST(Compose, HumanMailCarriesNoAutoSubmitted) {
    auto m = sample();
    m.auto_submitted = AutoSubmitted::none;
    const std::string raw = compose(m);
    EXPECT_EQ(raw.find("Auto-Submitted"), std::string::npos);
    EXPECT_EQ(raw.find("X-Auto-Response-Suppress"), std::string::npos);
    EXPECT_EQ(parse_ok(raw).classification, parsers::Classification::requester);
}

TEST(Compose, LongSubjectsInAnyLanguageFoldAndNeverSplitCharacters) {
    const std::vector<std::string> subjects = {
        "[ACME #7 0123456789] 東京の事務所からのお問い合わせ：請求書の金額が正しくありません。至急ご確認ください。よろしくお願いします",
        "[ACME #7 0123456789] Запрос: не работает вход в личный кабинет после обновления пароля, помогите пожалуйста",
        "[ACME #7 0123456789] 🙂🙃😀 emoji 𝄞 and a very long English tail that goes well past the seventy-eight column limit of a line",
        "Ελληνικά και العربية mixed with ASCII words, and an =?fake?Q?encoded_word?= that must not decode",
    };
    for (const auto& s : subjects) {
        auto m = sample();
        m.subject = s;
        const std::string raw = compose(m);
        const std::string headers = header_block(raw);
        for (const auto& l : lines(headers)) EXPECT_LE(l.size(), 78u) << l;
        expect_good_encoded_words(headers);
        EXPECT_EQ(parse_ok(raw).subject, s);
    }
}

TEST(Compose, LongDisplayNamesFold) {
    auto m = sample();
    m.to = {{"Ζωή Παπαδοπούλου-Γεωργιάδου της Εταιρείας Ελληνικών Υπηρεσιών Υποστήριξης Πελατών", "z@example.gr"},
            {"山田 太郎", "taro@example.jp"}};
    const std::string raw = compose(m);
    for (const auto& l : lines(header_block(raw))) EXPECT_LE(l.size(), 78u) << l;
    auto p = parse_ok(raw);
    ASSERT_EQ(p.to.size(), 2u);
    EXPECT_EQ(p.to[0].name, m.to[0].name);
    EXPECT_EQ(p.to[1].name, "山田 太郎");
    EXPECT_EQ(p.to[1].address, "taro@example.jp");
}

TEST(Compose, HeaderInjectionIsNeutralised) {
    auto m = sample();
    m.subject = "Hello\r\nBcc: victim@evil.example\r\n\r\nbody injected";
    m.to = {{"Eve\r\nBcc: victim2@evil.example", "eve@example.org\r\nBcc: victim3@evil.example"}};
    m.cc = {{"Mallory\nX-Evil: 1", "mallory@example.org"}, {"Nul\0Byte", "nul@example.org"}};
    m.message_id = "x@y>\r\nBcc: victim4@evil.example";
    m.in_reply_to = {"a@b>\r\nBcc: victim5@evil.example"};
    m.extra_headers = {{"X-Ticket\r\nBcc", "1"}, {"Bcc", "victim6@evil.example"},
                       {"X-Ticketd-Ticket", "1042\r\nBcc: victim7@evil.example"}};
    m.attachments = {{"evil\r\nBcc: victim8@evil.example.txt", "text/plain\r\nBcc: x", "data"}};
    const std::string raw = compose(m);
    const std::string headers = header_block(raw);
    for (const auto& l : lines(raw)) {
        EXPECT_NE(l.rfind("Bcc", 0), 0u) << l;
        EXPECT_NE(l.rfind("X-Evil", 0), 0u) << l;
    }
    EXPECT_EQ(raw.find('\0'), std::string::npos);
    // No bare CR or LF anywhere in the headers.
    for (std::size_t i = 0; i < headers.size(); ++i) {
        if (headers[i] == '\r') {
            EXPECT_EQ(headers[i + 1], '\n');
        }
        if (headers[i] == '\n') {
            EXPECT_EQ(headers[i - 1], '\r');
        }
    }
    auto p = parse_ok(raw);
    EXPECT_TRUE(p.bcc.empty());
    EXPECT_EQ(p.header("X-Evil"), nullptr);
    EXPECT_EQ(p.subject, "Hello Bcc: victim@evil.example body injected");
    ASSERT_EQ(p.to.size(), 1u);
    EXPECT_EQ(p.to[0].name, "Eve Bcc: victim2@evil.example");
    // What is left of the address is one quoted local part: never a second recipient.
    EXPECT_EQ(p.to[0].address.find("victim3@"), std::string::npos) << p.to[0].address;
    EXPECT_EQ(p.body, wire_text(m.text));
}

TEST(Compose, AlternativeAndAttachmentsWithRfc2231Names) {
    auto m = sample();
    m.html = "<p>Hallo Zoë</p>";
    static const char kPdf[] = "%PDF-1.4\0\x01\x02\xff binary";
    const std::string pdf(kPdf, sizeof kPdf - 1);  // with the NUL inside, without the final one
    m.attachments = {
        {"Überweisung März 2026 – Rechnung Nr. 4711 für die Abteilung Kundendienst und Vertrieb.pdf",
         "application/pdf", pdf},
        {"plain.txt", "text/plain", "hello\n"},
        {"../../etc/passwd", "bogus", "x"},
    };
    const std::string raw = compose(m);
    EXPECT_NE(raw.find("multipart/mixed"), std::string::npos);
    EXPECT_NE(raw.find("multipart/alternative"), std::string::npos);
    EXPECT_NE(raw.find("filename*0*=UTF-8''"), std::string::npos);
    EXPECT_NE(raw.find("filename=\"plain.txt\""), std::string::npos);
    auto p = parse_ok(raw);
    EXPECT_EQ(p.body, wire_text(m.text));
    EXPECT_EQ(p.body_html, m.html);
    ASSERT_EQ(p.attachments.size(), 3u);
    EXPECT_EQ(p.attachments[0].filename, m.attachments[0].filename);
    EXPECT_EQ(p.attachments[0].content_type, "application/pdf");
    EXPECT_EQ(p.leaves[p.attachments[0].leaf_index].data, pdf);
    EXPECT_EQ(p.attachments[1].filename, "plain.txt");
    EXPECT_EQ(p.attachments[2].filename, "passwd");
    EXPECT_EQ(p.attachments[2].content_type, "application/octet-stream");
}

TEST(Compose, BodyEncodingFollowsTheText) {
    auto m = sample();
    m.text = "short ascii\n";
    EXPECT_NE(compose(m).find("Content-Transfer-Encoding: 7bit"), std::string::npos);
    m.text = "これは日本語のテキストです。ほとんどのバイトはASCIIではありません。\n";
    std::string raw = compose(m);
    EXPECT_NE(raw.find("Content-Transfer-Encoding: base64"), std::string::npos);
    EXPECT_EQ(parse_ok(raw).body, wire_text(m.text));
    m.text = "Grüße " + std::string(200, 'x') + " \nline with trailing space \n.leading dot\nbad \xff byte\n";
    raw = compose(m);
    EXPECT_NE(raw.find("Content-Transfer-Encoding: quoted-printable"), std::string::npos);
    for (const auto& l : lines(raw)) EXPECT_LE(l.size(), 78u) << l;
    EXPECT_EQ(parse_ok(raw).body, wire_text("Grüße " + std::string(200, 'x') +
                                            " \nline with trailing space \n.leading dot\nbad \xEF\xBF\xBD byte\n"));
}

TEST(Compose, QuotedPrintableRoundTrips) {
    std::string text = "caf\xc3\xa9 = ok\t\r\n" + std::string(150, 'a') + "=\r\nend \r\n";
    std::string qp = quoted_printable(text);
    for (const auto& l : lines(qp)) EXPECT_LE(l.size(), 76u) << l;
    EXPECT_NE(qp.find("caf=C3=A9 =3D ok=09\r\n"), std::string::npos) << qp;
    EXPECT_EQ(parsers::decode_qp(qp), text);
}

TEST(Compose, AddressesAreQuotedOrCleaned) {
    EXPECT_EQ(addr_spec("john.doe@example.com"), "john.doe@example.com");
    EXPECT_EQ(addr_spec("john doe@example.com"), "johndoe@example.com");
    EXPECT_EQ(addr_spec("a..b@example.com"), "\"a..b\"@example.com");
    EXPECT_EQ(addr_spec("not an address"), "");
    EXPECT_EQ(addr_spec("a@b@c"), "\"a@b\"@c");  // the last @ splits; the rest is quoted
    EXPECT_EQ(address_field("To", {{"", "x"}, {"Ann", "ann@example.com"}}), "To: Ann <ann@example.com>\r\n");
    EXPECT_EQ(address_field("To", {{"A. Smith", "a@example.com"}}), "To: \"A. Smith\" <a@example.com>\r\n");
    EXPECT_EQ(rfc5322_date(std::chrono::sys_seconds{std::chrono::seconds{0}}), "Thu, 01 Jan 1970 00:00:00 +0000");
}
