#include "store/backup.h"

#include <sqlite3.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <thread>

namespace ticketd::store {

namespace fs = std::filesystem;

namespace {

struct BackupDeleter {
    void operator()(sqlite3_backup* b) const { sqlite3_backup_finish(b); }
};

}  // namespace

BackupResult backup(Database& source, const std::string& target, int pages_per_step) {
    std::error_code ec;
    if (fs::exists(target, ec)) throw Error(SQLITE_CANTOPEN, target + " exists already; a backup never overwrites");
    const std::string partial = target + ".partial";
    fs::remove(partial, ec);  // a leftover of an interrupted backup
    BackupResult result;
    {
        OpenOptions opts;
        opts.migrate = false;  // a byte copy of the source, whatever its schema version
        Database dest(partial, opts);
        std::unique_ptr<sqlite3_backup, BackupDeleter> b(
            sqlite3_backup_init(dest.handle(), "main", source.handle(), "main"));
        if (!b) dest.check(sqlite3_errcode(dest.handle()), "backup init");
        int previous_remaining = -1;
        for (;;) {
            int rc = sqlite3_backup_step(b.get(), pages_per_step);
            const int remaining = sqlite3_backup_remaining(b.get());
            // The backup API restarts by itself when the source changes behind it (through
            // another connection); remaining going up is how that shows.
            if (previous_remaining >= 0 && remaining > previous_remaining) ++result.restarts;
            previous_remaining = remaining;
            if (rc == SQLITE_DONE) break;
            if (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
                std::this_thread::sleep_for(std::chrono::milliseconds(rc == SQLITE_OK ? 1 : 50));
                continue;
            }
            throw Error(rc, std::string("backup step: ") + sqlite3_errstr(rc));
        }
        result.pages = sqlite3_backup_pagecount(b.get());
        b.reset();  // sqlite3_backup_finish: its error, if any, is the connection's now
        dest.check(sqlite3_errcode(dest.handle()), "backup finish");
        {
            auto check = dest.prepare("PRAGMA quick_check");
            if (!check.step() || check.text(0) != "ok")
                throw Error(SQLITE_CORRUPT, "the backup failed PRAGMA quick_check; " + partial + " left for inspection");
        }
        // A single self-contained file: fold the copy's own WAL in, and leave no -wal/-shm.
        dest.exec("PRAGMA journal_mode=DELETE");
    }
    fs::rename(partial, target);
    result.bytes = static_cast<std::int64_t>(fs::file_size(target));
    return result;
}

}  // namespace ticketd::store
