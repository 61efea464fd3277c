#include "store/database.h"

#include <gtest/gtest.h>

#include "tests/support/paths.h"

namespace ticketd::store {
namespace {

using ticketd::testing::TempDir;

std::int64_t scalar(Database& db, const std::string& sql) {
    auto st = db.prepare(sql);
    EXPECT_TRUE(st.step()) << sql;
    return st.int64(0);
}

std::string text_scalar(Database& db, const std::string& sql) {
    auto st = db.prepare(sql);
    EXPECT_TRUE(st.step()) << sql;
    return st.text(0);
}

TEST(Database, FreshDatabaseHasLatestSchemaAndDurableSettings) {
    TempDir dir;
    Database db((dir / "t.db").string());
    EXPECT_EQ(db.schema_version(), schema_migrations().back().version);
    EXPECT_EQ(text_scalar(db, "PRAGMA journal_mode"), "wal");
    EXPECT_EQ(scalar(db, "PRAGMA synchronous"), 2);  // FULL
    EXPECT_EQ(scalar(db, "PRAGMA foreign_keys"), 1);
    EXPECT_GT(scalar(db, "PRAGMA busy_timeout"), 0);
    for (const char* table : {"tickets", "ticket_tags", "participants", "messages", "message_ids",
                              "attachments", "blobs", "inbox", "mailbox_cursors", "events"}) {
        auto st = db.prepare("SELECT count(*) FROM sqlite_schema WHERE type='table' AND name=?");
        st.bind(1, table);
        ASSERT_TRUE(st.step());
        EXPECT_EQ(st.int64(0), 1) << table;
    }
    EXPECT_FALSE(db.prepare("PRAGMA foreign_key_check").step());
}

TEST(Database, ReopenKeepsDataAndDoesNotMigrateAgain) {
    TempDir dir;
    const auto path = (dir / "t.db").string();
    {
        Database db(path);
        db.exec("INSERT INTO mailbox_cursors (account, mailbox, updated_at) VALUES ('a','b',1)");
    }
    Database db(path);
    EXPECT_EQ(db.schema_version(), schema_migrations().back().version);
    EXPECT_EQ(scalar(db, "SELECT count(*) FROM mailbox_cursors"), 1);
}

TEST(Database, NewerSchemaThanBinaryIsAClearError) {
    TempDir dir;
    const auto path = (dir / "t.db").string();
    {
        Database db(path);
        db.exec("PRAGMA user_version=999");
    }
    try {
        Database db(path);
        FAIL() << "opened a database from the future";
    } catch (const SchemaError& e) {
        EXPECT_FALSE(e.temporary());
        EXPECT_NE(std::string(e.what()).find("999"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("newer"), std::string::npos) << e.what();
    }
}

TEST(Database, FailingMigrationStepLeavesThePreviousVersionIntact) {
    TempDir dir;
    OpenOptions no_migrate;
    no_migrate.migrate = false;
    Database db((dir / "t.db").string(), no_migrate);
    std::vector<Migration> steps = {
        {1, "one", "CREATE TABLE one (x INTEGER);"},
        {2, "two", "CREATE TABLE two (x INTEGER); INSERT INTO no_such_table VALUES (1);"},
    };
    EXPECT_THROW(db.migrate(steps), SchemaError);
    EXPECT_EQ(db.schema_version(), 1);
    EXPECT_EQ(scalar(db, "SELECT count(*) FROM sqlite_schema WHERE name='two'"), 0);
    EXPECT_EQ(scalar(db, "SELECT count(*) FROM sqlite_schema WHERE name='one'"), 1);
    // Fixed step 2 applies on the next try.
    steps[1].sql = "CREATE TABLE two (x INTEGER);";
    db.migrate(steps);
    EXPECT_EQ(db.schema_version(), 2);
}

TEST(Database, TransactionRollsBackWhenAFailureHitsMidway) {
    TempDir dir;
    Database db((dir / "t.db").string());
    try {
        Transaction tx(db);
        db.exec("INSERT INTO mailbox_cursors (account, mailbox, updated_at) VALUES ('a','b',1)");
        // The second write violates NOT NULL: the first must not survive either.
        db.exec("INSERT INTO mailbox_cursors (account, mailbox, updated_at) VALUES ('c',NULL,1)");
        tx.commit();
        FAIL() << "constraint violation not reported";
    } catch (const Error& e) {
        EXPECT_EQ(e.primary_code(), SQLITE_CONSTRAINT);
        EXPECT_FALSE(e.temporary());
    }
    EXPECT_FALSE(db.in_transaction());
    EXPECT_EQ(scalar(db, "SELECT count(*) FROM mailbox_cursors"), 0);
}

TEST(Database, NestedTransactionIsASavepoint) {
    TempDir dir;
    Database db((dir / "t.db").string());
    {
        Transaction outer(db);
        db.exec("INSERT INTO mailbox_cursors (account, mailbox, updated_at) VALUES ('a','1',1)");
        {
            Transaction inner(db);
            db.exec("INSERT INTO mailbox_cursors (account, mailbox, updated_at) VALUES ('a','2',1)");
            // not committed: rolled back to the savepoint only
        }
        {
            Transaction inner(db);
            db.exec("INSERT INTO mailbox_cursors (account, mailbox, updated_at) VALUES ('a','3',1)");
            inner.commit();
        }
        outer.commit();
    }
    EXPECT_EQ(text_scalar(db, "SELECT group_concat(mailbox, ',') FROM "
                              "(SELECT mailbox FROM mailbox_cursors ORDER BY mailbox)"),
              "1,3");
}

TEST(Database, BusyDatabaseIsATemporaryError) {
    TempDir dir;
    const auto path = (dir / "t.db").string();
    Database holder(path);
    OpenOptions quick;
    quick.busy_timeout_ms = 50;
    Database other(path, quick);
    Transaction hold(holder);
    try {
        Transaction tx(other);
        FAIL() << "got a second write lock";
    } catch (const Error& e) {
        EXPECT_TRUE(e.busy()) << e.what();
        EXPECT_TRUE(e.temporary());
    }
}

TEST(Database, DiskFullIsTemporaryAndLeavesNoPartialState) {
    TempDir dir;
    Database db((dir / "t.db").string());
    const auto pages = scalar(db, "PRAGMA page_count");
    db.exec("PRAGMA max_page_count=" + std::to_string(pages + 4));
    std::string big(64 * 1024, 'x');
    try {
        Transaction tx(db);
        db.exec("INSERT INTO mailbox_cursors (account, mailbox, updated_at) VALUES ('a','b',1)");
        auto st = db.prepare("INSERT INTO blobs (sha256, size, data) VALUES ('h', 1, ?)");
        st.bind_blob(1, big);
        st.run();
        tx.commit();
        FAIL() << "wrote past max_page_count";
    } catch (const Error& e) {
        EXPECT_TRUE(e.full()) << e.what();
        EXPECT_TRUE(e.temporary());
    }
    EXPECT_FALSE(db.in_transaction());
    EXPECT_EQ(scalar(db, "SELECT count(*) FROM mailbox_cursors"), 0);
    EXPECT_EQ(scalar(db, "SELECT count(*) FROM blobs"), 0);
}

TEST(Database, SameStatementCanBeUsedWhileAlreadyStepping) {
    Database db(":memory:");
    db.exec("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1),(2);");
    const std::string sql = "SELECT x FROM t ORDER BY x";
    auto outer = db.prepare(sql);
    ASSERT_TRUE(outer.step());
    {
        auto inner = db.prepare(sql);
        ASSERT_TRUE(inner.step());
        EXPECT_EQ(inner.int64(0), 1);
    }
    ASSERT_TRUE(outer.step());
    EXPECT_EQ(outer.int64(0), 2);
}

TEST(Database, InjectedClock) {
    Database db(":memory:");
    db.set_clock([] { return std::int64_t{1700000000}; });
    EXPECT_EQ(db.now(), 1700000000);
}

}  // namespace
}  // namespace ticketd::store
