#include "mail/imap.h"

#include <gtest/gtest.h>

#include <string>

namespace ticketd::mail {
namespace {

using Uids = std::vector<std::uint64_t>;

TEST(MailboxStatus, ParsesDovecotExamine) {
    const char* r =
        "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n"
        "* OK [PERMANENTFLAGS ()] Read-only mailbox.\r\n"
        "* 2 EXISTS\r\n"
        "* 2 RECENT\r\n"
        "* OK [UIDVALIDITY 1795400907] UIDs valid\r\n"
        "* OK [UIDNEXT 3] Predicted next UID\r\n";
    auto st = parse_mailbox_status(r);
    ASSERT_TRUE(st);
    EXPECT_EQ(st->uidvalidity, 1795400907u);
    EXPECT_EQ(st->uidnext, 3u);
    EXPECT_EQ(st->exists, 2u);
}

TEST(MailboxStatus, CaseInsensitiveAndBareLf) {
    auto st = parse_mailbox_status("* ok [uidvalidity 7] x\n* 0 exists\n");
    ASSERT_TRUE(st);
    EXPECT_EQ(st->uidvalidity, 7u);
    EXPECT_EQ(st->uidnext, 0u);
    EXPECT_EQ(st->exists, 0u);
}

TEST(MailboxStatus, RejectsGarbage) {
    EXPECT_FALSE(parse_mailbox_status(""));
    EXPECT_FALSE(parse_mailbox_status("* 3 EXISTS\r\n"));  // no UIDVALIDITY: nothing UID-safe
    EXPECT_FALSE(parse_mailbox_status("* OK [UIDVALIDITY 0] zero is invalid\r\n"));
    EXPECT_FALSE(parse_mailbox_status("* OK [UIDVALIDITY -5]\r\n"));
    EXPECT_FALSE(parse_mailbox_status("* OK [UIDVALIDITY 99999999999999999999999]\r\n"));
    EXPECT_FALSE(parse_mailbox_status("* OK [UIDVALIDITY 4294967296]\r\n"));  // above 32 bits
    EXPECT_FALSE(parse_mailbox_status("* OK [UIDVALIDITY 12\r\n"));          // unclosed code
    EXPECT_FALSE(parse_mailbox_status("A1 OK [UIDVALIDITY 12]\r\n"));        // tagged, not untagged
    EXPECT_FALSE(parse_mailbox_status(std::string("* OK [UIDVALIDITY 1\0 2]\r\n", 24)));
}

TEST(MailboxStatus, GarbledExistsIsIgnoredNotFatal) {
    auto st = parse_mailbox_status("* x EXISTS\r\n* OK [UIDVALIDITY 5]\r\n");
    ASSERT_TRUE(st);
    EXPECT_EQ(st->exists, 0u);
}

TEST(UidSet, CompactRanges) {
    EXPECT_EQ(parse_uid_set("3:5,9"), (Uids{3, 4, 5, 9}));
    EXPECT_EQ(parse_uid_set("7"), (Uids{7}));
    EXPECT_EQ(parse_uid_set("9:7,1,8"), (Uids{1, 7, 8, 9}));  // reversed range, overlap
    EXPECT_EQ(parse_uid_set("4294967295"), (Uids{4294967295u}));
}

TEST(UidSet, RejectsMalformedAndHuge) {
    for (const char* bad : {"", ",", "1,", ",1", "1::2", "a", "1:b", "0", "0:3", "1:4294967296",
                            "3:*", "1 2", "-1", "1:2:3"})
        EXPECT_FALSE(parse_uid_set(bad)) << bad;
    // A hostile server must not make us allocate billions of UIDs.
    EXPECT_FALSE(parse_uid_set("1:4294967295"));
    EXPECT_FALSE(parse_uid_set("1:10,20:30", 15));
    EXPECT_TRUE(parse_uid_set("1:10,20:24", 15));
}

TEST(Search, PlainSearch) {
    EXPECT_EQ(parse_search("* SEARCH 2 84 882\r\n"), (Uids{2, 84, 882}));
    EXPECT_EQ(parse_search("* SEARCH\r\n"), Uids{});
    EXPECT_EQ(parse_search("* SEARCH 5 3 5\r\n"), (Uids{3, 5}));
    EXPECT_EQ(parse_search("* SEARCH 4 (MODSEQ 917162500)\r\n"), (Uids{4}));
    // Several SEARCH lines (some servers split long answers).
    EXPECT_EQ(parse_search("* SEARCH 1 2\r\n* SEARCH 3\r\n"), (Uids{1, 2, 3}));
}

TEST(Search, Esearch) {
    EXPECT_EQ(parse_search("* ESEARCH (TAG \"A004\") UID ALL 1:2\r\n"), (Uids{1, 2}));
    EXPECT_EQ(parse_search("* ESEARCH (TAG \"A4\") UID ALL 3:5,9\r\n"), (Uids{3, 4, 5, 9}));
    EXPECT_EQ(parse_search("* ESEARCH (TAG \"A004\") UID\r\n"), Uids{});  // nothing matched
    EXPECT_EQ(parse_search("* ESEARCH UID COUNT 2 ALL 4,6\r\n"), (Uids{4, 6}));
    EXPECT_EQ(parse_search("* esearch (tag \"x\") uid all 8\r\n"), (Uids{8}));
}

TEST(Search, UnrelatedUntaggedLinesAreIgnored) {
    auto r = parse_search("* 3 EXISTS\r\n* 1 RECENT\r\n* ESEARCH (TAG \"A5\") UID ALL 10\r\n");
    EXPECT_EQ(r, (Uids{10}));
}

TEST(Search, HostileOrGarbled) {
    EXPECT_FALSE(parse_search(""));
    EXPECT_FALSE(parse_search("* OK nothing here\r\n"));
    EXPECT_FALSE(parse_search("* SEARCH 1 x 3\r\n"));
    EXPECT_FALSE(parse_search("* SEARCH 0\r\n"));
    EXPECT_FALSE(parse_search("* SEARCH 99999999999\r\n"));
    EXPECT_FALSE(parse_search("* SEARCHING 1\r\n"));
    EXPECT_FALSE(parse_search("* ESEARCH (TAG \"A4\" UID ALL 1\r\n"));  // unclosed correlator
    EXPECT_FALSE(parse_search("* ESEARCH (TAG \"A4\") UID ALL\r\n"));   // ALL without value
    EXPECT_FALSE(parse_search("* ESEARCH (TAG \"A4\") UID ALL 1:4294967295\r\n"));
    EXPECT_FALSE(parse_search("* ESEARCH UID ALL 1:3,,5\r\n"));
    EXPECT_FALSE(parse_search("* SEARCH 1 2 3\r\n", 2));  // beyond the cap
}

TEST(Search, LongAnswerSurvives) {
    std::string r = "* SEARCH";
    for (int i = 1; i <= 20000; ++i) r += " " + std::to_string(i);
    r += "\r\n";
    auto uids = parse_search(r);
    ASSERT_TRUE(uids);
    EXPECT_EQ(uids->size(), 20000u);
    EXPECT_EQ(uids->back(), 20000u);
}

TEST(Search, StarAlwaysIncludesHighestUidSoWeFilter) {
    // `UID SEARCH UID 5:*` on a mailbox whose highest UID is 2 answers "2".
    auto uids = parse_search("* ESEARCH (TAG \"A004\") UID ALL 2\r\n");
    ASSERT_TRUE(uids);
    EXPECT_TRUE(uids_after(*uids, 4).empty());
    EXPECT_EQ(uids_after(Uids{3, 5, 6}, 4), (Uids{5, 6}));
}

TEST(UidSet, Format) {
    EXPECT_EQ(format_uid_set({1, 2, 3, 5}), "1:3,5");
    EXPECT_EQ(format_uid_set({9, 3, 4, 3}), "3:4,9");
    EXPECT_EQ(format_uid_set({7}), "7");
    EXPECT_EQ(format_uid_set({}), "");
    auto round = parse_uid_set(format_uid_set({1, 2, 3, 10, 12, 13}));
    EXPECT_EQ(round, (Uids{1, 2, 3, 10, 12, 13}));
}

TEST(ServerUrl, Splits) {
    auto u = parse_server_url("imaps://mail.example.com:993/INBOX");
    ASSERT_TRUE(u);
    EXPECT_EQ(u->base, "imaps://mail.example.com:993");
    EXPECT_EQ(u->mailbox, "INBOX");
    EXPECT_TRUE(u->tls);

    u = parse_server_url("imap://127.0.0.1:1143");
    ASSERT_TRUE(u);
    EXPECT_EQ(u->mailbox, "INBOX");
    EXPECT_FALSE(u->tls);

    u = parse_server_url("IMAP://h/Support%20Mail/");
    ASSERT_TRUE(u);
    EXPECT_EQ(u->mailbox, "Support Mail");
}

TEST(ServerUrl, Rejects) {
    for (const char* bad : {"", "http://h/INBOX", "imap://", "imap:///INBOX", "imap://u:p@h/INBOX",
                            "imap://h/INBOX?UNSEEN", "imap://h/INBOX;UID=3", "imap://h/a%0Db",
                            "imap://h/a%zz", "imap://h/a%4", "imap://h h/INBOX"})
        EXPECT_FALSE(parse_server_url(bad)) << bad;
}

TEST(Builders, UrlsAndCommands) {
    ServerUrl s{"imap://127.0.0.1:1143", "INBOX", false};
    EXPECT_EQ(server_url(s), "imap://127.0.0.1:1143/");
    EXPECT_EQ(mailbox_url(s, "INBOX"), "imap://127.0.0.1:1143/INBOX");
    EXPECT_EQ(mailbox_url(s, "INBOX", 42), "imap://127.0.0.1:1143/INBOX;UIDVALIDITY=42");
    EXPECT_EQ(fetch_url(s, "INBOX", 42, 7), "imap://127.0.0.1:1143/INBOX;UIDVALIDITY=42/;UID=7");
    EXPECT_EQ(mailbox_url(s, "Support Mail;x"), "imap://127.0.0.1:1143/Support%20Mail%3Bx");

    EXPECT_EQ(examine_command("INBOX"), "EXAMINE INBOX");
    EXPECT_EQ(examine_command("Support Mail"), "EXAMINE \"Support Mail\"");
    EXPECT_EQ(create_command("Processed"), "CREATE Processed");
    EXPECT_EQ(search_command(43), "UID SEARCH RETURN (ALL) UID 43:*");
    EXPECT_EQ(search_command(0), "UID SEARCH RETURN (ALL) UID 1:*");
    EXPECT_EQ(search_since_command(2026, 11, 1, true), "UID SEARCH RETURN (ALL) SINCE 1-Nov-2026");
    EXPECT_EQ(search_since_command(2025, 1, 31, false), "UID SEARCH SINCE 31-Jan-2025");
    EXPECT_EQ(store_flags_command({5, 3, 4}, "\\Seen"), "UID STORE 3:5 +FLAGS.SILENT (\\Seen)");
    EXPECT_EQ(move_command({1, 9}, "Processed"), "UID MOVE 1,9 Processed");
    EXPECT_EQ(move_command({1}, "Done \"old\""), "UID MOVE 1 \"Done \\\"old\\\"\"");
    EXPECT_EQ(uid_expunge_command({2, 3}), "UID EXPUNGE 2:3");
}

TEST(Builders, SearchWindowsForServersWithoutEsearch) {
    using V = std::vector<std::string>;
    EXPECT_EQ(search_windows(5, 0), V{"5:*"});
    EXPECT_EQ(search_windows(0, 0), V{"1:*"});
    EXPECT_EQ(search_windows(5, 5), V{});   // UIDNEXT 5: nothing at or above 5 exists yet
    EXPECT_EQ(search_windows(5, 3), V{});
    EXPECT_EQ(search_windows(5, 6), V{"5"});
    EXPECT_EQ(search_windows(1, 25001, 10000), (V{"1:10000", "10001:20000", "20001:25000"}));
    EXPECT_EQ(search_windows(4294967290u, 9999999999ull, 3),
              (V{"4294967290:4294967292", "4294967293:4294967295"}));
}

TEST(Builders, QuoteCannotInjectACommand) {
    // A folder name from config must never end the line and start another command.
    std::string q = imap_quote("x\r\nA1 DELETE INBOX");
    EXPECT_EQ(q.find('\r'), std::string::npos);
    EXPECT_EQ(q.find('\n'), std::string::npos);
    EXPECT_EQ(q.front(), '"');
    EXPECT_EQ(imap_quote(""), "\"\"");
    EXPECT_EQ(imap_quote("a\\b"), "\"a\\\\b\"");
}

TEST(Redact, UrlUserInfoAndSecrets) {
    EXPECT_EQ(redact("imap://support:s3cret@host/INBOX"), "imap://support:***@host/INBOX");
    EXPECT_EQ(redact("imap://support@host/"), "imap://support@host/");
    EXPECT_EQ(redact("no url here"), "no url here");
    EXPECT_EQ(redact("AUTHENTICATE gave tok123 twice tok123", {"tok123", ""}),
              "AUTHENTICATE gave *** twice ***");
    std::string r = redact("login failed: s3cret at imaps://u:s3cret@h", {"s3cret"});
    EXPECT_EQ(r.find("s3cret"), std::string::npos) << r;
}

TEST(LogSafe, ControlCharsAndLength) {
    EXPECT_EQ(log_safe("a\r\nb\x1b"), "a??b?");
    EXPECT_EQ(log_safe(std::string(10, 'x'), 4), "xxxx...");
}

}  // namespace
}  // namespace ticketd::mail
