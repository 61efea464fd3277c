#include "store/tickets.h"

#include <gtest/gtest.h>

#include "store/database.h"
#include "store/hash.h"

namespace ticketd::store {
namespace {

std::int64_t count_rows(Database& db, const std::string& table) {
    auto st = db.prepare("SELECT count(*) FROM " + table);
    st.step();
    return st.int64(0);
}

class RepoTest : public ::testing::Test {
protected:
    Database db{":memory:"};
    Tickets tickets{db};
    Messages messages{db};
    Events events{db};

    Ticket make(const std::string& token = "0123456789") {
        NewTicket n;
        n.token = token;
        n.subject = "Printer on fire";
        n.requester_address = "ann@example.org";
        n.requester_name = "Ann";
        n.created_at = 100;
        return tickets.create(n);
    }
};

TEST_F(RepoTest, NumbersAreSequentialAndStatusDefaultsOpen) {
    auto a = make();
    auto b = make();
    EXPECT_EQ(a.number, 1001);
    EXPECT_EQ(b.number, 1002);
    EXPECT_EQ(a.status, Status::open);
    EXPECT_EQ(a.priority, Priority::normal);
    EXPECT_EQ(tickets.by_number(1002)->id, b.id);
    EXPECT_FALSE(tickets.by_number(999));
    EXPECT_EQ(tickets.count(), 2);
}

TEST_F(RepoTest, TokenCheck) {
    auto t = make("7f3a9c0b1d");
    EXPECT_TRUE(tickets.token_matches(t.id, "7f3a9c0b1d"));
    EXPECT_TRUE(tickets.token_matches(t.id, "7F3A9C0B1D"));
    EXPECT_FALSE(tickets.token_matches(t.id, "7f3a9c0b1e"));
    EXPECT_FALSE(tickets.token_matches(t.id, "7f3a9c"));
    EXPECT_FALSE(tickets.token_matches(t.id, ""));
    EXPECT_FALSE(tickets.token_matches(t.id + 1, "7f3a9c0b1d"));
}

TEST_F(RepoTest, StatusTransitionsSetAndClearClosedAt) {
    auto t = make();
    tickets.set_status(t.id, Status::closed, 200);
    auto c = tickets.get(t.id);
    EXPECT_EQ(c->status, Status::closed);
    EXPECT_EQ(c->closed_at, 200);
    tickets.set_status(t.id, Status::open, 300);
    c = tickets.get(t.id);
    EXPECT_FALSE(c->closed_at);
    EXPECT_EQ(c->updated_at, 300);
    auto open = tickets.list({Status::open});
    EXPECT_EQ(open.size(), 1u);
    EXPECT_TRUE(tickets.list({Status::closed}).empty());
}

TEST_F(RepoTest, ParticipantsAreUniquePerAddressCaseInsensitive) {
    auto t = make();
    EXPECT_TRUE(tickets.add_participant(t.id, "ann@example.org", "Ann", "requester", 1));
    EXPECT_FALSE(tickets.add_participant(t.id, "ANN@example.org", "", "cc", 2));
    EXPECT_TRUE(tickets.add_participant(t.id, "bob@example.org", "", "cc", 3));
    EXPECT_TRUE(tickets.is_participant(t.id, "Bob@Example.org"));
    EXPECT_FALSE(tickets.is_participant(t.id, "eve@example.org"));
    auto ps = tickets.participants(t.id);
    ASSERT_EQ(ps.size(), 2u);
    EXPECT_EQ(ps[0].role, "requester");
}

TEST_F(RepoTest, TagsSorted) {
    auto t = make();
    tickets.add_tag(t.id, "vip");
    tickets.add_tag(t.id, "billing");
    tickets.add_tag(t.id, "vip");
    EXPECT_EQ(tickets.get(t.id)->tags, (std::vector<std::string>{"billing", "vip"}));
}

TEST_F(RepoTest, MessagesRoundTripAndMessageIdIndex) {
    auto t = make();
    MessageRecord m;
    m.ticket = t.id;
    m.kind = MessageKind::requester;
    m.message_id = "abc@example.org";
    m.from_address = "ann@example.org";
    m.to = {{"Support", "support@example.com"}};
    m.headers = {{"Subject", "hi"}, {"X-Thing", "ü"}};
    m.subject = "hi";
    m.body = "hello";
    m.content_hash = "h1";
    m.created_at = 5;
    auto id = messages.add(m);
    messages.add_message_id(m.message_id, t.id, id, Direction::in);
    messages.add_message_id(m.message_id, t.id + 99, std::nullopt, Direction::in);  // ignored
    EXPECT_EQ(messages.ticket_for_message_id("abc@example.org"), t.id);
    EXPECT_FALSE(messages.ticket_for_message_id("nope@example.org"));
    EXPECT_FALSE(messages.ticket_for_message_id(""));
    auto back = messages.get(id);
    ASSERT_TRUE(back);
    EXPECT_EQ(back->to.size(), 1u);
    EXPECT_EQ(back->to[0].address, "support@example.com");
    EXPECT_EQ(back->headers.size(), 2u);
    EXPECT_EQ(back->headers[1].second, "ü");
    auto stored = messages.with_message_id("abc@example.org");
    ASSERT_EQ(stored.size(), 1u);
    EXPECT_EQ(stored[0].content_hash, "h1");
}

TEST_F(RepoTest, IdenticalAttachmentsShareOneBlob) {
    auto t = make();
    MessageRecord m;
    m.ticket = t.id;
    m.created_at = 1;
    auto m1 = messages.add(m);
    auto m2 = messages.add(m);
    std::string data = "%PDF-1.4 ...";
    AttachmentRecord a;
    a.message = m1;
    a.filename = "invoice.pdf";
    a.content_type = "application/pdf";
    messages.add_attachment(a, data);
    a.message = m2;
    messages.add_attachment(a, data);
    EXPECT_EQ(count_rows(db, "attachments"), 2);
    EXPECT_EQ(count_rows(db, "blobs"), 1);
    auto list = messages.attachments(m2);
    ASSERT_EQ(list.size(), 1u);
    EXPECT_EQ(list[0].sha256, sha256_hex(data));
    EXPECT_EQ(list[0].size, data.size());
    EXPECT_EQ(messages.blob(list[0].sha256), data);
}

TEST_F(RepoTest, EventsInOrder) {
    auto t = make();
    events.add({0, t.id, std::nullopt, std::nullopt, 1, "ticket.created", "from ann"});
    events.add({0, t.id, std::nullopt, std::nullopt, 2, "thread.matched", "In-Reply-To"});
    events.add({0, std::nullopt, std::nullopt, std::nullopt, 3, "inbox.unmatched", ""});
    auto es = events.for_ticket(t.id);
    ASSERT_EQ(es.size(), 2u);
    EXPECT_EQ(es[0].kind, "ticket.created");
    EXPECT_EQ(es[1].detail, "In-Reply-To");
}

TEST(Hash, Sha256KnownValue) {
    EXPECT_EQ(sha256_hex("abc"),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(Sha256().update("a").update("bc").hex(), sha256_hex("abc"));
}

}  // namespace
}  // namespace ticketd::store
