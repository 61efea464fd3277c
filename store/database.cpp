#include "store/database.h"

#include <chrono>
#include <string>

namespace ticketd::store {

namespace {

std::string describe(int code, std::string_view context, const char* msg) {
    std::string out;
    if (!context.empty()) {
        out.append(context);
        out += ": ";
    }
    out += msg ? msg : sqlite3_errstr(code);
    out += " (";
    out += sqlite3_errstr(code);
    out += ", code " + std::to_string(code) + ")";
    return out;
}

}  // namespace

Error::Error(int code, const std::string& what) : std::runtime_error(what), code_(code) {}

bool Error::temporary() const { return is_temporary(code_); }
bool Error::busy() const {
    return primary_code() == SQLITE_BUSY || primary_code() == SQLITE_LOCKED;
}
bool Error::full() const { return primary_code() == SQLITE_FULL; }

SchemaError::SchemaError(const std::string& what) : Error(SQLITE_ERROR, what) {}

bool is_temporary(int code) {
    switch (code & 0xff) {
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
        case SQLITE_FULL:
        case SQLITE_IOERR:
        case SQLITE_NOMEM:
        case SQLITE_PROTOCOL:
        case SQLITE_ABORT:  // our transaction was rolled back under us: the work can be redone
            return true;
        default:
            return false;
    }
}

// --- Statement

Statement::Statement(Database& db, sqlite3_stmt* s, detail::StmtPtr owned, bool* in_use)
    : db_(&db), stmt_(s), owned_(std::move(owned)), in_use_(in_use) {}

Statement::Statement(Statement&& o) noexcept
    : db_(o.db_), stmt_(o.stmt_), owned_(std::move(o.owned_)), in_use_(o.in_use_) {
    o.stmt_ = nullptr;
    o.in_use_ = nullptr;
}

Statement::~Statement() {
    if (!stmt_) return;
    if (!owned_) {
        // Hand the cached statement back clean: no open read cursor, no stale bindings.
        sqlite3_reset(stmt_);
        sqlite3_clear_bindings(stmt_);
        if (in_use_) *in_use_ = false;
    }
}

Statement& Statement::bind(int i, std::int64_t v) {
    db_->check(sqlite3_bind_int64(stmt_, i, v), "bind");
    return *this;
}
Statement& Statement::bind(int i, double v) {
    db_->check(sqlite3_bind_double(stmt_, i, v), "bind");
    return *this;
}
Statement& Statement::bind(int i, std::string_view v) {
    db_->check(sqlite3_bind_text64(stmt_, i, v.data() ? v.data() : "", v.size(), SQLITE_TRANSIENT,
                                   SQLITE_UTF8),
               "bind");
    return *this;
}
Statement& Statement::bind(int i, std::nullptr_t) {
    db_->check(sqlite3_bind_null(stmt_, i), "bind");
    return *this;
}
Statement& Statement::bind_blob(int i, std::string_view bytes) {
    db_->check(sqlite3_bind_blob64(stmt_, i, bytes.data() ? bytes.data() : "", bytes.size(),
                                   SQLITE_TRANSIENT),
               "bind");
    return *this;
}

bool Statement::step() {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    // The error details live on the connection; reset keeps the statement reusable.
    std::string msg = describe(rc, sqlite3_sql(stmt_), sqlite3_errmsg(db_->handle()));
    int ext = sqlite3_extended_errcode(db_->handle());
    sqlite3_reset(stmt_);
    throw Error(ext ? ext : rc, msg);
}

void Statement::run() {
    while (step()) {
    }
}

bool Statement::is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
std::int64_t Statement::int64(int col) const { return sqlite3_column_int64(stmt_, col); }
double Statement::real(int col) const { return sqlite3_column_double(stmt_, col); }
std::string Statement::text(int col) const {
    auto p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
    int n = sqlite3_column_bytes(stmt_, col);
    return p ? std::string(p, static_cast<std::size_t>(n)) : std::string();
}
std::optional<std::int64_t> Statement::opt_int64(int col) const {
    if (is_null(col)) return std::nullopt;
    return int64(col);
}
std::string Statement::blob(int col) const {
    auto p = static_cast<const char*>(sqlite3_column_blob(stmt_, col));
    int n = sqlite3_column_bytes(stmt_, col);
    return p ? std::string(p, static_cast<std::size_t>(n)) : std::string();
}

// --- Database

Database::Database(const std::string& path, const OpenOptions& options) : path_(path) {
    sqlite3* raw = nullptr;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
    if (options.create) flags |= SQLITE_OPEN_CREATE;
    int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
    db_.reset(raw);
    if (rc != SQLITE_OK) {
        std::string msg = describe(rc, "open " + path, raw ? sqlite3_errmsg(raw) : nullptr);
        throw Error(rc, msg);
    }
    sqlite3_extended_result_codes(db_.get(), 1);
    check(sqlite3_busy_timeout(db_.get(), options.busy_timeout_ms), "busy_timeout");
    // WAL: readers never block the writer; FULL: the WAL is fsynced at every commit, so
    // "committed" really means on disk before we acknowledge anything to the IMAP server.
    exec("PRAGMA journal_mode=WAL");
    exec(options.durable ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=OFF");
    exec("PRAGMA foreign_keys=ON");
    exec("PRAGMA cache_size=-" + std::to_string(options.cache_mb * 1024));
    if (options.migrate) migrate(schema_migrations());
}

Database::~Database() {
    // Statements must be finalized before the connection closes.
    cache_.clear();
    // SQLite's advice for long-lived connections: refresh planner statistics where useful.
    // Without waiting: a busy database must not delay `tickets list` from exiting.
    if (db_) {
        sqlite3_busy_timeout(db_.get(), 0);
        sqlite3_exec(db_.get(), "PRAGMA optimize", nullptr, nullptr, nullptr);
    }
}

void Database::check(int rc, std::string_view context) const {
    if (rc == SQLITE_OK || rc == SQLITE_ROW || rc == SQLITE_DONE) return;
    throw Error(rc, describe(rc, context, sqlite3_errmsg(db_.get())));
}

Statement Database::prepare(std::string_view sql) {
    std::string key(sql);
    auto it = cache_.find(key);
    if (it == cache_.end()) {
        sqlite3_stmt* s = nullptr;
        int rc = sqlite3_prepare_v3(db_.get(), key.data(), static_cast<int>(key.size()),
                                    SQLITE_PREPARE_PERSISTENT, &s, nullptr);
        if (rc != SQLITE_OK) {
            sqlite3_finalize(s);
            throw Error(sqlite3_extended_errcode(db_.get()),
                        describe(rc, key, sqlite3_errmsg(db_.get())));
        }
        auto entry = std::make_unique<CachedStmt>();
        entry->stmt.reset(s);
        it = cache_.emplace(std::move(key), std::move(entry)).first;
    }
    CachedStmt& c = *it->second;
    if (c.in_use) {
        // The same SQL is already stepping higher up the stack: use a private copy.
        sqlite3_stmt* s = nullptr;
        int rc = sqlite3_prepare_v2(db_.get(), sql.data(), static_cast<int>(sql.size()), &s,
                                    nullptr);
        detail::StmtPtr owned(s);
        check(rc, sql);
        return Statement(*this, s, std::move(owned), nullptr);
    }
    c.in_use = true;
    return Statement(*this, c.stmt.get(), nullptr, &c.in_use);
}

void Database::exec(const std::string& sql) {
    char* err = nullptr;
    int rc = sqlite3_exec(db_.get(), sql.c_str(), nullptr, nullptr, &err);
    if (rc != SQLITE_OK) {
        std::string msg = describe(rc, sql.size() > 200 ? sql.substr(0, 200) + "..." : sql, err);
        sqlite3_free(err);
        throw Error(sqlite3_extended_errcode(db_.get()), msg);
    }
}

std::int64_t Database::last_insert_id() const { return sqlite3_last_insert_rowid(db_.get()); }
int Database::changes() const { return sqlite3_changes(db_.get()); }
bool Database::in_transaction() const { return sqlite3_get_autocommit(db_.get()) == 0; }

int Database::schema_version() {
    auto st = prepare("PRAGMA user_version");
    st.step();
    return static_cast<int>(st.int64(0));
}

void Database::migrate(const std::vector<Migration>& steps) {
    int latest = steps.empty() ? 0 : steps.back().version;
    int current = schema_version();
    if (current > latest) {
        throw SchemaError("database " + path_ + " has schema version " + std::to_string(current) +
                          ", newer than this ticketd knows (" + std::to_string(latest) +
                          "): upgrade ticketd or use a matching database");
    }
    for (const auto& step : steps) {
        if (step.version <= current) continue;
        Transaction tx(*this);
        // Another process may have migrated between our read and our write lock.
        current = schema_version();
        if (step.version <= current) continue;
        try {
            exec(step.sql);
        } catch (const Error& e) {
            if (e.temporary()) throw;
            throw SchemaError("migration " + std::to_string(step.version) + " (" +
                              step.description + ") failed: " + e.what());
        }
        exec("PRAGMA user_version=" + std::to_string(step.version));
        tx.commit();
        current = step.version;
    }
}

std::int64_t Database::now() const {
    if (clock_) return clock_();
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// --- Transaction

Transaction::Transaction(Database& db) : db_(db) {
    if (db_.in_transaction()) {
        static thread_local std::uint64_t counter = 0;
        savepoint_ = "sp" + std::to_string(++counter);
        db_.exec("SAVEPOINT " + savepoint_);
    } else {
        db_.exec("BEGIN IMMEDIATE");
    }
}

Transaction::~Transaction() {
    if (done_) return;
    // Never throw from here; SQLite may already have rolled back (e.g. after SQLITE_FULL).
    if (savepoint_.empty()) {
        if (db_.in_transaction()) sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
    } else {
        std::string sql = "ROLLBACK TO " + savepoint_ + "; RELEASE " + savepoint_;
        sqlite3_exec(db_.handle(), sql.c_str(), nullptr, nullptr, nullptr);
    }
}

void Transaction::commit() {
    if (done_) return;
    if (savepoint_.empty()) {
        // SQLite rolls a transaction back by itself after some errors (SQLITE_FULL, IOERR,
        // BUSY, NOMEM). Committing "nothing" must not pass for success.
        if (!db_.in_transaction())
            throw Error(SQLITE_ABORT, "commit: the transaction was already rolled back");
        db_.exec("COMMIT");
    } else {
        db_.exec("RELEASE " + savepoint_);
    }
    done_ = true;
}

}  // namespace ticketd::store
