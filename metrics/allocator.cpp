#include "metrics/allocator.h"

#include <dlfcn.h>
#include <gnu/libc-version.h>

namespace ticketd::metrics {

AllocatorInUse allocator_in_use() {
    // libmimalloc.so defines malloc as an alias of mi_malloc: when it overrides, the symbol the
    // loader binds for "malloc" is the very address of "mi_malloc".
    using version_fn = int (*)();
    auto* mi_version = reinterpret_cast<version_fn>(::dlsym(RTLD_DEFAULT, "mi_version"));
    void* mi_malloc = ::dlsym(RTLD_DEFAULT, "mi_malloc");
    if (mi_version != nullptr && mi_malloc != nullptr) {
        const int v = mi_version();  // major * 100 + minor * 10 + patch: 209 is 2.0.9
        return {"mimalloc",
                std::to_string(v / 100) + "." + std::to_string(v / 10 % 10) + "." + std::to_string(v % 10),
                ::dlsym(RTLD_DEFAULT, "malloc") == mi_malloc};
    }
    return {"glibc", ::gnu_get_libc_version(), true};
}

std::string describe(const AllocatorInUse& a) {
    if (a.name == "glibc") return "glibc malloc " + a.version;
    std::string s = a.name + " " + a.version;
    if (!a.overrides_malloc) s += " (loaded, but malloc is not its)";
    return s;
}

}  // namespace ticketd::metrics
