// The settings table (config/settings.h) against what it claims to drive: the reference in
// docs/config.md, the shipped example, and the structs' default values.

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <regex>
#include <set>
#include <sstream>

#include "config/config.h"
#include "config/settings.h"
#include "tests/support/paths.h"
#include "tests/unit/config/config_dir.h"

using namespace ticketd::config;
using ticketd::testing::read_file;
using ticketd::testing::source_dir;

namespace {

const char* kBegin = "<!-- settings:begin -->\n";
const char* kEnd = "<!-- settings:end -->";

/// The row of a section: "imap" for "imap[]", the top level (path "") for "".
const Setting& section_row(const std::string& section) {
    std::string name = section;
    if (name.size() > 2 && name.compare(name.size() - 2, 2, "[]") == 0) name.resize(name.size() - 2);
    if (name.empty()) return settings().front();
    const Setting* row = find_setting(name);
    if (!row) throw std::runtime_error("no row for section '" + section + "'");
    return *row;
}

/// Every key written in a YAML document, as the table spells it ("imap[].url").
void keys_of(const YAML::Node& node, const std::string& where, std::vector<std::string>& out) {
    if (node.IsMap()) {
        for (const auto& kv : node) {
            const std::string path = where.empty() ? kv.first.Scalar() : where + "." + kv.first.Scalar();
            out.push_back(path);
            keys_of(kv.second, path, out);
        }
    } else if (node.IsSequence()) {
        for (const auto& item : node)
            if (item.IsMap()) keys_of(item, where + "[]", out);
    }
}

}  // namespace

TEST(Settings, DocsConfigMdHoldsTheGeneratedReference) {
    const std::string doc = read_file(source_dir() / "docs" / "config.md");
    const auto begin = doc.find(kBegin);
    const auto end = doc.find(kEnd);
    ASSERT_NE(begin, std::string::npos) << "docs/config.md lacks the line " << kBegin;
    ASSERT_NE(end, std::string::npos) << "docs/config.md lacks the line " << kEnd;
    const std::string committed = doc.substr(begin + std::string(kBegin).size(), end - begin - std::string(kBegin).size());
    EXPECT_EQ(committed, settings_markdown())
        << "docs/config.md differs from the settings table (config/settings.cpp). Regenerate it:\n"
           "  build/daemon/ticketd check --settings > /tmp/settings.md && sed -i -e '/<!-- settings:begin -->/,"
           "/<!-- settings:end -->/{//!d}' -e '/<!-- settings:begin -->/r /tmp/settings.md' docs/config.md";
}

TEST(Settings, EveryRowIsInTheReferenceOnce) {
    const std::string md = settings_markdown();
    for (const auto& s : settings()) {
        if (s.path.empty() || s.kind == Kind::section || s.kind == Kind::sections) continue;
        const std::string key = "| `" + s.key() + "` |";
        // Keys repeat across sections (`url`); each section's table must hold its own.
        const std::string heading = s.section().empty() ? "### Top level" : "### `" + s.section() + "`";
        const auto at = md.find(heading);
        ASSERT_NE(at, std::string::npos) << s.path;
        const auto next = md.find("\n### ", at + 1);
        const std::string table = md.substr(at, next == std::string::npos ? std::string::npos : next - at);
        EXPECT_NE(table.find(key), std::string::npos) << s.path;
        EXPECT_EQ(table.find(key), table.rfind(key)) << s.path << " twice";
    }
}

TEST(Settings, EveryKeyOfTheShippedExampleIsARow) {
    const auto path = source_dir() / "config" / "ticketd.example.yaml";
    std::vector<std::string> keys;
    keys_of(YAML::LoadFile(path.string()), "", keys);
    ASSERT_GT(keys.size(), 40u);  // the example shows most keys
    for (const auto& k : keys) EXPECT_NE(find_setting(k), nullptr) << k << " in " << path << " has no row";
    // And the example loads (with the rows' validation).
    auto r = load_file(path.string());
    EXPECT_TRUE(r.errors.empty()) << (r.errors.empty() ? "" : r.errors[0].to_string());
}

// The example shows optional keys commented out (`# sla: sla.yaml`, `#   - {every: weekly, ...}`):
// those must be rows too, or uncommenting them would fail.
TEST(Settings, EveryCommentedOutKeyOfTheShippedExampleIsARow) {
    const std::regex commented(R"(^(\s*)# ?((\s*)(- \{|[a-z_]+:( |$)).*)$)");
    std::istringstream in(read_file(source_dir() / "config" / "ticketd.example.yaml"));
    std::string text, line;
    int uncommented = 0;
    for (std::smatch m; std::getline(in, line);) {
        if (std::regex_match(line, m, commented)) {
            line = m[1].str() + m[2].str();
            ++uncommented;
        }
        text += line + "\n";
    }
    EXPECT_GE(uncommented, 5);  // ca_file twice, require_starttls, sla, reports
    std::vector<std::string> keys;
    keys_of(YAML::Load(text), "", keys);
    for (const auto& k : keys) EXPECT_NE(find_setting(k), nullptr) << k << " (commented out in the example) has no row";
}

// The structs keep their member initialisers (many callers build them without the loader); this
// proves each equals the default the table documents, so the reference cannot lie.
TEST(Settings, StructInitialisersEqualTheTableDefaults) {
    int checked = 0;
    for (const auto& s : settings()) {
        if (s.default_value.empty()) continue;
        ASSERT_TRUE(s.store.set) << s.path << " has a default but no store";
        const Setting& sec = section_row(s.section());
        ASSERT_TRUE(sec.fresh) << s.path;
        auto fresh = sec.fresh(), from_table = sec.fresh();
        auto v = parse_setting(s, s.default_value);
        ASSERT_TRUE(std::holds_alternative<Value>(v)) << s.path << ": " << std::get<std::string>(v);
        ASSERT_TRUE(s.store.set(from_table.get(), std::get<Value>(v))) << s.path << ": " << s.default_value;
        EXPECT_TRUE(s.store.same(fresh.get(), from_table.get()))
            << s.path << ": the struct's initialiser is not the documented default " << s.default_value;
        ++checked;
    }
    EXPECT_GT(checked, 30);
}

TEST(Settings, DefaultsTestCanFail) {
    // The comparison above must see a difference when there is one.
    const Setting* row = find_setting("imap[].poll_interval");
    ASSERT_NE(row, nullptr);
    auto a = section_row("imap[]").fresh(), b = section_row("imap[]").fresh();
    ASSERT_TRUE(row->store.set(b.get(), Value{std::chrono::seconds(61)}));
    EXPECT_FALSE(row->store.same(a.get(), b.get()));
}

TEST(Settings, RowsAreWellFormed) {
    std::set<std::string> paths;
    for (const auto& s : settings()) {
        EXPECT_TRUE(paths.insert(s.path).second) << s.path << " twice";
        if (s.path.empty()) continue;
        EXPECT_FALSE(s.doc.empty()) << s.path;
        if (s.kind == Kind::integer || s.kind == Kind::size) {
            EXPECT_LT(s.min, s.max) << s.path;
        }
        if (s.kind == Kind::choice) {
            EXPECT_FALSE(s.choices.empty()) << s.path;
            EXPECT_TRUE(s.store.set) << s.path;
        }
        if (s.kind != Kind::section && s.kind != Kind::sections) {
            (void)section_row(s.section());
        }
    }
}

TEST(Settings, ParseSettingUsesTheRowsRangeAndChoices) {
    const Setting* parts = find_setting("limits.max_parts");
    ASSERT_NE(parts, nullptr);
    EXPECT_EQ(std::get<std::string>(parse_setting(*parts, "0")), "0 is out of range (1 to 100000)");
    EXPECT_EQ(std::get<std::uint64_t>(std::get<Value>(parse_setting(*parts, "2K"))), 2048u);
    const Setting* after = find_setting("imap[].after_ingest");
    ASSERT_NE(after, nullptr);
    EXPECT_EQ(expected_choices(*after), "move, seen or delete");
    EXPECT_EQ(expected_choices(*find_setting("imap[].start_from")), "all, new or a date (YYYY-MM-DD)");
    EXPECT_EQ(std::get<std::string>(parse_setting(*find_setting("smtp.from"), "Not-An-Address")),
              "'not-an-address' is not an email address");
}

// The loader's table pass, through load_string: messages come from the rows.
namespace {

const std::string kDesk = "desk:\n  addresses: [support@example.com]\n  database: /var/lib/ticketd/desk.db\n";

std::vector<std::string> errors_of(const std::string& extra) {
    std::vector<std::string> out;
    for (const auto& e : load_string(kDesk + extra, "t.yaml").errors) out.push_back(e.to_string());
    return out;
}

}  // namespace

TEST(SettingsLoader, ChoicesComeFromTheRows) {
    EXPECT_EQ(errors_of("logging:\n  level: loud\n"),
              std::vector<std::string>{
                  "t.yaml:5:10: logging.level: expected trace, debug, info, warn, error, critical or off, got 'loud'"});
    auto ok = load_string(kDesk + "logging:\n  level: debug\n", "t.yaml");
    ASSERT_TRUE(ok.config);
    EXPECT_EQ(ok.config->logging.level, "debug");
}

TEST(SettingsLoader, AddressRowsLowerCaseAndCheck) {
    auto ok = load_string(kDesk + "agents:\n  - {address: Dana@Example.COM}\n", "t.yaml");
    ASSERT_TRUE(ok.config) << ok.errors[0].to_string();
    EXPECT_EQ(ok.config->agents[0].address, "dana@example.com");
    EXPECT_EQ(errors_of("agents:\n  - {address: dana}\n"),
              std::vector<std::string>{"t.yaml:5:15: agents[].address: 'dana' is not an email address"});
    auto empty = load_string("desk:\n  addresses: ['']\n  database: d.db\n", "t.yaml");
    ASSERT_FALSE(empty.errors.empty());
    EXPECT_EQ(empty.errors[0].to_string(), "t.yaml:2:14: desk.addresses: '' is not an email address");
    EXPECT_EQ(errors_of("agents:\n  - {name: Dana}\n"),
              std::vector<std::string>{"t.yaml:5:5: agents[]: every agent needs an address"});
}

TEST(SettingsLoader, UnknownKeysInListSectionsGetAHint) {
    EXPECT_EQ(errors_of("agents:\n  - {address: d@x.org, queus: [billing]}\n"),
              std::vector<std::string>{"t.yaml:5:24: unknown key 'agents[].queus' (did you mean 'queues'?)"});
    EXPECT_EQ(errors_of("colour: blue\n"), std::vector<std::string>{"t.yaml:4:1: unknown key 'colour'"});
    EXPECT_EQ(errors_of("smpt: {url: smtps://x}\n"),
              std::vector<std::string>{"t.yaml:4:1: unknown key 'smpt' (did you mean 'smtp'?)"});
}

TEST(SettingsLoader, TopLevelRowsAreStored) {
    auto r = load_string(kDesk + "trusted_authserv_ids: [MX.Example.com]\nqueues: billing\n", "/etc/ticketd/t.yaml");
    ASSERT_TRUE(r.config) << r.errors[0].to_string();
    EXPECT_EQ(r.config->trusted_authserv_ids, std::vector<std::string>{"mx.example.com"});
    EXPECT_EQ(r.config->queues, std::vector<std::string>{"billing"});
    EXPECT_EQ(r.config->templates_dir, "/etc/ticketd/templates");  // the default, next to the file
}

TEST(SettingsLoader, EveryTopLevelRowHasAReader) {
    // A section added to the table but not to load_document is reported, never ignored; this
    // writes every top-level key once and looks for that report.
    for (const auto* row : settings_in("")) {
        if (row->key() == "desk") continue;
        const bool list = row->kind == Kind::sections || row->kind == Kind::strings || row->kind == Kind::addresses;
        const bool map = row->kind == Kind::section;
        const std::string yaml = kDesk + row->key() + ": " + (list ? "[]" : map ? "{}" : "x") + "\n";
        for (const auto& e : load_string(yaml, "t.yaml").errors)
            EXPECT_EQ(e.message.find("not read by this build"), std::string::npos) << row->key() << ": " << e.message;
    }
}

// smtp.connections (issue 5, throughput): parallel SMTP sessions, 1 to 16, 2 unless set.
TEST(SettingsLoader, SmtpConnectionsIsOneToSixteenAndTwoByDefault) {
    ticketd::testing::ConfigDir d;
    const std::string base =
        "desk:\n  addresses: [support@example.com]\n  database: t.db\nsmtp:\n  url: smtps://smtp.example.com:465\n";
    auto def = d.load(base);
    ASSERT_TRUE(def.config) << ticketd::testing::all_errors(def);
    EXPECT_EQ(def.config->smtp->connections, 2);
    auto one = d.load(base + "  connections: 1\n");
    ASSERT_TRUE(one.config) << ticketd::testing::all_errors(one);
    EXPECT_EQ(one.config->smtp->connections, 1);
    auto many = d.load(base + "  connections: 16\n");
    ASSERT_TRUE(many.config) << ticketd::testing::all_errors(many);
    EXPECT_EQ(many.config->smtp->connections, 16);
    for (const auto& [value, message] : std::vector<std::pair<std::string, std::string>>{
             {"0", "smtp.connections: 0 is out of range (1 to 16)"},
             {"17", "smtp.connections: 17 is out of range (1 to 16)"},
             {"two", "smtp.connections: expected a whole number, got 'two'"}}) {
        auto bad = d.load(base + "  connections: " + value + "\n");
        EXPECT_FALSE(bad.config) << value;
        EXPECT_NE(ticketd::testing::all_errors(bad).find("ticketd.yaml:6:16: " + message), std::string::npos)
            << ticketd::testing::all_errors(bad);
    }
}
