#pragma once
// Content hashes used for dedupe and content-addressed blobs.

#include <string>
#include <string_view>

namespace ticketd::store {

/// Lower-case hex SHA-256 of `bytes`.
std::string sha256_hex(std::string_view bytes);

/// Incremental SHA-256, for hashing several fields without concatenating them.
class Sha256 {
public:
    Sha256();
    ~Sha256();
    Sha256(const Sha256&) = delete;
    Sha256& operator=(const Sha256&) = delete;
    Sha256& update(std::string_view bytes);
    /// Lower-case hex; the object is spent afterwards.
    std::string hex();

private:
    void* ctx_;
};

}  // namespace ticketd::store
