#pragma once
// `ticketd backup FILE`: a consistent copy of the live database through SQLite's online backup
// API while the daemon keeps writing. In WAL mode a reader never blocks the writer, so the whole
// copy is one step inside one read transaction: the snapshot as of its start, never torn, and
// never restarted by the daemon's commits (which a copy in small steps would be, over and over).

#include <cstdint>
#include <functional>
#include <string>

#include "store/database.h"

namespace ticketd::store {

struct BackupResult {
    std::int64_t pages = 0;
    std::int64_t bytes = 0;
    int restarts = 0;  ///< times a concurrent write made SQLite start over
};

/// Copies `source` to a new file `target` (which must not exist: a backup never overwrites).
/// `pages_per_step` -1 copies all in one step (see above); a positive value copies in steps,
/// which SQLite restarts whenever another connection writes in between. The copy goes to
/// `target`.partial and is renamed once complete and checked (PRAGMA quick_check), so `target`
/// is either a whole backup or absent. Throws Error.
BackupResult backup(Database& source, const std::string& target, int pages_per_step = -1);

}  // namespace ticketd::store
