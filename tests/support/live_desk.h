#pragma once
// A live desk for end-to-end tests: a real dovecot and SMTP sink on 127.0.0.1, the desk written
// by write_desk(), and the ticketd binary run against it the way cron or an admin would. Shared
// by the tests that follow a conversation through the sink (agents by mail, CSAT), so each
// test says what happens, not how to start servers and read what they received.
//
// Header-only: it needs the parser to read what the sink got, which the test support library
// (linked by unit tests too) does not depend on.

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "parsers/parse.h"
#include "tests/support/desk.h"
#include "tests/support/dovecot.h"
#include "tests/support/paths.h"
#include "tests/support/process.h"
#include "tests/support/smtp_sink.h"

namespace ticketd::testing {

class LiveDesk : public ::testing::Test {
protected:
    /// Starts dovecot and the sink and writes the desk; skips the test when either is missing.
    /// Call from SetUp, then `if (IsSkipped()) return;`.
    void start(const DeskOptions& options) {
        if (!DovecotServer::available()) GTEST_SKIP() << DovecotServer::why_unavailable();
        if (!SmtpSink::available()) GTEST_SKIP() << SmtpSink::why_unavailable();
        imap_ = std::make_unique<DovecotServer>();
        sink_ = std::make_unique<SmtpSink>();
        write_desk(dir_.path(), imap_.get(), *sink_, options);
    }

    /// `ticketd ARGS --config <the desk>`, with `env` added to its environment.
    RunResult ticketd(std::vector<std::string> args, const std::string& input = "",
                      const std::vector<std::string>& env = {}) {
        args.insert(args.begin(), ticketd_binary().string());
        args.push_back("--config");
        args.push_back((dir_ / "ticketd.yaml").string());
        return run_program(args, input, env);
    }

    /// One full cycle (poll, process, send), which must succeed.
    void run_once() {
        auto r = ticketd({"run", "--once"});
        ASSERT_EQ(r.exit_code, 0) << r.err;
    }

    static parsers::Message parse(const std::string& raw) {
        auto r = parsers::parse(raw);
        EXPECT_TRUE(std::holds_alternative<parsers::Message>(r));
        if (!std::holds_alternative<parsers::Message>(r)) return {};
        return std::get<parsers::Message>(r);
    }

    static std::string header(const parsers::Message& m, const std::string& name) {
        auto* h = m.header(name);
        return h ? h->value : "";
    }

    /// What the sink received for one envelope recipient since its `from`th message.
    std::vector<parsers::Message> sent_to(const std::string& rcpt, std::size_t from = 0) const {
        return sent_to(rcpt, "", from);
    }

    /// The same, only those whose subject contains `subject_part` (which kind of mail it is).
    std::vector<parsers::Message> sent_to(const std::string& rcpt, const std::string& subject_part,
                                          std::size_t from = 0) const {
        std::vector<parsers::Message> out;
        const auto all = sink_->messages();
        for (std::size_t i = from; i < all.size(); ++i) {
            auto m = parse(all[i]);
            if (header(m, "X-RcptTo").find(rcpt) != std::string::npos &&
                m.subject.find(subject_part) != std::string::npos)
                out.push_back(std::move(m));
        }
        return out;
    }

    TempDir dir_;
    std::unique_ptr<DovecotServer> imap_;
    std::unique_ptr<SmtpSink> sink_;
};

}  // namespace ticketd::testing
