// The SMTP sink the outbox tests rely on: what libcurl sends arrives, envelope included.

#include "tests/support/smtp_sink.h"

#include <curl/curl.h>
#include <gtest/gtest.h>

#include <cstring>

namespace ticketd::testing {
namespace {

struct Upload {
    std::string data;
    std::size_t pos = 0;
};

size_t read_cb(char* buf, size_t size, size_t n, void* user) {
    auto* u = static_cast<Upload*>(user);
    std::size_t len = std::min(size * n, u->data.size() - u->pos);
    std::memcpy(buf, u->data.data() + u->pos, len);
    u->pos += len;
    return len;
}

TEST(SmtpSink, ReceivesWhatLibcurlSends) {
    if (!SmtpSink::available()) GTEST_SKIP() << SmtpSink::why_unavailable();
    SmtpSink sink;
    Upload up{"From: support@example.com\r\nTo: alice@example.com\r\nSubject: hi\r\n\r\n"
              ".leading dot is stuffed by libcurl\r\nbye\r\n"};
    CURL* c = curl_easy_init();
    curl_slist* rcpt = curl_slist_append(nullptr, "<alice@example.com>");
    curl_easy_setopt(c, CURLOPT_URL, sink.url().c_str());
    curl_easy_setopt(c, CURLOPT_MAIL_FROM, "<support@example.com>");
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, &read_cb);
    curl_easy_setopt(c, CURLOPT_READDATA, &up);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
    CURLcode rc = curl_easy_perform(c);
    curl_slist_free_all(rcpt);
    curl_easy_cleanup(c);
    ASSERT_EQ(rc, CURLE_OK) << curl_easy_strerror(rc) << "\n" << sink.log();
    auto msgs = sink.messages();
    ASSERT_EQ(msgs.size(), 1u);
    EXPECT_NE(msgs[0].find("X-RcptTo: alice@example.com"), std::string::npos) << msgs[0];
    EXPECT_NE(msgs[0].find("X-MailFrom: support@example.com"), std::string::npos) << msgs[0];
    EXPECT_NE(msgs[0].find(".leading dot"), std::string::npos) << msgs[0];
}

}  // namespace
}  // namespace ticketd::testing
