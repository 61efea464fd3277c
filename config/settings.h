#pragma once
// Every key of the main config file in one table (issue 7): its dotted path, type, default, a
// one-line doc and where its value is stored. The loader validates keys, types, ranges and
// choices from these rows, `ticketd check --settings` prints them as the reference in
// docs/config.md, and a unit test proves the structs' initialisers equal the defaults written
// here, so the three cannot drift. Adding a key is adding a row in settings.cpp.
//
// Rule files and sla.yaml have their own loaders and are not in this table.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace ticketd::config {

enum class Kind {
    section,    ///< a mapping of keys (`desk`)
    sections,   ///< a list of mappings (`imap[]`)
    string,
    path,       ///< a string; relative paths are relative to the config file
    command,    ///< a string run by the shell
    url,
    boolean,
    duration,
    size,       ///< with min..max (bytes)
    integer,    ///< with min..max
    choice,     ///< one of `choices` (checked after the key walk, see check_choices)
    address,    ///< lower-cased and checked
    strings,    ///< a list of strings (a single value is a list of one)
    addresses,  ///< a list of addresses, lower-cased and checked
};

/// A value parsed from the text of one key, on its way into a struct.
using Value = std::variant<std::string, bool, std::chrono::seconds, std::uint64_t, std::int64_t,
                           std::vector<std::string>>;

/// How a row's value lands in its section's struct (a type-erased member pointer).
struct Store {
    /// Puts `v` into `*target`; false when the value is not acceptable (an unknown choice).
    std::function<bool(void* target, const Value& v)> set;
    /// Whether two structs hold the same value here (the defaults test).
    std::function<bool(const void* a, const void* b)> same;
};

struct Setting {
    std::string path;            ///< "imap[].poll_interval"; a section's own row is "imap[]"
    Kind kind = Kind::string;
    std::string default_value;   ///< as an admin would write it ("60s"); "" when none
    std::string default_note;    ///< when the default is not a literal: "required", "`desk.addresses[0]`"
    std::string doc;             ///< one line
    std::int64_t min = 0, max = 0;     ///< integer and size ranges, inclusive
    std::vector<std::string> choices;  ///< for Kind::choice
    std::string expected;        ///< choices beyond the list, in words ("all, new or a date (YYYY-MM-DD)")
    std::string type_note;       ///< the type column when the kind alone says too little
    Store store;                 ///< empty for rows the loader's code reads itself (sections)
    /// A default-constructed struct of this section (section rows only; the defaults test).
    std::function<std::shared_ptr<void>()> fresh;

    std::string section() const;  ///< "imap[]" for "imap[].url", "" for "desk"
    std::string key() const;      ///< "url" for "imap[].url"
};

/// Every row, sections first then their keys, in the order of the reference.
const std::vector<Setting>& settings();
/// The row of a dotted path, or null.
const Setting* find_setting(std::string_view path);
/// The rows directly under `section` ("" for the top level).
std::vector<const Setting*> settings_in(std::string_view section);

/// The text of one value parsed by the row's kind and range; the error message (without the path)
/// when it does not fit: "expected a duration like 30s, 5m, 2h or 14d, got 'soon'".
std::variant<Value, std::string> parse_setting(const Setting& row, const std::string& text);
/// "move, seen or delete" (or the row's `expected`).
std::string expected_choices(const Setting& row);

/// The markdown reference of every row (what docs/config.md holds between its markers).
std::string settings_markdown();

}  // namespace ticketd::config
