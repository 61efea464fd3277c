#pragma once
// One SQLite connection with the settings ticketd relies on (WAL, synchronous=FULL so a commit is
// durable before anything is acknowledged, foreign keys, busy timeout), a prepared-statement
// cache, transactions and versioned migrations. All SQL of ticketd lives in store/.
//
// A Database is one connection and is used by one thread at a time; a second thread or process
// opens its own (WAL lets readers and one writer work side by side).

#include <sqlite3.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace ticketd::store {

/// A store failure. `temporary()` tells callers whether trying again later can succeed
/// (busy/locked, disk full, I/O error): `ticketd ingest` maps those to EX_TEMPFAIL (75) and the
/// pipeline never quarantines a message for them.
class Error : public std::runtime_error {
public:
    Error(int code, const std::string& what);
    int code() const { return code_; }  ///< extended SQLite result code
    int primary_code() const { return code_ & 0xff; }
    bool temporary() const;
    bool busy() const;  ///< SQLITE_BUSY or SQLITE_LOCKED
    bool full() const;  ///< SQLITE_FULL

private:
    int code_;
};

/// The database was written by a newer ticketd (PRAGMA user_version above what this binary
/// knows), or a migration step failed. Never temporary.
class SchemaError : public Error {
public:
    explicit SchemaError(const std::string& what);
};

/// True for result codes where retrying later can succeed.
bool is_temporary(int sqlite_code);

/// One schema step. Steps run in ascending `version`, each in its own transaction, and set
/// PRAGMA user_version to `version` in that same transaction.
struct Migration {
    int version;
    const char* description;
    const char* sql;
};

/// The schema of this binary, oldest first.
const std::vector<Migration>& schema_migrations();

namespace detail {
struct StmtDeleter {
    void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
struct DbDeleter {
    void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using StmtPtr = std::unique_ptr<sqlite3_stmt, StmtDeleter>;
}  // namespace detail

class Database;

/// A prepared statement in use: binds, steps, reads columns. Borrowed from the Database's cache
/// (reset and cleared when this goes away) or owned when the cached one is already in use.
class Statement {
public:
    Statement(Statement&& o) noexcept;
    Statement& operator=(Statement&&) = delete;
    Statement(const Statement&) = delete;
    ~Statement();

    /// Bind by 1-based index. Empty optionals bind NULL; string_view binds TEXT.
    Statement& bind(int i, std::int64_t v);
    Statement& bind(int i, int v) { return bind(i, static_cast<std::int64_t>(v)); }
    Statement& bind(int i, std::uint64_t v) { return bind(i, static_cast<std::int64_t>(v)); }
    Statement& bind(int i, double v);
    Statement& bind(int i, std::string_view v);
    Statement& bind(int i, const std::string& v) { return bind(i, std::string_view(v)); }
    Statement& bind(int i, const char* v) { return bind(i, std::string_view(v)); }
    Statement& bind(int i, std::nullptr_t);
    Statement& bind_blob(int i, std::string_view bytes);
    template <class T>
    Statement& bind(int i, const std::optional<T>& v) {
        return v ? bind(i, *v) : bind(i, nullptr);
    }
    /// Bind all arguments in order, starting at 1.
    template <class... Args>
    Statement& bind_all(const Args&... args) {
        int i = 0;
        (bind(++i, args), ...);
        return *this;
    }

    /// Step once: true when a row is available.
    bool step();
    /// Step to completion (for statements that return no rows).
    void run();

    bool is_null(int col) const;
    std::int64_t int64(int col) const;
    double real(int col) const;
    std::string text(int col) const;
    std::optional<std::int64_t> opt_int64(int col) const;
    std::string blob(int col) const;

private:
    friend class Database;
    Statement(Database& db, sqlite3_stmt* s, detail::StmtPtr owned, bool* in_use);
    Database* db_;
    sqlite3_stmt* stmt_;
    detail::StmtPtr owned_;
    bool* in_use_;
};

struct OpenOptions {
    int busy_timeout_ms = 5000;
    bool create = true;  ///< create the file when missing
    bool migrate = true; ///< bring the schema up to date on open
    /// false: synchronous=OFF, no fsync at all (a power cut can lose or corrupt the last
    /// commits). Only for benchmarks that measure CPU and index cost without the disk; never
    /// for a desk.
    bool durable = true;
    /// Page cache per connection. SQLite's 2 MB default makes every lookup in a desk of a
    /// million tickets a read(); the hot index pages of such a desk fit in this.
    int cache_mb = 64;
};

class Database {
public:
    /// Open (and by default create and migrate) the database at `path` (":memory:" works).
    /// Throws Error, or SchemaError when the file is newer than this binary.
    explicit Database(const std::string& path, const OpenOptions& options = {});
    ~Database();
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;

    /// A statement from the cache (prepared once per connection).
    Statement prepare(std::string_view sql);
    /// Run SQL that may hold several statements and returns no rows.
    void exec(const std::string& sql);

    std::int64_t last_insert_id() const;
    int changes() const;
    bool in_transaction() const;

    /// PRAGMA user_version.
    int schema_version();
    /// Apply the steps of `steps` newer than the current version, each in its own transaction.
    /// Throws SchemaError when the database is newer than the last step.
    void migrate(const std::vector<Migration>& steps);

    /// Seconds since the epoch, UTC. Injectable so tests can move time (DESIGN.md #11).
    std::int64_t now() const;
    void set_clock(std::function<std::int64_t()> clock) { clock_ = std::move(clock); }

    const std::string& path() const { return path_; }
    sqlite3* handle() { return db_.get(); }

    /// Throw Error for `rc` when it is not OK/ROW/DONE, with the connection's message.
    void check(int rc, std::string_view context = {}) const;

private:
    struct CachedStmt {
        detail::StmtPtr stmt;
        bool in_use = false;
    };
    std::string path_;
    std::unique_ptr<sqlite3, detail::DbDeleter> db_;
    // unique_ptr values keep `in_use` addresses stable while the map grows.
    std::unordered_map<std::string, std::unique_ptr<CachedStmt>> cache_;
    std::function<std::int64_t()> clock_;
};

/// BEGIN IMMEDIATE ... COMMIT, rolled back on destruction unless committed. Taking the write lock
/// up front means a busy database fails at the start (as a temporary Error) rather than halfway.
/// Inside an open transaction it becomes a SAVEPOINT, so repositories compose.
class Transaction {
public:
    explicit Transaction(Database& db);
    ~Transaction();
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;

    void commit();

private:
    Database& db_;
    std::string savepoint_;  ///< empty for a top-level transaction
    bool done_ = false;
};

}  // namespace ticketd::store
