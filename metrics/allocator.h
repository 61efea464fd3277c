#pragma once
// Which malloc this process really runs on, asked of the dynamic loader rather than taken from
// the build: an LD_PRELOADed allocator, or a link order that left glibc's malloc in charge, shows
// up here as it is. `ticketd --version` and the benchmarks print it (cmake/Allocator.cmake).

#include <string>

namespace ticketd::metrics {

struct AllocatorInUse {
    std::string name;      // "mimalloc" or "glibc"
    std::string version;   // "2.0.9", "2.36"
    bool overrides_malloc; // false: the library is loaded but malloc() still binds elsewhere
};

AllocatorInUse allocator_in_use();

/// One line for people: "mimalloc 2.0.9", "glibc malloc 2.36", or "mimalloc 2.0.9 (loaded, but
/// malloc is glibc's)".
std::string describe(const AllocatorInUse& a);

}  // namespace ticketd::metrics
