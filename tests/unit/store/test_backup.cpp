// store::backup: a whole, checked copy while another connection keeps writing; never overwrites.

#include "store/backup.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "store/database.h"
#include "tests/support/paths.h"

namespace ticketd::store {
namespace {

using ticketd::testing::TempDir;
namespace fs = std::filesystem;

std::int64_t count(Database& db, const std::string& sql) {
    auto st = db.prepare(sql);
    st.step();
    return st.int64(0);
}

TEST(Backup, CopiesEverythingIntoOneSelfContainedFile) {
    TempDir dir;
    Database db((dir / "desk.db").string());
    db.exec("CREATE TABLE filler (id INTEGER PRIMARY KEY, data BLOB)");
    {
        Transaction tx(db);
        for (int i = 0; i < 2000; ++i)
            db.prepare("INSERT INTO filler (data) VALUES (randomblob(1000))").run();
        tx.commit();
    }
    const auto target = (dir / "backup.db").string();
    auto r = backup(db, target, 64);
    EXPECT_GT(r.pages, 400);
    EXPECT_EQ(r.bytes, static_cast<std::int64_t>(fs::file_size(target)));
    EXPECT_FALSE(fs::exists(target + ".partial"));
    EXPECT_FALSE(fs::exists(target + "-wal"));
    OpenOptions o;
    o.create = false;
    o.migrate = false;
    Database copy(target, o);
    EXPECT_EQ(count(copy, "SELECT count(*) FROM filler"), 2000);
    EXPECT_EQ(copy.schema_version(), db.schema_version());
}

TEST(Backup, NeverOverwritesAnExistingFile) {
    TempDir dir;
    Database db((dir / "desk.db").string());
    ticketd::testing::write_file(dir / "backup.db", "precious");
    EXPECT_THROW(backup(db, (dir / "backup.db").string()), Error);
    EXPECT_EQ(ticketd::testing::read_file(dir / "backup.db"), "precious");
}

TEST(Backup, IsConsistentWhileAnotherConnectionWrites) {
    TempDir dir;
    const auto path = (dir / "desk.db").string();
    Database reader(path);
    reader.exec("CREATE TABLE pairs (id INTEGER PRIMARY KEY, a INTEGER NOT NULL, b INTEGER NOT NULL)");
    {
        Transaction tx(reader);
        for (int i = 0; i < 5000; ++i)
            reader.prepare("INSERT INTO pairs (a, b) VALUES (?1, ?1)").bind(1, i).run();
        tx.commit();
    }
    // The writer keeps a = b in every row, in transactions of two updates: a torn copy would
    // show a row with a != b.
    std::atomic<bool> stop{false};
    std::atomic<int> writes{0};
    std::thread writer([&] {
        Database w(path);
        for (int i = 0; !stop; ++i) {
            Transaction tx(w);
            w.prepare("UPDATE pairs SET a = a + 1 WHERE id = ?1").bind(1, i % 5000 + 1).run();
            w.prepare("UPDATE pairs SET b = b + 1 WHERE id = ?1").bind(1, i % 5000 + 1).run();
            tx.commit();
            ++writes;
        }
    });
    while (writes < 20) std::this_thread::yield();

    const auto target = (dir / "backup.db").string();
    BackupResult r;
    ASSERT_NO_THROW(r = backup(reader, target));
    stop = true;
    writer.join();
    OpenOptions o;
    o.create = false;
    o.migrate = false;
    Database copy(target, o);
    EXPECT_EQ(count(copy, "SELECT count(*) FROM pairs"), 5000);
    EXPECT_EQ(count(copy, "SELECT count(*) FROM pairs WHERE a <> b"), 0);
}

}  // namespace
}  // namespace ticketd::store
