// The admins' rules during ingestion: applied in the message's transaction, with a trail; spam
// kept in the inbox with no ticket and releasable; replies see the ticket as it stood.
#include <gtest/gtest.h>

#include "config/rules_loader.h"
#include "store/database.h"
#include "store/inbox.h"
#include "store/tickets.h"
#include "tests/support/paths.h"
#include "tickets/json.h"
#include "tickets/pipeline.h"
#include "tickets/query.h"

namespace ticketd::tickets {
namespace {

using ticketd::testing::TempDir;

const char* kRules = R"(rules:
  - name: VIP customers
    when: { from: { domain: bigcorp.example } }
    then: { priority: high, tags: [vip, unsorted], queue: key-accounts, assign: bob@acme.example }
  - name: Sorted
    when: { subject: { contains: invoice } }
    then: { remove_tags: [unsorted], tags: [billing], queue: billing }
  - name: Newsletters
    on: new
    when: { header: { name: List-Unsubscribe, exists: true } }
    then: { spam: true, stop: true }
  - name: Closed ticket answered
    on: reply
    when: { status: resolved }
    then: { tags: [came-back], priority: urgent }
)";

class PipelineRulesTest : public ::testing::Test {
protected:
    PipelineRulesTest() {
        auto c = std::make_shared<config::Config>();
        c->desk.addresses = {"support@acme.example"};
        c->desk.subject_tag = "ACME";
        c->desk.hostname = "acme.example";
        std::vector<config::ConfigError> errors;
        config::load_rule_text(kRules, "rules.yaml", c->rules, errors);
        EXPECT_TRUE(errors.empty());
        cfg = c;
        db.set_clock([this] { return now; });
    }

    ProcessOutcome ingest(const std::string& raw) { return ingest_raw(db, cfg, "pipe", raw); }

    std::vector<store::Event> events(std::int64_t ticket, const std::string& kind) {
        std::vector<store::Event> out;
        for (const auto& e : store::Events(db).for_ticket(ticket))
            if (e.kind == kind) out.push_back(e);
        return out;
    }

    TempDir dir;
    store::Database db{(dir / "t.db").string()};
    std::shared_ptr<const config::Config> cfg;
    std::int64_t now = 1'795'000'000;
};

TEST_F(PipelineRulesTest, RulesChangeTheNewTicketAndLeaveATrail) {
    auto out = ingest("From: Ann <ann@bigcorp.example>\nTo: support@acme.example\nSubject: Invoice 42\n"
                      "Message-ID: <a1@bigcorp.example>\n\nPlease pay\n");
    ASSERT_EQ(out.outcome, Outcome::created) << out.detail;
    auto t = *store::Tickets(db).by_number(*out.ticket_number);
    EXPECT_EQ(t.priority, store::Priority::high);
    EXPECT_EQ(t.queue, "billing");  // the later rule overrides
    EXPECT_EQ(t.assignee, "bob@acme.example");
    EXPECT_EQ(t.tags, (std::vector<std::string>{"billing", "vip"}));  // unsorted removed again
    auto trail = events(t.id, "rule.fired");
    ASSERT_EQ(trail.size(), 2u);
    EXPECT_EQ(trail[0].detail,
              "'VIP customers' (rules.yaml:2:5): priority=high queue=key-accounts assign=bob@acme.example "
              "tags+vip tags+unsorted");
    EXPECT_EQ(trail[1].detail, "'Sorted' (rules.yaml:5:5): queue=billing tags+billing tags-unsorted");
    ASSERT_TRUE(trail[0].message);  // tied to the message that caused it

    // `tickets show` prints the trail.
    auto view = show_ticket(db, t.number);
    ASSERT_TRUE(view);
    const std::string shown = render_show(*view, cfg->desk);
    EXPECT_NE(shown.find("rule.fired"), std::string::npos) << shown;
    EXPECT_NE(shown.find("'Sorted' (rules.yaml:5:5)"), std::string::npos) << shown;
}

TEST_F(PipelineRulesTest, HooksSeeTheOutcome) {
    Pipeline pipeline(db, cfg);
    std::vector<std::string> seen;
    pipeline.add_hook([&](store::Database&, const Ingested& ing) {
        ASSERT_TRUE(ing.rules);
        for (const auto& f : ing.rules->fired) seen.push_back(f.rule);
        EXPECT_EQ(ing.ticket.priority, store::Priority::high);  // already applied
    });
    const auto id = store::Inbox(db).add_raw("pipe", "From: ann@bigcorp.example\nSubject: hi\n\nx\n");
    auto out = pipeline.process(id);
    EXPECT_EQ(out.outcome, Outcome::created);
    EXPECT_EQ(seen, std::vector<std::string>{"VIP customers"});
}

TEST_F(PipelineRulesTest, SpamIsKeptWithoutATicketAndCanBeReleased) {
    const std::string raw =
        "From: news@shop.example\nTo: support@acme.example\nSubject: Deals\nList-Unsubscribe: <mailto:u@shop.example>\n"
        "Message-ID: <n1@shop.example>\n\nBuy now\n";
    auto out = ingest(raw);
    ASSERT_EQ(out.outcome, Outcome::spam) << out.detail;
    EXPECT_FALSE(out.ticket_number);
    EXPECT_EQ(store::Tickets(db).count(), 0);  // the ticket the savepoint had made is gone
    auto entry = store::Inbox(db).get(out.inbox_id);
    ASSERT_TRUE(entry);
    EXPECT_EQ(entry->state, store::InboxState::done);
    EXPECT_EQ(entry->outcome, "spam");
    EXPECT_FALSE(entry->ticket);
    EXPECT_EQ(store::Inbox(db).raw(out.inbox_id), raw);  // kept, byte for byte
    auto inbox_events = store::Events(db).for_inbox(out.inbox_id);
    ASSERT_FALSE(inbox_events.empty());
    EXPECT_EQ(inbox_events.back().kind, "inbox.spam");
    EXPECT_NE(inbox_events.back().detail.find("'Newsletters' (rules.yaml:8:5)"), std::string::npos);
    EXPECT_EQ(store::Inbox(db).with_outcome("spam").size(), 1u);

    // The same bytes again are the same entry: reported as a duplicate, still no ticket.
    EXPECT_EQ(ingest(raw).outcome, Outcome::duplicate);
    EXPECT_EQ(store::Tickets(db).count(), 0);

    Pipeline pipeline(db, cfg);
    auto released = pipeline.release_spam(out.inbox_id);
    ASSERT_EQ(released.outcome, Outcome::created) << released.detail;
    auto t = *store::Tickets(db).by_number(*released.ticket_number);
    EXPECT_EQ(events(t.id, "rule.spam_ignored").size(), 1u);
    EXPECT_EQ(store::Inbox(db).get(out.inbox_id)->outcome, "created");
    // Releasing twice, or something that is not spam, changes nothing.
    EXPECT_EQ(pipeline.release_spam(out.inbox_id).outcome, Outcome::not_found);
    EXPECT_EQ(store::Tickets(db).count(), 1);
}

TEST_F(PipelineRulesTest, RepliesSeeTheTicketAsItStood) {
    auto first = ingest("From: carl@x.example\nTo: support@acme.example\nSubject: Broken\nMessage-ID: <c1@x.example>\n\nx\n");
    ASSERT_EQ(first.outcome, Outcome::created);
    auto t = *store::Tickets(db).by_number(*first.ticket_number);
    EXPECT_TRUE(events(t.id, "rule.fired").empty());
    store::Tickets(db).set_status(t.id, store::Status::resolved, now);
    now += 3600;
    auto reply = ingest("From: carl@x.example\nTo: support@acme.example\nSubject: Re: Broken\n"
                        "Message-ID: <c2@x.example>\nIn-Reply-To: <c1@x.example>\nList-Unsubscribe: <mailto:x@x.example>\n\n"
                        "still broken\n");
    ASSERT_EQ(reply.outcome, Outcome::reopened) << reply.detail;  // Newsletters is on: new only
    t = *store::Tickets(db).by_number(*first.ticket_number);
    EXPECT_EQ(t.status, store::Status::open);
    EXPECT_EQ(t.priority, store::Priority::urgent);
    EXPECT_EQ(t.tags, std::vector<std::string>{"came-back"});
}

TEST_F(PipelineRulesTest, AFailingRuleRollsBackTheWholeMessage) {
    // A hook that throws after the rules applied: nothing of the message stays but the raw
    // bytes, quarantined (one message, one transaction).
    Pipeline pipeline(db, cfg);
    pipeline.add_hook([](store::Database&, const Ingested&) { throw std::runtime_error("boom"); });
    const auto id = store::Inbox(db).add_raw("pipe", "From: ann@bigcorp.example\nSubject: hi\n\nx\n");
    auto out = pipeline.process(id);
    EXPECT_EQ(out.outcome, Outcome::quarantined);
    EXPECT_EQ(store::Tickets(db).count(), 0);
    auto st = db.prepare("SELECT count(*) FROM events WHERE kind = 'rule.fired'");
    st.step();
    EXPECT_EQ(st.int64(0), 0);
}

}  // namespace
}  // namespace ticketd::tickets
