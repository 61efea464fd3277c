#pragma once
// The YAML walker every config file shares (main config, rule files): collects every error with
// its position instead of stopping at the first, and reports unknown keys with a "did you mean".

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "config/values.h"

namespace ticketd::config {

/// Walks one YAML document, collecting every error with its position instead of stopping at the
/// first: an admin fixing a file wants the whole list at once.
class Reader {
public:
    explicit Reader(std::string file) : file_(std::move(file)) {}

    std::vector<ConfigError>& errors() { return errors_; }

    void error(const YAML::Mark& mark, std::string message) {
        // yaml-cpp counts from 0; people and editors count from 1. A null mark (-1) means the
        // position is unknown, which happens only for synthesized nodes.
        int line = mark.line >= 0 ? mark.line + 1 : 0;
        int col = mark.column >= 0 ? mark.column + 1 : 0;
        errors_.push_back({file_, line, col, std::move(message)});
    }

    /// "file:line:col" of `mark`, counted from 1 as in error(), for messages given later.
    std::string position(const YAML::Mark& mark) const {
        return file_ + ":" + std::to_string(mark.line >= 0 ? mark.line + 1 : 0) + ":" +
               std::to_string(mark.column >= 0 ? mark.column + 1 : 0);
    }

    /// Calls `fields[key]` for each key of map `node`; unknown and duplicate keys are errors.
    void map(const YAML::Node& node, const std::string& where,
             const std::map<std::string, std::function<void(const YAML::Node&, const std::string&)>>&
                 fields) {
        if (!node.IsMap()) {
            error(node.Mark(), where + ": expected a mapping");
            return;
        }
        std::set<std::string> seen;
        for (const auto& kv : node) {
            const YAML::Node& key = kv.first;
            std::string name = key.IsScalar() ? key.Scalar() : "";
            std::string path = where.empty() ? name : where + "." + name;
            if (!seen.insert(name).second) {
                error(key.Mark(), "duplicate key '" + path + "'");
                continue;
            }
            auto it = fields.find(name);
            if (it == fields.end()) {
                error(key.Mark(), "unknown key '" + path + "'" + suggestion(name, fields));
                continue;
            }
            it->second(kv.second, path);
        }
    }

    bool scalar(const YAML::Node& n, const std::string& path) {
        if (n.IsScalar()) return true;
        error(n.Mark(), path + ": expected a single value");
        return false;
    }

    void string(const YAML::Node& n, const std::string& path, std::string& out) {
        if (!scalar(n, path)) return;
        out = n.Scalar();
    }

    void boolean(const YAML::Node& n, const std::string& path, bool& out) {
        if (!scalar(n, path)) return;
        auto v = parse_bool(n.Scalar());
        if (!v) return error(n.Mark(), path + ": expected true or false, got '" + n.Scalar() + "'");
        out = *v;
    }

    void duration(const YAML::Node& n, const std::string& path, std::chrono::seconds& out) {
        if (!scalar(n, path)) return;
        auto v = parse_duration(n.Scalar());
        if (!v)
            return error(n.Mark(), path + ": expected a duration like 30s, 5m, 2h or 14d, got '" +
                                       n.Scalar() + "'");
        out = *v;
    }

    template <typename Int>
    void size(const YAML::Node& n, const std::string& path, Int& out, std::uint64_t min,
              std::uint64_t max) {
        if (!scalar(n, path)) return;
        auto v = parse_size(n.Scalar());
        if (!v) return error(n.Mark(), path + ": expected a size like 512K or 64M, got '" + n.Scalar() + "'");
        if (*v < min || *v > max)
            return error(n.Mark(), path + ": " + n.Scalar() + " is out of range (" +
                                       std::to_string(min) + " to " + std::to_string(max) + ")");
        out = static_cast<Int>(*v);
    }

    void integer(const YAML::Node& n, const std::string& path, int& out, int min, int max) {
        if (!scalar(n, path)) return;
        auto v = parse_int(n.Scalar());
        if (!v) return error(n.Mark(), path + ": expected a whole number, got '" + n.Scalar() + "'");
        if (*v < min || *v > max)
            return error(n.Mark(), path + ": " + n.Scalar() + " is out of range (" +
                                       std::to_string(min) + " to " + std::to_string(max) + ")");
        out = static_cast<int>(*v);
    }

    void string_list(const YAML::Node& n, const std::string& path, std::vector<std::string>& out) {
        out.clear();
        if (n.IsScalar()) {  // a single value is a list of one: `addresses: support@x` is fine
            out.push_back(n.Scalar());
            return;
        }
        if (!n.IsSequence()) return error(n.Mark(), path + ": expected a list");
        for (const auto& item : n) {
            if (!item.IsScalar()) {
                error(item.Mark(), path + ": expected a list of single values");
                continue;
            }
            out.push_back(item.Scalar());
        }
    }

    /// " (did you mean 'addresses'?)" when one of `keys` is a close match of `name`.
    template <typename Map>
    static std::string suggestion(const std::string& name, const Map& fields) {
        std::string best;
        std::size_t best_d = 3;  // only suggest close matches: typos, not guesses
        for (const auto& [k, _] : fields) {
            std::size_t d = edit_distance(name, k);
            if (d < best_d) best_d = d, best = k;
        }
        return best.empty() ? "" : " (did you mean '" + best + "'?)";
    }

private:
    std::string file_;
    std::vector<ConfigError> errors_;
};

/// What a section walk found: the value node of each key written, for the checks after it.
struct Seen {
    std::map<std::string, YAML::Node, std::less<>> given;
    bool has(std::string_view key) const { return given.count(key) != 0; }
    /// Where the value of `key` is written, else `otherwise` (the section's own position).
    YAML::Mark mark(std::string_view key, const YAML::Mark& otherwise) const {
        auto it = given.find(key);
        return it == given.end() ? otherwise : it->second.Mark();
    }
};

/// Called instead of storing for the keys the loader's code reads itself (sections, and keys with
/// more to them than their row says).
using SettingHooks = std::map<std::string, std::function<void(const YAML::Node&, const std::string& path)>,
                              std::less<>>;

/// The table pass over one mapping of the main config (settings.h): unknown keys (with a "did you
/// mean"), duplicate keys, shapes, types and ranges from the rows of `section` ("" for the top
/// level, "imap[]" for one mailbox), each value stored into `*target`, the struct of that section.
/// Choices are not checked here but by check_choices, so that the loader decides where in its
/// messages they come (and which name they carry).
Seen walk_settings(Reader& r, const YAML::Node& node, std::string_view section, void* target,
                   const SettingHooks& hooks = {});
/// Stores the choice keys `seen` holds, or reports "SHOWN_AS.key: expected a, b or c, got 'x'".
void check_choices(Reader& r, const Seen& seen, std::string_view section, void* target,
                   const std::string& shown_as);
/// walk_settings, then check_choices under the section's own name.
Seen read_settings(Reader& r, const YAML::Node& node, std::string_view section, void* target,
                   const SettingHooks& hooks = {});

}  // namespace ticketd::config
