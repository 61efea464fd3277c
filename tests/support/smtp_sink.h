#pragma once
// An SMTP sink for integration tests: aiosmtpd's Mailbox handler on a free 127.0.0.1 port,
// storing every message in a Maildir (with X-MailFrom / X-RcptTo headers carrying the envelope).
// Stopped by PID in the destructor.

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

#include "tests/support/paths.h"

namespace ticketd::testing {

class SmtpSink {
public:
    /// /usr/bin/python3 with the aiosmtpd module (python3-aiosmtpd).
    static bool available();
    static std::string why_unavailable();

    /// Starts and waits for the 220 greeting; throws std::runtime_error on failure. With
    /// `hold_data_answers`, the answer to each mail's data waits until release() (a relay whose
    /// content filter takes its time; tests/support/gated_mailbox.py).
    explicit SmtpSink(bool hold_data_answers = false);
    ~SmtpSink();
    SmtpSink(const SmtpSink&) = delete;
    SmtpSink& operator=(const SmtpSink&) = delete;

    int port() const { return port_; }
    /// "smtp://127.0.0.1:PORT/client.example" (the path is the EHLO name for libcurl).
    std::string url(const std::string& ehlo = "client.example") const;
    /// Raw messages received so far, oldest first.
    std::vector<std::string> messages() const;
    /// The sink's Maildir (new/, cur/), for a reader that scans incrementally (thousands of mails).
    std::filesystem::path maildir() const { return dir_ / "sink"; }
    std::string log() const;
    /// With hold_data_answers: how many mails' data the sink has received and not yet answered
    /// or answered since release().
    std::size_t held() const;
    /// With hold_data_answers: answer every mail held, and every later one at once.
    void release();

private:
    TempDir dir_;
    int port_ = 0;
    pid_t pid_ = -1;
};

}  // namespace ticketd::testing
