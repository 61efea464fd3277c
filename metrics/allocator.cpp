#include "metrics/allocator.h"

#include <dlfcn.h>
#include <gnu/libc-version.h>

#include <string_view>

namespace ticketd::metrics {

AllocatorInUse allocator_in_use() {
    // The library whose malloc the loader bound for this process (a preload, a link, or libc).
    void* const malloc_sym = ::dlsym(RTLD_DEFAULT, "malloc");
    Dl_info info{};
    const std::string_view file = malloc_sym && ::dladdr(malloc_sym, &info) && info.dli_fname ? info.dli_fname : "";
    using version_fn = int (*)();
    auto* mi_version = reinterpret_cast<version_fn>(::dlsym(RTLD_DEFAULT, "mi_version"));
    void* const mi_malloc = ::dlsym(RTLD_DEFAULT, "mi_malloc");
    if (mi_version != nullptr && mi_malloc != nullptr) {
        // libmimalloc.so defines malloc as an alias of mi_malloc: when it overrides, "malloc"
        // is the very address of "mi_malloc". MI_MALLOC_VERSION: 209 is 2.0.9, 212 is 2.1.2.
        const int v = mi_version();
        return {"mimalloc",
                std::to_string(v / 100) + "." + std::to_string(v / 10 % 10) + "." + std::to_string(v % 10),
                malloc_sym == mi_malloc};
    }
    if (file.empty() || file.find("/libc.so") != std::string_view::npos || file.find("libc.so") == 0)
        return {"glibc", ::gnu_get_libc_version(), true};
    // Another allocator (jemalloc, tcmalloc, ...) preloaded or linked: named by its library.
    const auto slash = file.rfind('/');
    return {std::string(slash == std::string_view::npos ? file : file.substr(slash + 1)), "", true};
}

std::string describe(const AllocatorInUse& a) {
    if (a.name == "glibc") return "glibc malloc " + a.version;
    std::string s = a.version.empty() ? a.name : a.name + " " + a.version;
    if (!a.overrides_malloc) s += " (loaded, but malloc is not its)";
    return s;
}

}  // namespace ticketd::metrics
