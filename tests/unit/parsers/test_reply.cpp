// split_reply: the requester's new words apart from quoted history and signature.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "parsers/body.h"
#include "parsers/reply.h"

using ticketd::parsers::split_reply;
using ticketd::parsers::unflow;
namespace reply = ticketd::parsers::reply;

TEST(SplitReply, PlainMessageIsAllNew) {
    auto s = split_reply("Hello,\n\nmy printer is on fire.\n\nAnn\n");
    EXPECT_EQ(s.new_text, "Hello,\n\nmy printer is on fire.\n\nAnn");
    EXPECT_EQ(s.quoted_text, "");
    EXPECT_EQ(s.signature, "");
}

TEST(SplitReply, TopPostingWithQuoteMarks) {
    auto s = split_reply("It works now, thanks.\n\n> Please restart the router.\n> Regards\n");
    EXPECT_EQ(s.new_text, "It works now, thanks.");
    EXPECT_EQ(s.quoted_text, "> Please restart the router.\n> Regards");
}

TEST(SplitReply, EnglishAttribution) {
    auto s = split_reply(
        "Still broken.\n\nOn Tue, Jan 2, 2024 at 10:00 AM ACME Support <support@acme.example> wrote:\n> Did it help?\n");
    EXPECT_EQ(s.new_text, "Still broken.");
    EXPECT_EQ(s.quoted_text,
              "On Tue, Jan 2, 2024 at 10:00 AM ACME Support <support@acme.example> wrote:\n> Did it help?");
}

TEST(SplitReply, AttributionWrappedOverTwoLines) {
    auto s = split_reply(
        "Yes.\n\nOn Tue, Jan 2, 2024 at 10:00 AM ACME Support Team <support@acme.example>\nwrote:\n\n> Did it help?\n");
    EXPECT_EQ(s.new_text, "Yes.");
    EXPECT_EQ(s.quoted_text.substr(0, 7), "On Tue,");
}

struct LangCase {
    const char* attribution;
};
class Attributions : public ::testing::TestWithParam<LangCase> {};

TEST_P(Attributions, SplitsBeforeIt) {
    std::string text = std::string("Danke / merci / gracias.\n\n") + GetParam().attribution + "\n> old text\n";
    auto s = split_reply(text);
    EXPECT_EQ(s.new_text, "Danke / merci / gracias.") << GetParam().attribution;
    EXPECT_NE(s.quoted_text.find("old text"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(
    Languages, Attributions,
    ::testing::Values(
        LangCase{"Am Di., 2. Jan. 2024 um 10:00 Uhr schrieb Max Muster <max@example.de>:"},
        LangCase{"Am 02.01.2024 um 10:00 schrieb Max Muster:"},
        LangCase{"Le mar. 2 janv. 2024 à 10:00, Jean Dupont <jean@example.fr> a écrit :"},
        LangCase{"Le 2 janv. 2024 à 10:00, Jean Dupont <jean@example.fr> a\u00a0écrit\u00a0:"},
        LangCase{"El mar, 2 ene 2024 a las 10:00, Juan Pérez (<juan@example.es>) escribió:"},
        LangCase{"Op di 2 jan 2024 om 10:00 schreef Jan Jansen <jan@example.nl>:"},
        LangCase{"Il giorno mar 2 gen 2024 alle ore 10:00 Mario Rossi <mario@example.it> ha scritto:"},
        LangCase{"Em ter., 2 de jan. de 2024 às 10:00, João Silva <joao@example.pt> escreveu:"},
        LangCase{"Den tis 2 jan. 2024 kl 10:00 skrev Sven Svensson <sven@example.se>:"},
        LangCase{"Ann Example <ann@example.com> wrote:"}));

TEST(SplitReply, GermanAttributionWrapped) {
    auto s = split_reply("Passt.\n\nAm Di., 2. Jan. 2024 um 10:00 Uhr schrieb ACME Kundendienst\n<support@acme.example>:\n> Alt\n");
    EXPECT_EQ(s.new_text, "Passt.");
}

TEST(SplitReply, OutlookOriginalMessage) {
    auto s = split_reply("See attached.\n\n-----Original Message-----\nFrom: Support\nSent: Monday\nTo: Ann\n"
                         "Subject: RE: case\n\nold\n");
    EXPECT_EQ(s.new_text, "See attached.");
    EXPECT_EQ(s.quoted_text.substr(0, 27), "-----Original Message-----\n");
}

TEST(SplitReply, OutlookHeaderBlockInSeveralLanguages) {
    for (const char* block : {
             "From: ACME Support <support@acme.example>\nSent: Tuesday, January 2, 2024 10:00 AM\nTo: Ann\nSubject: RE: [ACME #12] Printer",
             "Von: ACME Support <support@acme.example>\nGesendet: Dienstag, 2. Januar 2024 10:00\nAn: Ann\nBetreff: AW: Drucker",
             "De : ACME Support <support@acme.example>\nEnvoyé : mardi 2 janvier 2024 10:00\nÀ : Ann\nObjet : RE: Imprimante",
             "De: ACME Support\nEnviado el: martes, 2 de enero de 2024 10:00\nPara: Ann\nAsunto: RE: Impresora",
             "Van: ACME Support\nVerzonden: dinsdag 2 januari 2024 10:00\nAan: Ann\nOnderwerp: RE: Printer",
             "*From:* ACME Support <support@acme.example>\n*Sent:* Tuesday\n*To:* Ann\n*Subject:* RE: Printer"}) {
        auto s = split_reply(std::string("Thanks, fixed.\n\n") + block + "\n\nold body\n");
        EXPECT_EQ(s.new_text, "Thanks, fixed.") << block;
        EXPECT_NE(s.quoted_text.find("old body"), std::string::npos) << block;
    }
}

TEST(SplitReply, OutlookUnderscoreSeparator) {
    auto s = split_reply("Done.\n\n________________________________\nFrom: Support\nSent: Monday\n\nold\n");
    EXPECT_EQ(s.new_text, "Done.");
    EXPECT_EQ(s.quoted_text.substr(0, 32), "________________________________");
}

TEST(SplitReply, FromLineInOwnTextIsNotAHeaderBlock) {
    auto s = split_reply("From: my manager I heard the invoice is wrong.\nCan you check?\n");
    EXPECT_EQ(s.new_text, "From: my manager I heard the invoice is wrong.\nCan you check?");
    EXPECT_EQ(s.quoted_text, "");
}

TEST(SplitReply, ForwardMarkersGmailAndApple) {
    auto g = split_reply("FYI, see below.\n\n---------- Forwarded message ---------\nFrom: Bob <bob@example.com>\n"
                         "Date: Tue, Jan 2, 2024\nSubject: Outage\nTo: Ann\n\nThe site is down.\n");
    EXPECT_EQ(g.new_text, "FYI, see below.");
    EXPECT_NE(g.quoted_text.find("The site is down."), std::string::npos);

    auto a = split_reply("Look at this\n\nBegin forwarded message:\n\nFrom: Bob <bob@example.com>\nSubject: Outage\n"
                         "Date: 2 January 2024\nTo: Ann\n\nThe site is down.\n");
    EXPECT_EQ(a.new_text, "Look at this");
}

TEST(SplitReply, BareForwardKeepsTheText) {
    std::string fwd =
        "---------- Forwarded message ---------\nFrom: Bob <bob@example.com>\nDate: Tue, Jan 2, 2024\n"
        "Subject: Outage\nTo: Ann\n\nThe site is down.";
    auto s = split_reply(fwd + "\n");
    EXPECT_EQ(s.new_text, fwd);
    EXPECT_EQ(s.quoted_text, "");
}

TEST(SplitReply, WholeMessageQuotedKeepsTheText) {
    auto s = split_reply("> only quoted\n> lines\n");
    EXPECT_EQ(s.new_text, "> only quoted\n> lines");
}

TEST(SplitReply, InlineReplyKeepsInterleavedAnswers) {
    auto s = split_reply(
        "On Mon, Jan 1, 2024 at 9:00 AM Support <support@acme.example> wrote:\n"
        "> What is your order number?\n\nA-1234\n\n> Which country?\n\nGermany\n");
    EXPECT_EQ(s.new_text, "A-1234\n\nGermany");
    EXPECT_NE(s.quoted_text.find("> What is your order number?"), std::string::npos);
    EXPECT_NE(s.quoted_text.find("> Which country?"), std::string::npos);
}

TEST(SplitReply, BottomPostingWithSignature) {
    auto s = split_reply("> Did the update help?\n\nYes, all good now.\n-- \nAnn Example\nExample GmbH\n");
    EXPECT_EQ(s.new_text, "Yes, all good now.");
    EXPECT_EQ(s.signature, "-- \nAnn Example\nExample GmbH");
}

TEST(SplitReply, Rfc3676SignatureBeforeQuote) {
    auto s = split_reply("Thanks!\n\n-- \nAnn\n+49 30 1234\n\nOn Mon, 1 Jan 2024, Support wrote:\n> hi\n");
    EXPECT_EQ(s.new_text, "Thanks!");
    EXPECT_EQ(s.signature, "-- \nAnn\n+49 30 1234");
    EXPECT_EQ(s.quoted_text, "On Mon, 1 Jan 2024, Support wrote:\n> hi");
}

TEST(SplitReply, MobileSignatures) {
    for (const char* sig : {"Sent from my iPhone", "Sent from my Android phone", "Von meinem iPhone gesendet",
                            "Envoyé de mon iPhone", "Enviado desde mi iPhone", "Verzonden vanaf mijn iPhone",
                            "Inviato da iPhone", "Enviado do meu iPhone", "Skickat från min iPhone",
                            "Get Outlook for Android"}) {
        auto s = split_reply(std::string("Please call me back.\n\n") + sig + "\n");
        EXPECT_EQ(s.new_text, "Please call me back.") << sig;
        EXPECT_EQ(s.signature, sig);
    }
}

TEST(SplitReply, MobileSignatureMidTextIsKept) {
    auto s = split_reply("Sent from my iPhone is what the footer says.\nBut the mail arrived garbled.\nSee screenshot.\n"
                         "It happens daily.\n");
    EXPECT_EQ(s.signature, "");
}

TEST(SplitReply, CrLfInput) {
    auto s = split_reply("New\r\n\r\n> old\r\n");
    EXPECT_EQ(s.new_text, "New");
    EXPECT_EQ(s.quoted_text, "> old");
}

TEST(Recognisers, Attribution) {
    EXPECT_TRUE(reply::is_attribution("On Jan 2, 2024, at 10:00, Ann <a@example.com> wrote:", false));
    EXPECT_FALSE(reply::is_attribution("My colleague wrote: the server is down", false));
    EXPECT_FALSE(reply::is_attribution("This is what he wrote:", false));
    EXPECT_TRUE(reply::is_attribution("This is what he wrote:", true));
}

TEST(Unflow, JoinsSoftBreaksAndKeepsQuotes) {
    EXPECT_EQ(unflow("This is a long \nline.\n> quoted \n> more\nHard\n", false),
              "This is a long line.\n> quoted more\nHard\n");
    EXPECT_EQ(unflow("Delsp \nyes\n", true), "Delspyes\n");
    EXPECT_EQ(unflow(" From stuffed\n-- \nsig\n", false), "From stuffed\n-- \nsig\n");
}

TEST(SplitReply, RuleAboveHistoryGoesWithIt) {
    // Outlook on the web draws an <hr> above its header block; as text that is "---".
    auto s = split_reply("Approved.\n\n---\nFrom: ACME <support@acme.example>\nSent: Monday\nTo: Ann\nSubject: Quote\n");
    EXPECT_EQ(s.new_text, "Approved.");
    EXPECT_EQ(s.quoted_text.rfind("---\nFrom:", 0), 0u);
}

TEST(SplitReply, LinearOnLargeInput) {
    std::string big;
    for (int i = 0; i < 200000; ++i) big += (i % 3 == 0) ? "From: someone\n\n\n" : (i % 3 == 1 ? "> quoted line\n" : "own line\n");
    auto start = std::chrono::steady_clock::now();
    auto s = split_reply(big);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    EXPECT_FALSE(s.new_text.empty());
    EXPECT_LT(ms.count(), 20000);  // quadratic would take minutes; sanitizer builds are slow
}

TEST(SplitReply, CjkAttributionsAndHeaders) {
    auto ja = split_reply("確認しました。\n\n2024年1月2日(火) 10:00 ACME Support <support@acme.example>:\n> ご確認ください。\n");
    EXPECT_EQ(ja.new_text, "確認しました。");
    auto zh = split_reply("好的。\n\n在 2024年1月2日 10:00，ACME Support <support@acme.example> 写道：\n> 请确认。\n");
    EXPECT_EQ(zh.new_text, "好的。");
    auto outlook = split_reply("了解です。\n\n差出人: ACME Support <support@acme.example>\n送信日時: 2024年1月2日 10:00\n"
                               "宛先: Taro\n件名: RE: 請求書\n\n本文\n");
    EXPECT_EQ(outlook.new_text, "了解です。");
}

// A wrapped attribution whose second line has nothing but bold marks: the joined line ends with
// the first line's colon (split_reply checks that before joining the two lines).
TEST(SplitReply, WrappedAttributionWhoseSecondLineIsOnlyMarks) {
    auto s = split_reply("Thanks!\n\nBob <bob@example.com> wrote:\n**\n> old text\n");
    EXPECT_EQ(s.new_text, "Thanks!");
    EXPECT_EQ(s.quoted_text, "Bob <bob@example.com> wrote:\n**\n> old text");
}

// Underscores only make an Outlook separator when the whole line is underscores.
TEST(SplitReply, UnderscoreSeparatorOnlyWhenTheLineIsNothingElse) {
    EXPECT_TRUE(reply::is_separator_marker("________________________________"));
    EXPECT_TRUE(reply::is_separator_marker("  ________________________________ \r"));
    EXPECT_FALSE(reply::is_separator_marker("__________ see below"));
    EXPECT_FALSE(reply::is_separator_marker("x__________"));
    EXPECT_FALSE(reply::is_separator_marker(""));
}
