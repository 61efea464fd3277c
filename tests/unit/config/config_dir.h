#pragma once
// What the config tests share: a scratch config directory holding a copy of the shipped
// templates (as a real install has), and every load error on one line each for a failure message.

#include <filesystem>
#include <fstream>
#include <string>

#include "config/config.h"
#include "tests/support/paths.h"

namespace ticketd::testing {

/// Every error of a failed load, one per line, for the message of a failed ASSERT.
inline std::string all_errors(const config::LoadResult& r) {
    std::string out;
    for (const auto& e : r.errors) out += e.to_string() + "\n";
    return out;
}

inline void write_config_file(const std::filesystem::path& p, const std::string& text) {
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
}

/// A config directory with the shipped templates copied next to where ticketd.yaml goes.
struct ConfigDir {
    TempDir tmp;
    ConfigDir() { std::filesystem::copy(source_dir() / "config/templates", tmp.path() / "templates"); }
    /// Writes ticketd.yaml and returns its path.
    std::string config(const std::string& yaml) {
        auto p = tmp.path() / "ticketd.yaml";
        write_config_file(p, yaml);
        return p.string();
    }
    /// Writes ticketd.yaml and loads it.
    config::LoadResult load(const std::string& yaml) { return config::load_file(config(yaml)); }
};

}  // namespace ticketd::testing
