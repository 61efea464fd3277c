// SQL injection (docs/security.md): every text a mail, a config or an agent's #command carries
// reaches SQLite as a bound parameter, never as SQL. Hostile strings go in through the
// repositories, come back byte for byte, match nothing they should not, and the schema is whole.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "store/database.h"
#include "store/tickets.h"

namespace ticketd::store {
namespace {

std::int64_t count_rows(Database& db, const std::string& table) {
    auto st = db.prepare("SELECT count(*) FROM " + table);
    st.step();
    return st.int64(0);
}

TEST(SqlInjection, HostileTextIsStoredAsDataNeverRunAsSql) {
    Database db{":memory:"};
    Tickets tickets{db};
    Messages messages{db};
    const std::string drop = "x'); DROP TABLE tickets; --";
    const std::string always = "' OR '1'='1";
    const std::string quotes = "\"; DELETE FROM tickets WHERE \"1\"=\"1";

    NewTicket n;
    n.token = "0123456789";
    n.subject = drop;
    n.requester_address = quotes;
    n.requester_name = always;
    n.queue = drop;
    n.created_at = 100;
    const Ticket t = tickets.create(n);
    NewTicket other = n;
    other.token = "abcdefabcd";
    other.subject = "an innocent ticket";
    const Ticket u = tickets.create(other);

    tickets.set_queue(t.id, always, 101);
    tickets.set_assignee(t.id, quotes, 102);
    tickets.add_tag(t.id, drop);
    tickets.add_tag(t.id, always);
    tickets.remove_tag(t.id, always);  // removes exactly that tag, not "every row"
    EXPECT_TRUE(tickets.add_participant(t.id, drop, quotes, "cc", 103));
    messages.add_message_id(always, t.id, std::nullopt, Direction::in);

    // Stored as written.
    auto back = tickets.get(t.id);
    ASSERT_TRUE(back);
    EXPECT_EQ(back->subject, drop);
    EXPECT_EQ(back->queue, always);
    EXPECT_EQ(back->assignee, quotes);
    EXPECT_EQ(tickets.tags(t.id), std::vector<std::string>{drop});
    EXPECT_TRUE(tickets.is_participant(t.id, drop));
    EXPECT_EQ(messages.ticket_for_message_id(always), t.id);

    // Matching nothing they should not: a tautology is a string, not a condition.
    EXPECT_FALSE(tickets.token_matches(t.id, always));
    EXPECT_FALSE(tickets.token_matches(u.id, "' OR 1=1 --"));
    EXPECT_FALSE(tickets.is_participant(u.id, drop));
    EXPECT_FALSE(tickets.is_participant(t.id, always));
    EXPECT_FALSE(messages.ticket_for_message_id("x' OR '1'='1"));
    EXPECT_TRUE(tickets.tags(u.id).empty());

    // Nothing ran: both tickets and every table are still there.
    EXPECT_EQ(count_rows(db, "tickets"), 2);
    EXPECT_EQ(tickets.get(u.id)->subject, "an innocent ticket");
    EXPECT_EQ(tickets.count(), 2);
}

}  // namespace
}  // namespace ticketd::store
