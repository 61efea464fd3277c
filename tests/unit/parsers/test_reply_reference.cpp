// The reply split normalises each line once for all its tests and caches what each test found
// (parsers/reply.cpp); reply_reference.cpp holds the split as it was before, which normalised a
// line per test. Both must give the same three texts, and the recognisers the same answers, on
// thousands of generated bodies built from the pieces the tests look for, mangled the ways
// normalisation cares about (case, blanks, no-break spaces, '*', full-width colons, CR, cut
// UTF-8), and on every body of the shared corpus.
#include <gtest/gtest.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "parsers/body.h"
#include "parsers/parse.h"
#include "parsers/reply.h"
#include "tests/support/paths.h"

namespace ticketd::parsers::reference {
ReplySplit split_reply(std::string_view text);
namespace reply {
bool is_attribution(std::string_view line, bool next_is_quote);
bool is_separator_marker(std::string_view line);
char outlook_field(std::string_view line);
bool is_mobile_signature(std::string_view line);
std::string normalise(std::string_view line, std::size_t cap, bool& complete);
}  // namespace reply
}  // namespace ticketd::parsers::reference

namespace tp = ticketd::parsers;
namespace ref = ticketd::parsers::reference;

namespace {

const std::vector<std::string> kPieces = {
    // prose, short and long (past every cap: 55, 120, 200, 400 bytes)
    "Hello there", "Thanks for the quick reply.", "A-1234", "ok",
    "The printer on the second floor stopped working again this morning, same error as before.",
    std::string(130, 'x') + " wrote:", std::string(210, 'y'), std::string(90, 'z') + " original message",
    std::string(300, 'w') + " <a@example.com> wrote:", std::string(450, 'v') + ":",
    // attributions
    "On Tue, Jan 2, 2024 at 10:00 AM ACME Support <support@acme.example> wrote:",
    "On Tue, Jan 2, 2024 at 10:00 AM ACME Support Team <support@acme.example>", "wrote:",
    "Am Di., 2. Jan. 2024 um 10:00 Uhr schrieb Max Muster <max@example.de>:",
    "Le 2 janv. 2024 à 10:00, Jean Dupont <jean@example.fr> a écrit :", "Ann Example <ann@example.com> wrote:",
    "This is what he wrote:", "My colleague wrote: the server is down", "Max schrieb am 2.1.2024:",
    "2024年1月2日(火) 10:00 ACME Support <support@acme.example>:", "在 2024年1月2日 10:00，ACME 写道：",
    "Il giorno mar 2 gen 2024 alle ore 10:00 Mario Rossi <mario@example.it> ha scritto:",
    "W dniu 2.01.2024 o 10:00, Jan Kowalski napisał:", "kello 10.00 Matti kirjoitti:",
    // markers
    "-----Original Message-----", "---------- Forwarded message ---------", "Begin forwarded message:",
    "Anfang der weitergeleiteten Nachricht:", "________________________________", "__________ see below",
    "x__________", "-----Ursprüngliche Nachricht-----", "Original message", "==== Forwarded message ====",
    "-------- Исходное сообщение --------", "Début du message réexpédié :", "---", "=====", "*****",
    "--------------------------------------------------------------------------- original message",
    // Outlook fields
    "From: ACME Support <support@acme.example>", "*From:* ACME", "Von: ACME", "De : ACME", "Van: ACME",
    "Sent: Tuesday, January 2, 2024 10:00 AM", "*Sent:* Tuesday", "Gesendet: Dienstag", "Envoyé : mardi",
    "Date: Tue, 2 Jan 2024", "To: Ann", "À : Ann", "An: Ann", "Cc: Bob", "Subject: RE: [ACME #12] Printer",
    "Betreff: AW: Drucker", "Objet : RE: Imprimante", "差出人: ACME", "送信日時: 2024年1月2日", "宛先: Taro",
    "件名: RE: 請求書", "From: my manager I heard the invoice is wrong.", "Отправлено: вторник",
    // signatures
    "-- ", "--", "Sent from my iPhone", "Von meinem iPhone gesendet", "Get Outlook for Android",
    "Enviado desde mi iPhone", "Sent from my iPhone is what the footer says.", "Ann Example", "+49 30 1234",
    // quotes and blanks
    "> old text", ">> older text", "   > indented quote", "> On Mon, Bob wrote:", "", "", "", "   ", "\t", "\r",
};

// One of the ways a client may have written `s`.
std::string mangle(std::string s, std::mt19937& rng) {
    auto pick = [&](std::size_t n) { return static_cast<std::size_t>(rng() % n); };
    const int edits = static_cast<int>(pick(4));
    for (int e = 0; e < edits; ++e) {
        const std::size_t at = s.empty() ? 0 : pick(s.size() + 1);
        switch (pick(12)) {
            case 0: for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c))); break;
            case 1: s.insert(at, "\xC2\xA0"); break;           // U+00A0
            case 2: s.insert(at, "\xE2\x80\xAF"); break;       // U+202F
            case 3: s.insert(at, "*"); break;
            case 4: s.insert(at, "  "); break;
            case 5: s.insert(at, "\t"); break;
            case 6: s += '\r'; break;
            case 7: {  // ':' as a full-width colon
                auto c = s.find(':');
                if (c != std::string::npos) s.replace(c, 1, "\xEF\xBC\x9A");
                break;
            }
            case 8: s.insert(at, pick(2) ? "\xC2" : "\xE2\x80"); break;  // a cut sequence
            case 9: s.insert(0, std::string(pick(4), ' ')); break;
            case 10: s.insert(at, "_"); break;
            default: s += pick(2) ? " " : "*"; break;
        }
    }
    return s;
}

std::string body(std::mt19937& rng) {
    const std::size_t count = 1 + rng() % 30;
    const bool crlf = rng() % 5 == 0;
    std::string b;
    for (std::size_t i = 0; i < count; ++i) {
        b += mangle(kPieces[rng() % kPieces.size()], rng);
        if (i + 1 < count || rng() % 2) b += crlf ? "\r\n" : "\n";
    }
    return b;
}

void expect_same_split(const std::string& text, const std::string& where) {
    const tp::ReplySplit fast = tp::split_reply(text);
    const tp::ReplySplit slow = ref::split_reply(text);
    ASSERT_EQ(fast.new_text, slow.new_text) << where << "\n---\n" << text;
    ASSERT_EQ(fast.quoted_text, slow.quoted_text) << where << "\n---\n" << text;
    ASSERT_EQ(fast.signature, slow.signature) << where << "\n---\n" << text;
}

}  // namespace

TEST(SplitReplyFastPath, EqualsReferenceOnGeneratedBodies) {
    std::mt19937 rng(20261206);
    std::size_t with_history = 0, with_signature = 0;
    for (int n = 0; n < 6000; ++n) {
        const std::string text = body(rng);
        expect_same_split(text, "body " + std::to_string(n));
        const tp::ReplySplit s = tp::split_reply(text);
        with_history += !s.quoted_text.empty();
        with_signature += !s.signature.empty();
    }
    // The generator reaches the interesting paths, not only plain text.
    EXPECT_GT(with_history, 1000u);
    EXPECT_GT(with_signature, 300u);
}

TEST(SplitReplyFastPath, RecognisersEqualReferenceOnGeneratedLines) {
    std::mt19937 rng(6122026);
    std::size_t hits = 0;
    for (int n = 0; n < 20000; ++n) {
        std::string line = mangle(kPieces[rng() % kPieces.size()], rng);
        if (!line.empty() && line.back() == '\r') line.pop_back();  // split_reply strips it; the tests may not
        if (rng() % 3 == 0) line = mangle(line, rng);
        for (bool next : {false, true})
            ASSERT_EQ(tp::reply::is_attribution(line, next), ref::reply::is_attribution(line, next)) << line;
        ASSERT_EQ(tp::reply::is_separator_marker(line), ref::reply::is_separator_marker(line)) << line;
        ASSERT_EQ(tp::reply::outlook_field(line), ref::reply::outlook_field(line)) << line;
        ASSERT_EQ(tp::reply::is_mobile_signature(line), ref::reply::is_mobile_signature(line)) << line;
        hits += ref::reply::is_separator_marker(line) || ref::reply::outlook_field(line) != 0 ||
                ref::reply::is_mobile_signature(line) || ref::reply::is_attribution(line, true);
    }
    EXPECT_GT(hits, 5000u);
}

// reply::normalise copies runs of plain bytes 16 at a time (SSE2) and falls back to bytes at
// blanks, '*', no-break spaces and the cap: lines drawn from exactly those bytes, at every
// length and alignment around 16, against the byte-wise normalisation.
TEST(SplitReplyFastPath, NormaliseEqualsBytewiseOnGeneratedLines) {
    static const std::vector<std::string> kBits = {
        "a", "b", "z", "A", "M", "Z", "@", "[", "`", "{", "_", ":", "0", "-", " ", " ", " ", " ", "  ", "\t", "\r",
        "*", "\xC2\xA0", "\xE2\x80\xAF", "\xEF\xBC\x9A", "\xC2", "\xE2\x80", "\xEF\xBC", "\xE2", "\xEF",
        "\xA0", "\x80", "\xFF", "\xC3\xA4", "\xC3\x84", "word", "Word", "WORD", "original message"};
    std::mt19937 rng(16122026);
    std::size_t cut = 0, changed = 0;
    for (int n = 0; n < 40000; ++n) {
        std::string line;
        // Mostly words and single spaces (the 16-byte path), sometimes anything from kBits.
        const std::size_t target = rng() % 100;
        const bool prose = rng() % 2;
        while (line.size() < target) {
            if (prose && rng() % 4 != 0) {
                for (std::size_t w = 1 + rng() % 9; w > 0; --w) line += static_cast<char>((rng() % 3 ? 'a' : 'A') + rng() % 26);
                line += ' ';
            } else {
                line += kBits[rng() % kBits.size()];
            }
        }
        const std::size_t caps[] = {std::string::npos, 55, rng() % 80, line.size(), line.size() / 2};
        for (std::size_t cap : caps) {
            bool fast_complete = false, slow_complete = false;
            const std::string fast = tp::reply::normalise(line, cap, fast_complete);
            const std::string slow = ref::reply::normalise(line, cap, slow_complete);
            ASSERT_EQ(fast, slow) << "cap " << cap << " line '" << line << "'";
            ASSERT_EQ(fast_complete, slow_complete) << "cap " << cap << " line '" << line << "'";
            cut += !slow_complete;
            changed += slow != line;
        }
    }
    EXPECT_GT(cut, 50000u);
    EXPECT_GT(changed, 150000u);
}

TEST(SplitReplyFastPath, EqualsReferenceOnCorpusBodies) {
    if (ticketd::testing::corpus_dir().empty()) GTEST_SKIP() << "no ../shared corpus";
    std::size_t bodies = 0;
    for (const auto& path : ticketd::testing::corpus_message_files()) {
        auto r = tp::parse(ticketd::testing::read_file(path));
        auto* m = std::get_if<tp::Message>(&r);
        if (!m) continue;
        expect_same_split(m->body, path.string());
        ++bodies;
    }
    EXPECT_GT(bodies, 500u);
}

// An undashed short line is searched for the marker phrases only at its first bytes (a phrase
// in it starts within 12 of them) and only with the phrases that start with the byte there:
// phrases (some with their second byte or a later one changed, some cut) after and before runs
// of the letters phrases start with, at every offset around 12 and every length around the
// phrase + 12, against the reference's search of the whole line. Dashed lines ("-- ... --") take
// the byte-set path; they are drawn too.
TEST(SplitReplyFastPath, MarkerPhrasesAtEveryOffsetEqualReference) {
    static const std::vector<std::string> kPhrases = {
        "original message", "forwarded message", "Ursprüngliche Nachricht", "message d'origine",
        "mensaje original", "mensagem encaminhada", "vidarebefordrat meddelande", "oprindelig meddelelse",
        "alkuperäinen viesti", "původní zpráva", "oryginalna wiadomość", "Исходное сообщение",
        "пересылаемое сообщение", "messaggio inoltrato", "doorgestuurd bericht", "opprinnelig melding"};
    static const std::string kLetters = "ofuwmdvap oOmM  e-_x";
    std::mt19937 rng(22122026);
    std::size_t hits = 0, near = 0;
    for (int n = 0; n < 30000; ++n) {
        std::string phrase = kPhrases[rng() % kPhrases.size()];
        const unsigned change = rng() % 6;
        if (change == 0) phrase[1] = 'x';                                         // first byte right, second wrong
        if (change == 1) phrase[rng() % phrase.size()] = 'q';                     // a later byte wrong
        if (change == 2) phrase.resize(phrase.size() - 1 - rng() % 3);            // cut short
        std::string line;
        if (rng() % 8 == 0) line = "-- ";
        for (std::size_t k = rng() % 15; k > 0; --k) line += kLetters[rng() % kLetters.size()];
        line += phrase;
        for (std::size_t k = rng() % 15; k > 0; --k) line += kLetters[rng() % kLetters.size()];
        if (rng() % 8 == 0) line += " --";
        const bool want = ref::reply::is_separator_marker(line);
        ASSERT_EQ(tp::reply::is_separator_marker(line), want) << "'" << line << "'";
        hits += want;
        near += !want && change == 0;
    }
    // Both answers are reached often, and near misses (the right first byte) are drawn.
    EXPECT_GT(hits, 5000u);
    EXPECT_GT(near, 2000u);
}
