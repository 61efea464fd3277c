#pragma once
// One SMTP submission as a configured libcurl easy handle: envelope, the message bytes, and
// every safety option (TLS policy, certificate checks, timeouts). Performed blocking
// (`perform()`, tests and tools) or by a multi handle someone else drives (daemon/curl_multi);
// transfers in one multi handle share its connection cache, so consecutive mails reuse one
// SMTP session (MAIL FROM ... on the open connection) instead of reconnecting.

#include <curl/curl.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "mail/request.h"

namespace ticketd::mail {

struct SmtpOptions {
    std::string url;           ///< smtps://host:465/EHLO-NAME or smtp://host:587/EHLO-NAME
    std::string username;      ///< empty: no AUTH
    std::string password;
    std::string oauth2_token;  ///< when set, XOAUTH2 instead of the password
    bool tls_verify = true;
    std::string ca_file;
    bool require_starttls = true;  ///< smtp:// must upgrade with STARTTLS (CURLUSESSL_ALL)
    std::chrono::seconds connect_timeout{15};
    std::chrono::seconds transfer_timeout{60};
    bool verbose = false;  ///< libcurl's trace on stderr (shows AUTH: never in production)
};

/// What the server's answer means for the outbox row.
enum class SmtpOutcome {
    sent,       ///< 250 after DATA
    temporary,  ///< 4xx, network, TLS or authentication trouble: try again later
    permanent,  ///< 5xx for this mail: retrying cannot help
};
const char* to_string(SmtpOutcome o);

struct SmtpResult {
    SmtpOutcome outcome = SmtpOutcome::temporary;
    CURLcode code = CURLE_OK;
    long reply = 0;     ///< the last SMTP reply code (0 when none came)
    long new_connections = 0;  ///< connections opened for this mail (0: an open one was reused)
    std::string error;  ///< human readable, secrets redacted; empty when sent
};

/// Pure: the outcome of a finished transfer. Authentication replies (530, 534, 535, 538) are
/// temporary: they are the desk's configuration, not this mail's fault, and must not fail
/// every queued mail while an admin fixes a password.
SmtpOutcome classify_smtp(CURLcode code, long reply);

/// `url` with `/ehlo_name` appended when it has no path (libcurl sends the path as EHLO name).
std::string smtp_url_with_ehlo(const std::string& url, const std::string& ehlo_name);

class SmtpRequest {
public:
    SmtpRequest(const SmtpOptions& options, const std::string& mail_from,
                const std::vector<std::string>& recipients, std::string raw);
    SmtpRequest(SmtpRequest&&) noexcept = default;
    SmtpRequest& operator=(SmtpRequest&&) noexcept = default;

    /// The next mail on the same easy handle: only the envelope and the bytes change, so a
    /// queue is sent without setting up a handle (and checking its connection) per mail.
    /// Not while a transfer is running.
    void next_mail(const std::string& mail_from, const std::vector<std::string>& recipients, std::string raw);

    CURL* handle() const { return state_->easy.get(); }
    SmtpResult perform();
    SmtpResult result(CURLcode code) const;

private:
    struct State {
        CurlEasyPtr easy;
        std::unique_ptr<curl_slist, void (*)(curl_slist*)> rcpt{nullptr, curl_slist_free_all};
        std::string url, from, username, password, token, ca_file, raw;
        std::size_t pos = 0;
        char errbuf[CURL_ERROR_SIZE] = {};
        std::vector<std::string> secrets;
    };
    static size_t on_read(char* buf, size_t size, size_t n, void* user);
    void set_mail(const std::string& mail_from, const std::vector<std::string>& recipients, std::string raw);
    std::unique_ptr<State> state_;  // heap: libcurl holds pointers into it across moves
};

}  // namespace ticketd::mail
