#pragma once
// One IMAP operation as a configured libcurl easy handle. The handle carries every safety option
// (timeouts, TLS policy, a 512 KB receive buffer, a body cap) so no caller can forget one. It is
// performed either blocking (`perform()`, for tools and tests) or by a multi handle that someone
// else drives (daemon/curl_multi: this folder knows nothing about event loops).

#include <curl/curl.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mail/imap_fetch_stream.h"

namespace ticketd::mail {

/// How to talk to one server. Secrets are resolved values here (see load_secret_file,
/// run_token_command); they are given to libcurl and never put in a log line.
struct ImapOptions {
    std::string username;
    std::string password;      ///< LOGIN / AUTHENTICATE PLAIN
    std::string oauth2_token;  ///< when set, XOAUTH2 (CURLOPT_XOAUTH2_BEARER) instead of password
    bool tls_verify = true;    ///< peer certificate and host name
    std::string ca_file;       ///< CURLOPT_CAINFO when set
    /// imap:// must be upgraded with STARTTLS (CURLUSESSL_ALL). Off only for a trusted loopback.
    bool require_starttls = true;
    std::chrono::seconds connect_timeout{15};
    /// Whole-transfer cap; a stalled transfer (under 1 byte/s) is cut sooner, after
    /// min(transfer_timeout, 60 s).
    std::chrono::seconds transfer_timeout{120};
    /// A body beyond this aborts the transfer (a hostile server cannot exhaust memory).
    std::size_t max_bytes = 256u << 20;
    /// libcurl's protocol trace on stderr. It shows what we send, and AUTHENTICATE PLAIN is only
    /// base64: never in production.
    bool verbose = false;
};

/// How an operation ended, as a value. Expected failures are not exceptions.
enum class ImapStatus {
    ok,
    not_found,     ///< no such message, or the mailbox's UIDVALIDITY changed (CURLE_REMOTE_FILE_NOT_FOUND)
    auth_failed,   ///< login denied (wrong password / token)
    rejected,      ///< the server answered NO or BAD to our command
    tls,           ///< handshake, certificate verification, STARTTLS refused
    timeout,
    connection,    ///< connect refused, reset, greeting missing, unexpected reply
    too_large,     ///< the body exceeded max_bytes
    other,
};
const char* to_string(ImapStatus s);
ImapStatus classify(CURLcode code);

struct ImapResult {
    ImapStatus status = ImapStatus::other;
    CURLcode code = CURLE_OK;
    std::string error;  ///< human readable, redacted; empty when ok
    bool ok() const { return status == ImapStatus::ok; }
};

/// A password file's content, trimmed of surrounding whitespace (editors add a newline).
/// nullopt with `error` set when it cannot be read or is empty.
std::optional<std::string> load_secret_file(const std::string& path, std::string& error);
/// Run `command` with /bin/sh and return its first output line, trimmed (an OAuth2 access token).
/// nullopt with `error` when it fails, exits non-zero, prints nothing or outlives `timeout`
/// (then its process group is killed). Blocks the caller while it runs: keep it short.
std::optional<std::string> run_token_command(
    const std::string& command, std::string& error,
    std::chrono::milliseconds timeout = std::chrono::seconds(10));

struct CurlEasyDeleter {
    void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
using CurlEasyPtr = std::unique_ptr<CURL, CurlEasyDeleter>;

class ImapRequest {
public:
    /// `UID FETCH uid BODY[]` through a fetch_url(); the body is the raw message.
    static ImapRequest fetch(const std::string& url, const ImapOptions& options);
    /// `UID FETCH <uids> (UID RFC822.SIZE BODY.PEEK[])` on the mailbox in `url` (a mailbox_url),
    /// many messages in one round trip. libcurl reads a custom command's answer line by line and
    /// hands only lines starting with "* " to the body, so the answer is taken from the header
    /// callback instead (every line, byte for byte) and parsed as it arrives by stream(), which
    /// counts literals in bytes. What libcurl could misread inside a message makes us abort the
    /// transfer first (an aborted transfer's connection is closed, never reused): a line that
    /// starts like a command tag ("A005 OK", which libcurl would take for the end), or a line
    /// libcurl cut because it was longer than half its buffer. `max_literal` caps each message.
    static ImapRequest fetch_range(const std::string& url, const std::vector<std::uint64_t>& uids,
                                   std::size_t max_literal, const ImapOptions& options);
    /// A custom command (EXAMINE, UID SEARCH, UID STORE, ...); the body is the untagged lines.
    /// With a mailbox in `url`, libcurl SELECTs it first.
    static ImapRequest command(const std::string& url, const std::string& command,
                               const ImapOptions& options);

    ImapRequest(ImapRequest&&) noexcept = default;
    ImapRequest& operator=(ImapRequest&&) noexcept = default;
    ~ImapRequest() = default;

    CURL* handle() const { return state_->easy.get(); }
    /// Close the connection after this request instead of returning it to the pool. Needed after
    /// EXAMINE: libcurl would otherwise believe the mailbox is still SELECTed read-write.
    void forbid_reuse();

    /// Blocking perform (not for the daemon loop).
    ImapResult perform();
    /// Turn the CURLcode a multi handle reported into a result (reads the error buffer).
    ImapResult result(CURLcode code) const;

    const std::string& body() const { return state_->body; }
    std::string take_body() { return std::move(state_->body); }
    const std::string& description() const { return state_->description; }  ///< for logs, no secrets

    /// fetch_range's parsed answer: the complete responses so far (null for other requests).
    FetchStreamParser* stream() const { return state_->stream.get(); }
    /// Why we stopped a fetch_range transfer ourselves; empty when we did not.
    const std::string& aborted() const { return state_->aborted; }

private:
    struct State {
        CurlEasyPtr easy;
        std::string body;
        std::size_t max_bytes = 0;
        bool overflow = false;
        char errbuf[CURL_ERROR_SIZE] = {};
        std::string url, custom, username, password, token, ca_file;  // curl copies strings, kept for clarity
        std::string description;
        std::vector<std::string> secrets;
        std::string server_line;  ///< last tagged server response ("A005 NO [CANNOT] ...")
        bool verbose = false;
        // fetch_range only: the parser, fed once our UID FETCH has been sent (before it the header
        // callback sees the greeting, LOGIN and SELECT answers).
        std::unique_ptr<FetchStreamParser> stream;
        std::size_t max_literal = 0;
        bool streaming = false;
        bool clipped = false;  ///< libcurl dropped part of an over-long line
        std::string aborted;
    };
    explicit ImapRequest(std::unique_ptr<State> s) : state_(std::move(s)) {}
    static ImapRequest make(const std::string& url, const std::string& command,
                            const ImapOptions& options);
    static size_t on_write(char* data, size_t size, size_t n, void* user);
    static size_t on_header(char* data, size_t size, size_t n, void* user);
    static int on_debug(CURL*, curl_infotype type, char* data, size_t size, void* user);

    std::unique_ptr<State> state_;  // heap: libcurl holds pointers into it across moves
};

}  // namespace ticketd::mail
