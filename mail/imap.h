#pragma once
// IMAP as libcurl speaks it, minus the I/O: parsing the untagged responses that come back through
// the write callback, building the URLs and commands libcurl sends, and redacting secrets out of
// anything that may be logged. Everything here is pure and unit-tested without a server.
//
// Server text is untrusted: parsers never throw, cap what they accept, and say "not understood"
// as a value (std::nullopt / ok=false) so a garbled reply becomes a retryable cycle error.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ticketd::mail {

/// What EXAMINE/SELECT reported about a mailbox.
struct MailboxStatus {
    std::uint64_t uidvalidity = 0;
    std::uint64_t uidnext = 0;  ///< 0 when the server did not say
    std::uint64_t exists = 0;
};

/// ASCII case-insensitive equality: IMAP keywords and atoms (`OK`, `FETCH`, `UID`) are
/// case-insensitive (RFC 3501 9), and a server may answer in either case.
bool ascii_iequals(std::string_view a, std::string_view b);

/// Parse the untagged lines of EXAMINE/SELECT. nullopt when no valid UIDVALIDITY is in them:
/// without it nothing UID-based is safe to do.
std::optional<MailboxStatus> parse_mailbox_status(std::string_view response);

/// Upper bound on UIDs a search answer may expand to. A hostile "1:4294967295" must not allocate
/// gigabytes; a real mailbox of ten million messages still fits.
inline constexpr std::size_t kMaxSearchUids = 10'000'000;

/// Parse a UID set in compact form ("3:5,9", "7:2" means 2..7). Sorted, unique. nullopt when
/// malformed, when a UID is 0 or above 2^32-1, or when it expands beyond `limit`.
std::optional<std::vector<std::uint64_t>> parse_uid_set(std::string_view set,
                                                        std::size_t limit = kMaxSearchUids);

/// Parse the answer to `UID SEARCH ...` (`* SEARCH 1 2 3`) or to
/// `UID SEARCH RETURN (ALL) ...` (`* ESEARCH (TAG "A4") UID ALL 3:5,9`, no ALL when empty).
/// UIDs sorted and unique; nullopt when the answer has neither form or is malformed.
std::optional<std::vector<std::uint64_t>> parse_search(std::string_view response,
                                                       std::size_t limit = kMaxSearchUids);

/// UIDs strictly above `last`. `UID SEARCH UID N:*` always contains the highest UID in the
/// mailbox, even when that is below N (RFC 3501 6.4.8: "*" is the largest UID in use), so the
/// answer must be filtered before it means "new".
std::vector<std::uint64_t> uids_after(const std::vector<std::uint64_t>& uids, std::uint64_t last);

/// Compact form of a UID list for commands: {1,2,3,5} -> "1:3,5". Input need not be sorted.
std::string format_uid_set(std::vector<std::uint64_t> uids);

/// An account URL split into what libcurl needs: "imaps://host:993/INBOX" ->
/// {"imaps://host:993", "INBOX"}. The mailbox is kept URL-decoded; it defaults to INBOX.
struct ServerUrl {
    std::string base;     ///< scheme://host[:port], no user info, no trailing slash
    std::string mailbox;  ///< decoded, e.g. "Support Mail"
    bool tls = false;     ///< imaps://
};
/// nullopt for schemes other than imap/imaps, missing host, user info in the URL (credentials
/// belong in password_file), or query/fragment parts.
std::optional<ServerUrl> parse_server_url(std::string_view url);

/// Percent-encode one path segment (mailbox name) for an IMAP URL.
std::string url_encode_mailbox(std::string_view mailbox);
/// An IMAP astring for commands: atom when safe, else a quoted string with \ and " escaped.
/// CR, LF and NUL cannot be sent in a quoted string and are dropped.
std::string imap_quote(std::string_view s);

/// URL for commands on the server without a selected mailbox (EXAMINE, CREATE, LIST).
std::string server_url(const ServerUrl& s);
/// URL for commands in a mailbox; libcurl SELECTs it first and, with `uidvalidity` != 0,
/// fails with CURLE_REMOTE_FILE_NOT_FOUND when the mailbox's UIDVALIDITY differs.
std::string mailbox_url(const ServerUrl& s, std::string_view mailbox, std::uint64_t uidvalidity = 0);
/// URL that makes libcurl send `UID FETCH uid BODY[]` and deliver the literal as the body.
/// Missing UID and changed UIDVALIDITY both end in CURLE_REMOTE_FILE_NOT_FOUND.
std::string fetch_url(const ServerUrl& s, std::string_view mailbox, std::uint64_t uidvalidity,
                      std::uint64_t uid);

std::string examine_command(std::string_view mailbox);
std::string create_command(std::string_view mailbox);
/// `UID SEARCH RETURN (ALL) UID first:*` (ESEARCH, RFC 4731: compact answer).
std::string search_command(std::uint64_t first_uid);
/// `UID SEARCH RETURN (ALL) SINCE 1-Nov-2026` (ESEARCH) or plain `UID SEARCH SINCE 1-Nov-2026`:
/// messages whose internal (arrival) date is on or after that day (RFC 3501 6.4.4).
std::string search_since_command(int year, int month, int day, bool esearch);
/// UID ranges for plain `UID SEARCH UID <range>` from `first` on, `window` UIDs each, up to
/// `uidnext` - 1 (EXAMINE's UIDNEXT). Unknown UIDNEXT (0): one open range "first:*".
/// Nothing when uidnext <= first (no new UID can exist).
std::vector<std::string> search_windows(std::uint64_t first, std::uint64_t uidnext,
                                        std::uint64_t window = 10000);
std::string store_flags_command(const std::vector<std::uint64_t>& uids, std::string_view flags);
std::string move_command(const std::vector<std::uint64_t>& uids, std::string_view folder);
/// UIDPLUS: expunges only these UIDs, never other \Deleted messages someone else flagged.
std::string uid_expunge_command(const std::vector<std::uint64_t>& uids);

/// Mask user info passwords in URLs ("imap://u:pw@h" -> "imap://u:***@h") and every occurrence
/// of each non-empty secret. For anything that goes to a log.
std::string redact(std::string_view text, const std::vector<std::string>& secrets = {});

/// Make server text safe for a one-line key=value log: control characters become '?', the
/// result is cut at `max` bytes.
std::string log_safe(std::string_view text, std::size_t max = 200);

}  // namespace ticketd::mail
