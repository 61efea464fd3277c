#pragma once
// Bulk data for benchmarks and load tests: a desk that has been running for years, written
// with set-based SQL (seconds for a million tickets) instead of through the pipeline.

#include <cstdint>
#include <string>

namespace ticketd::store {

class Database;

struct SeedOptions {
    std::int64_t tickets = 1000;
    std::int64_t now = 1'700'000'000;  ///< tickets spread over the years before this
    /// Message-IDs are "seed-<n>@<id_domain>" for ticket number n; one message per ticket.
    std::string id_domain = "customer.example";
};

/// Fill an empty database: tickets (numbers 1001...; mostly closed, some open/pending), one
/// requester participant, one inbound message with its Message-ID, one event and one inbox row
/// per ticket. Tokens are random. Throws Error when the database already holds tickets.
void seed(Database& db, const SeedOptions& options);

}  // namespace ticketd::store
