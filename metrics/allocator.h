#pragma once
// Which malloc this process really runs on, asked of the dynamic loader rather than taken from
// the build: an LD_PRELOADed allocator, or a link order that left glibc's malloc in charge, shows
// up here as it is. `ticketd --version` and the benchmarks print it (cmake/Allocator.cmake).

#include <string>

namespace ticketd::metrics {

struct AllocatorInUse {
    std::string name;      // "mimalloc", "glibc", or the file of another malloc's library ("libjemalloc.so.2")
    std::string version;   // "2.0.9", "2.36"; empty when unknown
    bool overrides_malloc; // false: the library is loaded but malloc() still binds elsewhere
};

AllocatorInUse allocator_in_use();

/// One line for people: "mimalloc 2.0.9", "glibc malloc 2.36", "libjemalloc.so.2", or
/// "mimalloc 2.0.9 (loaded, but malloc is not its)".
std::string describe(const AllocatorInUse& a);

}  // namespace ticketd::metrics
