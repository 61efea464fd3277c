#include "config/rules_loader.h"

#include "parsers/headers.h"

#include <re2/re2.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "config/templates.h"

namespace ticketd::config {

namespace {

namespace fs = std::filesystem;

rules::Position position(const std::string& file, const YAML::Mark& m) {
    return {file, m.line >= 0 ? m.line + 1 : 0, m.column >= 0 ? m.column + 1 : 0};
}

ConfigError to_error(const rules::Position& at, std::string message) {
    return {at.file, at.line, at.column, std::move(message)};
}

std::string relative(const std::string& base_dir, const std::string& path) {
    if (path.empty() || fs::path(path).is_absolute()) return path;
    return (fs::path(base_dir.empty() ? "." : base_dir) / path).lexically_normal().string();
}

bool read_text_file(const std::string& path, std::string& out) {
    auto text = read_whole_file(path);
    if (text) out = std::move(*text);
    return text.has_value();
}


const std::vector<std::string> kPriorities{"low", "normal", "high", "urgent"};
const std::vector<std::string> kStatuses{"open", "pending", "resolved", "closed"};
const std::vector<std::string> kClassifications{"requester", "auto_reply", "bounce", "list"};

bool one_of(const std::vector<std::string>& allowed, const std::string& v) {
    return std::find(allowed.begin(), allowed.end(), v) != allowed.end();
}

std::string joined(const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
    return out;
}

std::string quote_list(const std::vector<std::string>& v) {
    if (v.size() == 1) return "'" + v[0] + "'";
    std::string out = "[";
    for (std::size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + v[i];
    return out + "]";
}

const std::map<std::string, rules::Field> kFields{
    {"from", rules::Field::from},         {"to", rules::Field::to},
    {"cc", rules::Field::cc},             {"recipient", rules::Field::recipient},
    {"subject", rules::Field::subject},   {"body", rules::Field::body},
    {"header", rules::Field::header},     {"attachment", rules::Field::attachment},
    {"size", rules::Field::size},         {"classification", rules::Field::classification},
    {"status", rules::Field::status},     {"priority", rules::Field::priority},
    {"tags", rules::Field::tags},         {"queue", rules::Field::queue},
};

const std::map<std::string, rules::Op> kOps{
    {"equals", rules::Op::equals},   {"contains", rules::Op::contains}, {"starts_with", rules::Op::starts_with},
    {"ends_with", rules::Op::ends_with}, {"matches", rules::Op::matches}, {"regex", rules::Op::regex},
    {"domain", rules::Op::domain},   {"in", rules::Op::in},             {"exists", rules::Op::exists},
    {"gt", rules::Op::gt},           {"ge", rules::Op::ge},             {"lt", rules::Op::lt},
    {"le", rules::Op::le},
};

bool is_address_field(rules::Field f) {
    return f == rules::Field::from || f == rules::Field::to || f == rules::Field::cc || f == rules::Field::recipient;
}

/// Reads one rule file. Positions in the model carry this file's name.
class RuleFileReader {
public:
    RuleFileReader(Reader& r, std::string file, std::map<std::string, rules::Position>& names)
        : r_(r), file_(std::move(file)), base_dir_(fs::path(file_).parent_path().string()), names_(names) {}

    void document(const YAML::Node& root, rules::RuleSet& out) {
        if (!root.IsDefined() || root.IsNull()) return;  // an empty file holds no rules
        r_.map(root, "",
               {
                   {"rules",
                    [&](const YAML::Node& n, const std::string&) {
                        if (!n.IsSequence()) return r_.error(n.Mark(), "rules: expected a list of rules");
                        for (std::size_t i = 0; i < n.size(); ++i) rule(n[i], "rules[" + std::to_string(i) + "]", out);
                    }},
                   {"tests",
                    [&](const YAML::Node& n, const std::string&) {
                        if (!n.IsSequence()) return r_.error(n.Mark(), "tests: expected a list of tests");
                        for (std::size_t i = 0; i < n.size(); ++i) test(n[i], "tests[" + std::to_string(i) + "]", out);
                    }},
               });
    }

private:
    rules::Position pos(const YAML::Node& n) const { return position(file_, n.Mark()); }

    void rule(const YAML::Node& node, const std::string& where, rules::RuleSet& out) {
        rules::Rule rule;
        rule.at = pos(node);
        bool have_then = false;
        YAML::Mark name_mark = node.Mark();
        r_.map(node, where,
               {
                   {"name",
                    [&](const YAML::Node& n, const std::string& p) {
                        name_mark = n.Mark();
                        r_.string(n, p, rule.name);
                    }},
                   {"on", [&](const YAML::Node& n, const std::string& p) { contexts(n, p, rule.on_new, rule.on_reply); }},
                   {"when", [&](const YAML::Node& n, const std::string& p) { rule.when = condition(n, p); }},
                   {"then",
                    [&](const YAML::Node& n, const std::string& p) {
                        have_then = true;
                        actions(n, p, rule.then);
                    }},
               });
        if (!node.IsMap()) return;
        if (rule.name.empty()) {
            r_.error(name_mark, where + ": every rule needs a name (it is what the trail shows)");
        } else if (auto [it, fresh] = names_.emplace(rule.name, rule.at); !fresh) {
            r_.error(name_mark, where + ": the rule name '" + rule.name + "' is already used at " + it->second.to_string());
        }
        if (!have_then) r_.error(node.Mark(), where + ": 'then:' is required (what the rule does)");
        out.rules.push_back(std::move(rule));
    }

    void contexts(const YAML::Node& n, const std::string& p, bool& on_new, bool& on_reply) {
        std::vector<std::string> v;
        r_.string_list(n, p, v);
        on_new = on_reply = false;
        for (const auto& c : v) {
            if (c == "new") on_new = true;
            else if (c == "reply") on_reply = true;
            else r_.error(n.Mark(), p + ": expected new or reply, got '" + c + "'");
        }
        if (v.empty()) r_.error(n.Mark(), p + ": name at least one of new, reply (or leave 'on:' out for both)");
    }

    rules::Condition condition(const YAML::Node& node, const std::string& where) {
        rules::Condition c;
        c.at = pos(node);
        if (!node.IsMap() || node.size() != 1) {
            r_.error(node.Mark(), where + ": expected one condition: all, any, not, or a field (" + field_names() + ")");
            c.kind = rules::Condition::Kind::any;  // never matches: the file is rejected anyway
            return c;
        }
        const auto kv = *node.begin();
        const std::string key = kv.first.Scalar();
        const YAML::Node& value = kv.second;
        const std::string path = where + "." + key;
        if (key == "all" || key == "any") {
            c.kind = key == "all" ? rules::Condition::Kind::all : rules::Condition::Kind::any;
            if (!value.IsSequence()) {
                r_.error(value.Mark(), path + ": expected a list of conditions");
                return c;
            }
            for (std::size_t i = 0; i < value.size(); ++i)
                c.children.push_back(condition(value[i], path + "[" + std::to_string(i) + "]"));
            return c;
        }
        if (key == "not") {
            c.kind = rules::Condition::Kind::negate;
            c.children.push_back(condition(value, path));
            return c;
        }
        auto field = kFields.find(key);
        if (field == kFields.end()) {
            std::map<std::string, int> known{{"all", 0}, {"any", 0}, {"not", 0}};
            for (const auto& [k, _] : kFields) known[k] = 0;
            r_.error(kv.first.Mark(), "unknown condition '" + key + "'" + hint(key, known));
            c.kind = rules::Condition::Kind::any;
            return c;
        }
        c.kind = rules::Condition::Kind::leaf;
        c.leaf = leaf(field->second, key, value, path);
        c.leaf.at = position(file_, kv.first.Mark());
        return c;
    }

    static std::string field_names() {
        std::string out;
        for (const auto& [k, _] : kFields) out += (out.empty() ? "" : ", ") + k;
        return out;
    }

    template <typename Map>
    static std::string hint(const std::string& name, const Map& known) {
        std::string best;
        std::size_t best_d = 3;
        for (const auto& [k, _] : known) {
            std::size_t d = edit_distance(name, k);
            if (d < best_d) best_d = d, best = k;
        }
        return best.empty() ? "" : " (did you mean '" + best + "'?)";
    }

    rules::Leaf leaf(rules::Field field, const std::string& key, const YAML::Node& value, const std::string& path) {
        rules::Leaf leaf;
        leaf.field = field;
        if (value.IsScalar()) {
            // `status: open` is `status: { equals: open }`.
            if (field == rules::Field::header || field == rules::Field::attachment) {
                r_.error(value.Mark(), path + ": expected a mapping like { name: X-Header, equals: value }");
                return leaf;
            }
            operand(leaf, key, rules::Op::equals, value, path + ".equals");
            return leaf;
        }
        if (!value.IsMap()) {
            r_.error(value.Mark(), path + ": expected an operator, like { contains: text }");
            return leaf;
        }
        std::vector<std::pair<rules::Op, YAML::Node>> ops;
        std::vector<std::string> op_names;
        YAML::Node name_node, part_node;
        bool have_part = false;
        std::map<std::string, std::function<void(const YAML::Node&, const std::string&)>> keys;
        for (const auto& [name, op] : kOps) {
            keys[name] = [&, op = op, name = name](const YAML::Node& n, const std::string&) {
                ops.emplace_back(op, n);
                op_names.push_back(name);
            };
        }
        keys["case_sensitive"] = [&](const YAML::Node& n, const std::string& p) { r_.boolean(n, p, leaf.case_sensitive); };
        if (field == rules::Field::header) keys["name"] = [&](const YAML::Node& n, const std::string&) { name_node = n; };
        if (field == rules::Field::attachment) {
            // attachment: { filename: { matches: '*.pdf' } } or { type: { starts_with: image/ } }
            for (const char* part : {"filename", "type"})
                keys[part] = [&, part](const YAML::Node& n, const std::string&) {
                    if (have_part) r_.error(n.Mark(), path + ": give one of filename and type per condition");
                    have_part = true;
                    part_node = n;
                    leaf.part = std::string(part) == "filename" ? rules::AttachmentPart::filename : rules::AttachmentPart::type;
                };
        }
        const std::size_t errors_before = r_.errors().size();
        r_.map(value, path, keys);
        const bool key_errors = r_.errors().size() > errors_before;
        if (field == rules::Field::header) {
            if (!name_node.IsScalar() || name_node.Scalar().empty()) {
                r_.error(value.Mark(), path + ": 'name:' is required (the header field, like X-Customer-Tier)");
                return leaf;
            }
            leaf.header_name = parsers::ascii_lower(name_node.Scalar());
        }
        if (field == rules::Field::attachment && have_part) {
            if (!ops.empty()) {
                r_.error(value.Mark(), path + ": put the operator inside filename: or type:, or use exists: alone");
                return leaf;
            }
            const std::string part_path = path + (leaf.part == rules::AttachmentPart::filename ? ".filename" : ".type");
            if (part_node.IsScalar()) {
                operand(leaf, key, rules::Op::equals, part_node, part_path + ".equals");
                return leaf;
            }
            auto inner = leaf;
            inner = this->leaf(rules::Field::subject, key, part_node, part_path);  // same operators as text
            inner.field = rules::Field::attachment;
            inner.part = leaf.part;
            inner.text = std::string("attachment ") + (leaf.part == rules::AttachmentPart::filename ? "filename " : "type ") +
                         inner.text.substr(inner.text.find(' ') + 1);
            return inner;
        }
        if (ops.empty() && key_errors) return leaf;  // a misspelt operator: already reported
        if (ops.size() != 1) {
            r_.error(value.Mark(), path + (ops.empty() ? ": no operator (equals, contains, starts_with, ends_with, "
                                                         "matches, regex, domain, in, exists, gt, ge, lt, le)"
                                                       : ": one operator per condition; combine several with all:"));
            return leaf;
        }
        operand(leaf, key, ops[0].first, ops[0].second, path + "." + op_names[0]);
        return leaf;
    }

    /// Reads the operand of `op` into `leaf` and checks it fits the field.
    void operand(rules::Leaf& leaf, const std::string& key, rules::Op op, const YAML::Node& n, const std::string& path) {
        leaf.op = op;
        const rules::Field f = leaf.field;
        std::string subject = key == "header" ? "header " + leaf.header_name : key;
        auto fail = [&](const std::string& msg) { r_.error(n.Mark(), path + ": " + msg); };
        auto texts = [&](std::vector<std::string>& out) {
            r_.string_list(n, path, out);
            if (out.empty()) fail("expected at least one value");
        };
        switch (op) {
            case rules::Op::exists: {
                if (f == rules::Field::size || f == rules::Field::classification || f == rules::Field::status ||
                    f == rules::Field::priority)
                    return fail(std::string("every message has a ") + key + "; exists does not apply");
                r_.boolean(n, path, leaf.exists);
                leaf.text = subject + (leaf.exists ? " exists" : " does not exist");
                return;
            }
            case rules::Op::gt:
            case rules::Op::ge:
            case rules::Op::lt:
            case rules::Op::le:
                if (f != rules::Field::size && f != rules::Field::priority)
                    return fail("numeric comparisons apply to size and priority only");
                [[fallthrough]];
            case rules::Op::equals:
                if (f == rules::Field::size || (f == rules::Field::priority && op != rules::Op::equals)) {
                    if (!r_.scalar(n, path)) return;
                    leaf.numeric = true;
                    if (f == rules::Field::size) {
                        auto v = parse_size(n.Scalar());
                        if (!v) return fail("expected a size like 512K or 5M, got '" + n.Scalar() + "'");
                        leaf.number = static_cast<std::int64_t>(*v);
                    } else {
                        auto it = std::find(kPriorities.begin(), kPriorities.end(), parsers::ascii_lower(n.Scalar()));
                        if (it == kPriorities.end()) return fail("expected one of " + joined(kPriorities));
                        leaf.number = it - kPriorities.begin();
                    }
                    leaf.text = subject + " " + rules::to_string(op) + " " + n.Scalar();
                    return;
                }
                break;
            default:
                if (f == rules::Field::size) return fail("size takes equals, gt, ge, lt or le");
                break;
        }
        if (op == rules::Op::domain && !is_address_field(f))
            return fail("domain applies to from, to, cc and recipient");
        if (op == rules::Op::regex || op == rules::Op::matches) {
            std::vector<std::string> sources;
            texts(sources);
            RE2::Options opts;
            opts.set_case_sensitive(leaf.case_sensitive);
            opts.set_log_errors(false);
            opts.set_dot_nl(true);
            for (const auto& s : sources) {
                const std::string pattern = op == rules::Op::matches ? rules::glob_to_regex(s) : s;
                auto re = std::make_shared<RE2>(pattern, opts);
                if (!re->ok()) {
                    fail(std::string(op == rules::Op::regex ? "bad regex '" : "bad glob '") + s + "': " + re->error());
                    continue;
                }
                leaf.patterns.push_back(std::move(re));
            }
            leaf.text = subject + " " + rules::to_string(op) + " " + quote_list(sources);
            return;
        }
        if (op == rules::Op::in) {
            auto set = std::make_shared<std::unordered_set<std::string>>();
            std::string described;
            if (n.IsMap()) {
                // in: { file: vip-addresses.txt }: one address (or value) a line, # comments.
                std::string file;
                r_.map(n, path, {{"file", [&](const YAML::Node& v, const std::string& p) { r_.string(v, p, file); }}});
                if (file.empty()) return fail("expected a list, or { file: PATH }");
                const std::string resolved = relative(base_dir_, file);
                std::string content;
                if (!read_text_file(resolved, content)) return fail("cannot read '" + resolved + "'");
                files_read_.push_back(resolved);
                std::istringstream lines(content);
                std::string line;
                while (std::getline(lines, line)) {
                    auto hash = line.find('#');
                    if (hash != std::string::npos) line.erase(hash);
                    auto b = line.find_first_not_of(" \t\r");
                    if (b == std::string::npos) continue;
                    auto e = line.find_last_not_of(" \t\r");
                    std::string v = line.substr(b, e - b + 1);
                    set->insert(leaf.case_sensitive ? v : rules::fold(v));
                }
                described = "file " + file + " (" + std::to_string(set->size()) + " entries)";
            } else {
                std::vector<std::string> values;
                texts(values);
                for (const auto& v : values) set->insert(leaf.case_sensitive ? v : rules::fold(v));
                described = quote_list(values);
            }
            leaf.set = std::move(set);
            leaf.text = subject + " in " + described;
            return;
        }
        std::vector<std::string> values;
        texts(values);
        const std::vector<std::string>* allowed = f == rules::Field::status ? &kStatuses
                                                  : f == rules::Field::priority ? &kPriorities
                                                  : f == rules::Field::classification ? &kClassifications
                                                                                       : nullptr;
        if (allowed && op == rules::Op::equals)
            for (const auto& v : values)
                if (!one_of(*allowed, parsers::ascii_lower(v)))
                    fail("'" + v + "' is not a " + key + " (" + joined(*allowed) + ")");
        for (const auto& v : values) leaf.values.push_back(leaf.case_sensitive ? v : rules::fold(v));
        leaf.text = subject + " " + rules::to_string(op) + " " + quote_list(values);
    }

    void actions(const YAML::Node& node, const std::string& where, rules::Actions& a) {
        auto choice = [&](const std::vector<std::string>& allowed, std::optional<std::string>& out) {
            return [&](const YAML::Node& n, const std::string& p) {
                std::string v;
                r_.string(n, p, v);
                v = parsers::ascii_lower(v);
                if (!one_of(allowed, v)) return r_.error(n.Mark(), p + ": expected one of " + joined(allowed) + ", got '" + v + "'");
                out = v;
            };
        };
        auto tag_list = [&](std::vector<std::string>& out) {
            return [&](const YAML::Node& n, const std::string& p) {
                r_.string_list(n, p, out);
                for (auto& t : out) {
                    t = parsers::ascii_lower(t);
                    if (t.empty() || t.find_first_of(" \t,") != std::string::npos)
                        r_.error(n.Mark(), p + ": '" + t + "' is not a tag (no spaces or commas)");
                }
            };
        };
        r_.map(node, where,
               {
                   {"priority", choice(kPriorities, a.priority)},
                   {"status", choice(kStatuses, a.status)},
                   {"queue",
                    [&](const YAML::Node& n, const std::string& p) {
                        std::string v;
                        r_.string(n, p, v);
                        a.queue = v;
                        a.queue_at = pos(n);
                    }},
                   {"assign",
                    [&](const YAML::Node& n, const std::string& p) {
                        std::string v;
                        r_.string(n, p, v);
                        a.assign = v;
                        a.assign_at = pos(n);
                    }},
                   {"tags", tag_list(a.add_tags)},
                   {"remove_tags", tag_list(a.remove_tags)},
                   {"auto_reply",
                    [&](const YAML::Node& n, const std::string& p) {
                        if (!r_.scalar(n, p)) return;
                        a.auto_reply_at = pos(n);
                        if (auto b = parse_bool(n.Scalar())) {
                            if (*b) return r_.error(n.Mark(), p + ": name the template to send (auto_reply: NAME), or false");
                            a.auto_reply = rules::AutoReply{false, ""};
                            return;
                        }
                        a.auto_reply = rules::AutoReply{true, n.Scalar()};
                    }},
                   {"notify",
                    [&](const YAML::Node& n, const std::string& p) {
                        r_.string_list(n, p, a.notify);
                        if (n.IsSequence()) {
                            for (const auto& item : n) a.notify_at.push_back(pos(item));
                        } else {
                            a.notify_at.assign(a.notify.size(), pos(n));
                        }
                        a.notify_at.resize(a.notify.size(), pos(n));
                    }},
                   {"spam",
                    [&](const YAML::Node& n, const std::string& p) {
                        bool v = false;
                        r_.boolean(n, p, v);
                        a.spam = v;
                    }},
                   {"stop", [&](const YAML::Node& n, const std::string& p) { r_.boolean(n, p, a.stop); }},
               });
    }

    void test(const YAML::Node& node, const std::string& where, rules::RuleSet& out) {
        rules::RuleTest t;
        t.at = pos(node);
        bool have_message = false, have_eml = false;
        YAML::Node eml_node;
        r_.map(node, where,
               {
                   {"name", [&](const YAML::Node& n, const std::string& p) { r_.string(n, p, t.name); }},
                   {"message",
                    [&](const YAML::Node& n, const std::string& p) {
                        have_message = true;
                        r_.string(n, p, t.message);
                    }},
                   {"eml",
                    [&](const YAML::Node& n, const std::string& p) {
                        have_eml = true;
                        eml_node = n;
                        r_.string(n, p, t.eml_path);
                    }},
                   {"on",
                    [&](const YAML::Node& n, const std::string& p) {
                        std::string v;
                        r_.string(n, p, v);
                        if (v == "new") t.context = rules::Context::new_ticket;
                        else if (v == "reply") t.context = rules::Context::reply;
                        else r_.error(n.Mark(), p + ": expected new or reply, got '" + v + "'");
                    }},
                   {"ticket", [&](const YAML::Node& n, const std::string& p) { ticket(n, p, t.ticket); }},
                   {"expect", [&](const YAML::Node& n, const std::string& p) { expect(n, p, t.expect); }},
               });
        if (!node.IsMap()) return;
        if (t.name.empty()) t.name = where;
        if (have_message == have_eml) {
            r_.error(node.Mark(), where + ": give exactly one of message: (the text) and eml: (a file)");
        } else if (have_eml) {
            t.eml_path = relative(base_dir_, t.eml_path);
            if (!read_text_file(t.eml_path, t.message))
                r_.error(eml_node.Mark(), where + ".eml: cannot read '" + t.eml_path + "'");
            else files_read_.push_back(t.eml_path);
        }
        out.tests.push_back(std::move(t));
    }

    void ticket(const YAML::Node& node, const std::string& where, rules::TicketState& t) {
        auto choice = [&](const std::vector<std::string>& allowed, std::string& out) {
            return [&](const YAML::Node& n, const std::string& p) {
                r_.string(n, p, out);
                if (!one_of(allowed, out)) r_.error(n.Mark(), p + ": expected one of " + joined(allowed));
            };
        };
        r_.map(node, where,
               {
                   {"status", choice(kStatuses, t.status)},
                   {"priority", choice(kPriorities, t.priority)},
                   {"queue", [&](const YAML::Node& n, const std::string& p) { r_.string(n, p, t.queue); }},
                   {"tags", [&](const YAML::Node& n, const std::string& p) { r_.string_list(n, p, t.tags); }},
               });
    }

    void expect(const YAML::Node& node, const std::string& where, rules::Expectation& e) {
        auto text = [&](std::optional<std::string>& out) {
            return [&](const YAML::Node& n, const std::string& p) {
                std::string v;
                r_.string(n, p, v);
                out = v;
            };
        };
        auto list = [&](std::optional<std::vector<std::string>>& out, bool lower) {
            return [&, lower](const YAML::Node& n, const std::string& p) {
                std::vector<std::string> v;
                if (n.IsSequence() && n.size() == 0) {
                    out = v;
                    return;
                }
                r_.string_list(n, p, v);
                if (lower)
                    for (auto& s : v) s = parsers::ascii_lower(s);
                out = v;
            };
        };
        r_.map(node, where,
               {
                   {"priority", text(e.priority)},
                   {"status", text(e.status)},
                   {"queue", text(e.queue)},
                   {"assign", text(e.assign)},
                   {"tags", list(e.tags, true)},
                   {"remove_tags", list(e.remove_tags, true)},
                   {"notify", list(e.notify, false)},
                   {"rules", list(e.rules, false)},
                   {"spam",
                    [&](const YAML::Node& n, const std::string& p) {
                        bool v = false;
                        r_.boolean(n, p, v);
                        e.spam = v;
                    }},
                   {"auto_reply",
                    [&](const YAML::Node& n, const std::string& p) {
                        if (!r_.scalar(n, p)) return;
                        if (auto b = parse_bool(n.Scalar()); b && !*b) e.auto_reply = rules::AutoReply{false, ""};
                        else e.auto_reply = rules::AutoReply{true, n.Scalar()};
                    }},
               });
    }

public:
    std::vector<std::string> files_read_;

private:
    Reader& r_;
    std::string file_;
    std::string base_dir_;
    std::map<std::string, rules::Position>& names_;
};

/// Rule names must be unique across every file of a rule set.
std::map<std::string, rules::Position> names_of(const rules::RuleSet& set) {
    std::map<std::string, rules::Position> names;
    for (const auto& r : set.rules) names.emplace(r.name, r.at);
    return names;
}

void load_one(const std::string& yaml, const std::string& name, rules::RuleSet& out, std::vector<ConfigError>& errors) {
    Reader r(name);
    auto names = names_of(out);
    YAML::Node root;
    try {
        root = YAML::Load(yaml);
    } catch (const YAML::ParserException& e) {
        r.error(e.mark, e.msg);
        errors.insert(errors.end(), r.errors().begin(), r.errors().end());
        return;
    }
    RuleFileReader reader(r, name, names);
    reader.document(root, out);
    out.files.push_back(name);
    out.files.insert(out.files.end(), reader.files_read_.begin(), reader.files_read_.end());
    errors.insert(errors.end(), r.errors().begin(), r.errors().end());
    rules::prepare(out);  // the body literals of every file so far, searched in one pass
}

}  // namespace

void read_rule_sources(Reader& r, const YAML::Node& node, const std::string& base_dir,
                       std::vector<std::string>& sources) {
    std::vector<std::string> written;
    r.string_list(node, "rules", written);
    for (const auto& w : written) {
        const std::string path = relative(base_dir, w);
        std::error_code ec;
        if (!fs::exists(path, ec)) {
            r.error(node.Mark(), "rules: '" + path + "' does not exist (a rule file or a directory of them)");
            continue;
        }
        sources.push_back(path);
    }
}

void read_agents(Reader& r, const YAML::Node& node, std::vector<Agent>& agents) {
    if (!node.IsSequence()) return r.error(node.Mark(), "agents: expected a list of {address, name, queues}");
    for (const auto& item : node) {
        Agent a;
        const Seen seen = read_settings(r, item, "agents[]", &a);  // the rows lower-case and check the address
        if (!item.IsMap()) continue;
        if (!seen.has("address")) r.error(item.Mark(), "agents[]: every agent needs an address");
        for (const auto& other : agents)
            if (other.address == a.address) r.error(item.Mark(), "agents[]: " + a.address + " is listed twice");
        agents.push_back(std::move(a));
    }
}

void read_queues(Reader& r, const YAML::Node& node, std::vector<std::string>& queues) {
    r.string_list(node, "queues", queues);
    for (const auto& q : queues)
        if (q.empty()) r.error(node.Mark(), "queues: a queue needs a name");
}

std::vector<std::string> rule_files(const std::vector<std::string>& sources) {
    std::vector<std::string> files;
    for (const auto& s : sources) {
        std::error_code ec;
        if (!fs::is_directory(s, ec)) {
            files.push_back(s);
            continue;
        }
        std::vector<std::string> in_dir;
        for (const auto& e : fs::directory_iterator(s, ec)) {
            const auto ext = e.path().extension().string();
            const auto name = e.path().filename().string();
            // Editors' temporaries (.#x.yaml, x.yaml~) and hidden files are not rules.
            if ((ext == ".yaml" || ext == ".yml") && !name.empty() && name[0] != '.' && e.is_regular_file(ec))
                in_dir.push_back(e.path().string());
        }
        std::sort(in_dir.begin(), in_dir.end());
        files.insert(files.end(), in_dir.begin(), in_dir.end());
    }
    return files;
}

void load_rule_files(const std::vector<std::string>& files, rules::RuleSet& out, std::vector<ConfigError>& errors) {
    for (const auto& f : files) {
        std::string text;
        if (!read_text_file(f, text)) {
            errors.push_back({f, 0, 0, "cannot read the rule file"});
            continue;
        }
        load_one(text, f, out, errors);
    }
}

void load_rule_text(const std::string& yaml, const std::string& name, rules::RuleSet& out,
                    std::vector<ConfigError>& errors) {
    load_one(yaml, name, out, errors);
}

void validate_rules(Config& cfg, std::vector<ConfigError>& errors) {
    // A rule's auto_reply names a template even when no smtp:/templates: made the config load them.
    const bool names_templates = std::any_of(cfg.rules.rules.begin(), cfg.rules.rules.end(), [](const rules::Rule& r) {
        return r.then.auto_reply && r.then.auto_reply->enabled;
    });
    std::error_code ec;
    if (names_templates && cfg.templates.empty() && fs::is_directory(cfg.templates_dir, ec))
        cfg.templates = load_templates(cfg.templates_dir, errors);
    std::map<std::string, int> queues;
    for (const auto& q : cfg.queues) queues[q] = 0;
    for (const auto& a : cfg.agents)
        for (const auto& q : a.queues) queues[q] = 0;
    auto agent = [&](const std::string& who) -> const Agent* {
        const std::string l = parsers::ascii_lower(who);
        for (const auto& a : cfg.agents)
            if (a.address == l || parsers::ascii_lower(a.name) == l) return &a;
        return nullptr;
    };
    std::map<std::string, int> agent_names;
    for (const auto& a : cfg.agents) agent_names[a.address] = 0, agent_names[a.name] = 0;
    auto suggest = [](const std::string& name, const std::map<std::string, int>& known) {
        std::string best;
        std::size_t best_d = 3;
        for (const auto& [k, _] : known) {
            std::size_t d = edit_distance(name, k);
            if (d < best_d) best_d = d, best = k;
        }
        return best.empty() ? "" : " (did you mean '" + best + "'?)";
    };
    auto declared = [](const std::map<std::string, int>& m, const char* what) {
        if (m.empty()) return std::string(" (no ") + what + " are declared in the config)";
        return std::string();
    };
    for (auto& rule : cfg.rules.rules) {
        auto& a = rule.then;
        if (a.queue && !queues.count(*a.queue))
            errors.push_back(to_error(a.queue_at, "rule '" + rule.name + "': unknown queue '" + *a.queue + "'" +
                                                      suggest(*a.queue, queues) + declared(queues, "queues")));
        if (a.assign) {
            if (const Agent* ag = agent(*a.assign)) a.assign = ag->address;
            else
                errors.push_back(to_error(a.assign_at, "rule '" + rule.name + "': unknown agent '" + *a.assign + "'" +
                                                           suggest(*a.assign, agent_names) + declared(agent_names, "agents")));
        }
        for (std::size_t i = 0; i < a.notify.size(); ++i) {
            const auto& n = a.notify[i];
            if (agent(n) || queues.count(n) || n.find('@') != std::string::npos) continue;
            std::map<std::string, int> known = queues;
            known.insert(agent_names.begin(), agent_names.end());
            errors.push_back(to_error(a.notify_at[i], "rule '" + rule.name + "': notify '" + n +
                                                          "' is not an agent, a queue or an email address" + suggest(n, known)));
        }
        if (a.auto_reply && a.auto_reply->enabled && !cfg.templates.count(a.auto_reply->template_name)) {
            std::map<std::string, int> known;
            for (const auto& [name, _] : cfg.templates) known[name] = 0;
            errors.push_back(to_error(a.auto_reply_at, "rule '" + rule.name + "': unknown template '" +
                                                           a.auto_reply->template_name + "'" +
                                                           suggest(a.auto_reply->template_name, known) +
                                                           (known.empty() ? " (no templates in " + cfg.templates_dir + ")" : "")));
        }
    }
    for (const auto& p : rules::unreachable_rules(cfg.rules)) errors.push_back(to_error(p.at, p.message));
    // The tests run only over a rule set that loaded cleanly: their failures would be noise.
    if (errors.empty())
        for (const auto& p : rules::run_tests(cfg.rules, cfg.desk.addresses)) errors.push_back(to_error(p.at, p.message));
}

}  // namespace ticketd::config
