#include "mail/smtp.h"

#include <algorithm>
#include <cstring>

#include "mail/imap.h"

namespace ticketd::mail {

const char* to_string(SmtpOutcome o) {
    switch (o) {
        case SmtpOutcome::sent: return "sent";
        case SmtpOutcome::temporary: return "temporary";
        case SmtpOutcome::permanent: return "permanent";
    }
    return "temporary";
}

SmtpOutcome classify_smtp(CURLcode code, long reply) {
    if (code == CURLE_OK) return SmtpOutcome::sent;
    if (code == CURLE_LOGIN_DENIED || code == CURLE_AUTH_ERROR) return SmtpOutcome::temporary;
    if (reply == 530 || reply == 534 || reply == 535 || reply == 538) return SmtpOutcome::temporary;
    if (reply >= 500 && reply < 600) return SmtpOutcome::permanent;
    return SmtpOutcome::temporary;  // 4xx, no reply at all (network), TLS, timeouts
}

std::string smtp_url_with_ehlo(const std::string& url, const std::string& ehlo_name) {
    auto scheme = url.find("://");
    if (scheme == std::string::npos || ehlo_name.empty()) return url;
    auto slash = url.find('/', scheme + 3);
    if (slash != std::string::npos && slash + 1 < url.size()) return url;  // has a name already
    return (slash == std::string::npos ? url : url.substr(0, slash)) + "/" + ehlo_name;
}

size_t SmtpRequest::on_read(char* buf, size_t size, size_t n, void* user) {
    auto* st = static_cast<State*>(user);
    std::size_t len = std::min(size * n, st->raw.size() - st->pos);
    std::memcpy(buf, st->raw.data() + st->pos, len);
    st->pos += len;
    return len;
}

SmtpRequest::SmtpRequest(const SmtpOptions& o, const std::string& mail_from,
                         const std::vector<std::string>& recipients, std::string raw)
    : state_(std::make_unique<State>()) {
    static const bool init = [] {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        return true;
    }();
    (void)init;
    State& st = *state_;
    st.easy.reset(curl_easy_init());
    if (!st.easy) throw std::bad_alloc();
    st.url = o.url;
    st.username = o.username;
    st.password = o.password;
    st.token = o.oauth2_token;
    st.ca_file = o.ca_file;
    st.secrets = {o.password, o.oauth2_token};
    CURL* c = st.easy.get();
    set_mail(mail_from, recipients, std::move(raw));
    curl_easy_setopt(c, CURLOPT_URL, st.url.c_str());
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, st.errbuf);
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, &SmtpRequest::on_read);
    curl_easy_setopt(c, CURLOPT_READDATA, &st);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, static_cast<long>(o.connect_timeout.count()));
    curl_easy_setopt(c, CURLOPT_TIMEOUT, static_cast<long>(o.transfer_timeout.count()));
    curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, o.tls_verify ? 1L : 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, o.tls_verify ? 2L : 0L);
    if (!st.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, st.ca_file.c_str());
    // smtps:// is TLS from the first byte; smtp:// must upgrade, so a server (or a man in the
    // middle) that hides STARTTLS cannot make us send mail and credentials in clear text.
    curl_easy_setopt(c, CURLOPT_USE_SSL, o.require_starttls ? static_cast<long>(CURLUSESSL_ALL)
                                                            : static_cast<long>(CURLUSESSL_NONE));
    if (!st.username.empty()) {
        curl_easy_setopt(c, CURLOPT_USERNAME, st.username.c_str());
        if (!st.token.empty()) {
            curl_easy_setopt(c, CURLOPT_XOAUTH2_BEARER, st.token.c_str());
            curl_easy_setopt(c, CURLOPT_LOGIN_OPTIONS, "AUTH=XOAUTH2");
        } else {
            curl_easy_setopt(c, CURLOPT_PASSWORD, st.password.c_str());
        }
    }
    curl_easy_setopt(c, CURLOPT_VERBOSE, o.verbose ? 1L : 0L);
}

void SmtpRequest::set_mail(const std::string& mail_from, const std::vector<std::string>& recipients,
                           std::string raw) {
    State& st = *state_;
    st.from = "<" + mail_from + ">";
    st.raw = std::move(raw);
    st.pos = 0;
    st.errbuf[0] = '\0';
    std::unique_ptr<curl_slist, void (*)(curl_slist*)> rcpt{nullptr, curl_slist_free_all};
    for (const auto& r : recipients) {
        curl_slist* next = curl_slist_append(rcpt.get(), ("<" + r + ">").c_str());
        if (!next) throw std::bad_alloc();
        rcpt.release();
        rcpt.reset(next);
    }
    CURL* c = st.easy.get();
    // The new list is set before the old one is freed: libcurl never holds a dangling pointer.
    curl_easy_setopt(c, CURLOPT_MAIL_FROM, st.from.c_str());
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt.get());
    curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(st.raw.size()));
    st.rcpt = std::move(rcpt);
}

void SmtpRequest::next_mail(const std::string& mail_from, const std::vector<std::string>& recipients,
                            std::string raw) {
    set_mail(mail_from, recipients, std::move(raw));
}

SmtpResult SmtpRequest::perform() {
    state_->pos = 0;
    state_->errbuf[0] = '\0';
    return result(curl_easy_perform(handle()));
}

SmtpResult SmtpRequest::result(CURLcode code) const {
    SmtpResult r;
    r.code = code;
    curl_easy_getinfo(handle(), CURLINFO_RESPONSE_CODE, &r.reply);
    curl_easy_getinfo(handle(), CURLINFO_NUM_CONNECTS, &r.new_connections);
    r.outcome = classify_smtp(code, r.reply);
    if (code == CURLE_OK) return r;
    std::string detail = state_->errbuf[0] ? state_->errbuf : curl_easy_strerror(code);
    if (r.reply) detail += " (server replied " + std::to_string(r.reply) + ")";
    r.error = log_safe(redact(detail, state_->secrets), 300);
    return r;
}

}  // namespace ticketd::mail
