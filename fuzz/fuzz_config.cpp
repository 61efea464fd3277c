// The main config loader: config::load_string() over arbitrary YAML. It must return errors (with
// positions), never throw or crash. Run from an empty directory (scripts/fuzz.sh does) so
// relative paths (templates/, rules) name nothing.
#include <cstddef>
#include <cstdint>
#include <string>

#include "config/config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string yaml(reinterpret_cast<const char*>(data), size);
    auto result = ticketd::config::load_string(yaml, "fuzz.yaml");
    (void)result;
    return 0;
}
