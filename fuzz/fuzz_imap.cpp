// IMAP response handling: what a hostile server sends back through libcurl's write callback
// (EXAMINE/SELECT untagged lines, SEARCH and ESEARCH answers, UID sets), plus the quoting,
// URL and redaction helpers that see server or config text. Checks the UID set round trip.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "mail/imap.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace ticketd::mail;
    const std::string_view s(reinterpret_cast<const char*>(data), size);
    (void)parse_mailbox_status(s);
    // A small expansion limit: the fuzzer finds "1:4294967295" in seconds; the cap must hold.
    if (auto uids = parse_search(s, 100000)) {
        if (uids->size() > 100000) std::abort();
        (void)uids_after(*uids, 5);
    }
    if (auto set = parse_uid_set(s, 100000)) {
        auto again = parse_uid_set(format_uid_set(*set), 100000);
        if (!again || *again != *set) std::abort();  // compact form must mean the same UIDs
    }
    if (auto url = parse_server_url(s)) {
        (void)mailbox_url(*url, url->mailbox, 7);
        (void)fetch_url(*url, url->mailbox, 7, 42);
    }
    const std::string q = imap_quote(s);
    if (q.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) std::abort();
    (void)url_encode_mailbox(s);
    (void)examine_command(s);
    (void)redact(s, {"hunter2", std::string(s.substr(0, 3))});
    const std::string safe = log_safe(s);
    for (char c : safe)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) std::abort();
    return 0;
}
