#include "tests/support/accounting.h"

#include <sqlite3.h>

#include <stdexcept>

namespace ticketd::testing {

std::string message_id_of(const std::string& raw) {
    // The first Message-ID header of the top-level header block (not one of an attached message).
    const auto end = raw.find("\r\n\r\n");
    for (const char* name : {"\nMessage-ID:", "\nMessage-Id:", "\nmessage-id:"}) {
        auto p = raw.find(name);
        if (p == std::string::npos || (end != std::string::npos && p > end)) continue;
        auto lt = raw.find('<', p), gt = raw.find('>', p);
        if (lt == std::string::npos || gt == std::string::npos || gt < lt) return "";
        return raw.substr(lt + 1, gt - lt - 1);
    }
    return "";
}

std::map<std::string, int> count_by_message_id(const std::vector<std::string>& raws) {
    std::map<std::string, int> out;
    for (const auto& raw : raws) ++out[message_id_of(raw)];
    return out;
}

namespace {

class Db {
public:
    explicit Db(const std::string& path) {
        if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
            std::string e = db_ ? sqlite3_errmsg(db_) : "out of memory";
            sqlite3_close(db_);
            throw std::runtime_error("cannot open " + path + ": " + e);
        }
        sqlite3_busy_timeout(db_, 10000);
    }
    ~Db() { sqlite3_close(db_); }
    template <class Row>
    void each(const char* sql, Row row) {
        sqlite3_stmt* st = nullptr;
        if (sqlite3_prepare_v2(db_, sql, -1, &st, nullptr) != SQLITE_OK)
            throw std::runtime_error(std::string(sql) + ": " + sqlite3_errmsg(db_));
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) row(st);
        sqlite3_finalize(st);
        if (rc != SQLITE_DONE) throw std::runtime_error(std::string(sql) + ": " + sqlite3_errmsg(db_));
    }

private:
    sqlite3* db_ = nullptr;
};

std::string text(sqlite3_stmt* st, int col) {
    auto* p = sqlite3_column_text(st, col);
    return p ? reinterpret_cast<const char*>(p) : "";
}

}  // namespace

DeskLedger read_ledger(const std::string& db_path) {
    DeskLedger l;
    Db db(db_path);
    db.each("SELECT message_id, COUNT(*) FROM messages WHERE direction = 'in' GROUP BY message_id",
            [&](sqlite3_stmt* st) { l.inbound[text(st, 0)] = sqlite3_column_int64(st, 1); });
    db.each("SELECT message_id, kind, state FROM outbox ORDER BY id",
            [&](sqlite3_stmt* st) { l.outbox.push_back({text(st, 0), text(st, 1), text(st, 2)}); });
    db.each("SELECT state <> 'done', outcome, COUNT(*) FROM inbox GROUP BY 1, 2", [&](sqlite3_stmt* st) {
        const auto n = sqlite3_column_int64(st, 2);
        if (sqlite3_column_int(st, 0)) l.inbox_not_done += n;
        l.inbox_rows += n;
        l.outcomes[text(st, 1)] += n;
    });
    return l;
}

}  // namespace ticketd::testing
