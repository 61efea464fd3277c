#pragma once
// The desk the pipeline's hook tests file mail into: "ACME Support" in an in-memory database with
// an injectable clock, SMTP configured (nothing is sent: hooks only write the outbox) and the
// shipped templates loaded as `ticketd` would load them.

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "config/templates.h"
#include "store/database.h"
#include "store/tickets.h"
#include "tests/support/paths.h"

namespace ticketd::tickets::testing {

class AcmeDesk : public ::testing::Test {
protected:
    store::Database db{":memory:"};
    std::int64_t now = 1'800'000'000;
    std::shared_ptr<config::Config> cfg = std::make_shared<config::Config>();

    explicit AcmeDesk(std::vector<std::string> addresses = {"support@acme.example"}) {
        cfg->desk.name = "ACME Support";
        cfg->desk.addresses = std::move(addresses);
        cfg->desk.subject_tag = "ACME";
        cfg->desk.hostname = "tickets.acme.example";
        cfg->smtp.emplace();
        cfg->smtp->url = "smtp://127.0.0.1:25";
        cfg->smtp->from = "support@acme.example";
        cfg->smtp->reply_to = "support@acme.example";
        std::vector<config::ConfigError> errors;
        cfg->templates =
            config::load_templates((ticketd::testing::source_dir() / "config/templates").string(), errors);
        EXPECT_TRUE(errors.empty());
        db.set_clock([this] { return now; });
    }

    /// The ticket's events of one kind, oldest first.
    std::vector<store::Event> events_of(std::int64_t ticket, const std::string& kind) {
        std::vector<store::Event> out;
        for (auto& e : store::Events(db).for_ticket(ticket))
            if (e.kind == kind) out.push_back(e);
        return out;
    }
};

}  // namespace ticketd::tickets::testing
