// Facts from a message, and the evaluation of a rule set over them.
#include <re2/re2.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <optional>
#include <sstream>
#include <unordered_map>

#include "rules/rules.h"

namespace ticketd::rules {

std::string Position::to_string() const {
    return file + ":" + std::to_string(line) + ":" + std::to_string(column);
}

const char* to_string(Field f) {
    switch (f) {
        case Field::from: return "from";
        case Field::to: return "to";
        case Field::cc: return "cc";
        case Field::recipient: return "recipient";
        case Field::subject: return "subject";
        case Field::body: return "body";
        case Field::header: return "header";
        case Field::attachment: return "attachment";
        case Field::size: return "size";
        case Field::classification: return "classification";
        case Field::status: return "status";
        case Field::priority: return "priority";
        case Field::tags: return "tags";
        case Field::queue: return "queue";
    }
    return "?";
}

const char* to_string(Op op) {
    switch (op) {
        case Op::equals: return "equals";
        case Op::contains: return "contains";
        case Op::starts_with: return "starts_with";
        case Op::ends_with: return "ends_with";
        case Op::matches: return "matches";
        case Op::regex: return "regex";
        case Op::domain: return "domain";
        case Op::in: return "in";
        case Op::exists: return "exists";
        case Op::gt: return "gt";
        case Op::ge: return "ge";
        case Op::lt: return "lt";
        case Op::le: return "le";
    }
    return "?";
}

const char* to_string(Context c) { return c == Context::new_ticket ? "new" : "reply"; }

namespace {

Text text(std::string raw) {
    Text t;
    t.folded = fold(raw);
    t.raw = std::move(raw);
    return t;
}

std::string ascii_lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

/// "local+anything@domain" names the same mailbox as "local@domain".
std::string base_address(const std::string& folded) {
    auto at = folded.rfind('@');
    auto plus = folded.find('+');
    if (at == std::string::npos || plus == std::string::npos || plus > at) return folded;
    return folded.substr(0, plus) + folded.substr(at);
}

int priority_rank(std::string_view p) {
    static constexpr std::array<std::string_view, 4> order{"low", "normal", "high", "urgent"};
    for (std::size_t i = 0; i < order.size(); ++i)
        if (order[i] == p) return static_cast<int>(i);
    return -1;
}

std::string_view domain_of(std::string_view address) {
    auto at = address.rfind('@');
    return at == std::string_view::npos ? std::string_view{} : address.substr(at + 1);
}

bool compare(std::int64_t have, Op op, std::int64_t want) {
    switch (op) {
        case Op::gt: return have > want;
        case Op::ge: return have >= want;
        case Op::lt: return have < want;
        case Op::le: return have <= want;
        case Op::equals: return have == want;
        default: return false;
    }
}

bool match_text(const Leaf& leaf, const Text& t) {
    const std::string& s = leaf.case_sensitive ? t.raw : t.folded;
    switch (leaf.op) {
        case Op::equals:
            return std::any_of(leaf.values.begin(), leaf.values.end(), [&](const auto& v) { return s == v; });
        case Op::contains:
            return std::any_of(leaf.values.begin(), leaf.values.end(),
                               [&](const auto& v) { return s.find(v) != std::string::npos; });
        case Op::starts_with:
            return std::any_of(leaf.values.begin(), leaf.values.end(),
                               [&](const auto& v) { return s.compare(0, v.size(), v) == 0; });
        case Op::ends_with:
            return std::any_of(leaf.values.begin(), leaf.values.end(), [&](const auto& v) {
                return s.size() >= v.size() && s.compare(s.size() - v.size(), v.size(), v) == 0;
            });
        case Op::matches:
            return std::any_of(leaf.patterns.begin(), leaf.patterns.end(),
                               [&](const auto& p) { return RE2::FullMatch(t.raw, *p); });
        case Op::regex:
            return std::any_of(leaf.patterns.begin(), leaf.patterns.end(),
                               [&](const auto& p) { return RE2::PartialMatch(t.raw, *p); });
        case Op::domain: {
            std::string_view d = domain_of(s);
            if (d.empty()) return false;
            // The domain itself or any subdomain of it: mail.bigcorp.example is bigcorp.example.
            return std::any_of(leaf.values.begin(), leaf.values.end(), [&](const auto& v) {
                return d == v || (d.size() > v.size() && d.compare(d.size() - v.size(), v.size(), v) == 0 &&
                                  d[d.size() - v.size() - 1] == '.');
            });
        }
        case Op::in: return leaf.set && leaf.set->count(s) > 0;
        default: return false;
    }
}

bool match_any(const Leaf& leaf, const std::vector<Text>& values) {
    if (leaf.op == Op::exists) return values.empty() != leaf.exists;
    return std::any_of(values.begin(), values.end(), [&](const Text& t) { return match_text(leaf, t); });
}

bool match_one(const Leaf& leaf, const Text& value) {
    if (leaf.op == Op::exists) return value.raw.empty() != leaf.exists;
    return match_text(leaf, value);
}

/// The body's `contains` literals, searched once per evaluation when the first leaf asks.
class BodyScan {
public:
    BodyScan(const RuleSet& rules, const Facts& facts) : rules_(rules), facts_(facts) {}

    /// The leaf's answer from the shared scan; nullopt when the leaf is not indexed (or was
    /// indexed for another set), and the caller searches itself.
    std::optional<bool> contains(const Leaf& leaf) {
        const bool raw = leaf.case_sensitive;
        const LiteralSet* set = raw ? rules_.body_raw.get() : rules_.body_folded.get();
        if (!set || leaf.literal_ids.size() != leaf.values.size()) return std::nullopt;
        for (std::size_t i = 0; i < leaf.values.size(); ++i)
            if (leaf.literal_ids[i] >= set->size() || set->literal(leaf.literal_ids[i]) != leaf.values[i])
                return std::nullopt;
        auto& found = raw ? raw_ : folded_;
        if (!found) found = set->find_all(raw ? facts_.body.raw : facts_.body.folded);
        return std::any_of(leaf.literal_ids.begin(), leaf.literal_ids.end(), [&](auto id) { return (*found)[id] != 0; });
    }

private:
    const RuleSet& rules_;
    const Facts& facts_;
    std::optional<std::vector<char>> folded_, raw_;
};

bool match_leaf(const Leaf& leaf, const Facts& f, BodyScan& scan) {
    if (leaf.field == Field::body && leaf.op == Op::contains)
        if (auto hit = scan.contains(leaf)) return *hit;
    switch (leaf.field) {
        case Field::from: return match_any(leaf, f.from);
        case Field::to: return match_any(leaf, f.to);
        case Field::cc: return match_any(leaf, f.cc);
        case Field::recipient: return match_any(leaf, f.recipient);
        case Field::subject: return match_one(leaf, f.subject);
        case Field::body: return match_one(leaf, f.body);
        case Field::header: {
            bool found = false;
            for (const auto& h : f.headers) {
                if (h.name != leaf.header_name) continue;
                found = true;
                if (leaf.op != Op::exists && match_text(leaf, h.value)) return true;
            }
            return leaf.op == Op::exists ? found == leaf.exists : false;
        }
        case Field::attachment: {
            if (leaf.op == Op::exists) return f.attachments.empty() != leaf.exists;
            for (const auto& a : f.attachments) {
                if (leaf.part == AttachmentPart::filename ? match_text(leaf, a.filename)
                                                          : match_text(leaf, Text{a.type, a.type}))
                    return true;
            }
            return false;
        }
        case Field::size: return compare(static_cast<std::int64_t>(f.size), leaf.op, leaf.number);
        case Field::classification: return match_one(leaf, Text{f.classification, f.classification});
        case Field::status: return match_one(leaf, Text{f.ticket.status, f.ticket.status});
        case Field::priority:
            if (leaf.numeric) return compare(priority_rank(f.ticket.priority), leaf.op, leaf.number);
            return match_one(leaf, Text{f.ticket.priority, f.ticket.priority});
        case Field::queue: return match_one(leaf, Text{f.ticket.queue, fold(f.ticket.queue)});
        case Field::tags: return match_any(leaf, f.tags);
    }
    return false;
}

/// The leaf whose result settled a condition (short-circuit order), and whether an odd number of
/// `not`s stand above it; no leaf when none did (no conditions, an empty list).
struct Decider {
    const Leaf* leaf = nullptr;
    bool negated = false;
};

bool eval(const Condition& c, const Facts& f, Decider& d, BodyScan& scan) {
    switch (c.kind) {
        case Condition::Kind::always: d = {}; return true;
        case Condition::Kind::leaf: d = {&c.leaf, false}; return match_leaf(c.leaf, f, scan);
        case Condition::Kind::negate: {
            const bool inner = eval(c.children.front(), f, d, scan);
            d.negated = !d.negated;
            return !inner;
        }
        case Condition::Kind::all:
            d = {};
            for (const auto& child : c.children)
                if (!eval(child, f, d, scan)) return false;
            return true;
        case Condition::Kind::any:
            d = {};
            for (const auto& child : c.children)
                if (eval(child, f, d, scan)) return true;
            return false;
    }
    return false;
}

void add_unique(std::vector<std::string>& v, const std::string& s) {
    if (std::find(v.begin(), v.end(), s) == v.end()) v.push_back(s);
}

void erase(std::vector<std::string>& v, const std::string& s) {
    v.erase(std::remove(v.begin(), v.end(), s), v.end());
}

void apply(const Rule& rule, Outcome& out) {
    const Actions& a = rule.then;
    Fired fired{rule.name, rule.at, {}};
    auto set = [&](std::optional<std::string>& slot, const std::optional<std::string>& v, const char* name) {
        if (!v) return;
        slot = *v;
        fired.changes.push_back(std::string(name) + "=" + *v);
    };
    set(out.priority, a.priority, "priority");
    set(out.status, a.status, "status");
    set(out.queue, a.queue, "queue");
    set(out.assign, a.assign, "assign");
    for (const auto& t : a.add_tags) {
        erase(out.remove_tags, t);
        add_unique(out.add_tags, t);
        fired.changes.push_back("tags+" + t);
    }
    for (const auto& t : a.remove_tags) {
        erase(out.add_tags, t);
        add_unique(out.remove_tags, t);
        fired.changes.push_back("tags-" + t);
    }
    if (a.auto_reply) {
        out.auto_reply = a.auto_reply;
        fired.changes.push_back("auto_reply=" + (a.auto_reply->enabled ? a.auto_reply->template_name : "false"));
    }
    for (const auto& n : a.notify) {
        add_unique(out.notify, n);
        fired.changes.push_back("notify+" + n);
    }
    if (a.spam) {
        out.spam = *a.spam;
        fired.changes.push_back(*a.spam ? "spam" : "spam=false");
    }
    if (a.stop) fired.changes.push_back("stop");
    out.fired.push_back(std::move(fired));
}

}  // namespace

std::string glob_to_regex(std::string_view glob) {
    std::string out;
    out.reserve(glob.size() * 2);
    for (std::size_t i = 0; i < glob.size(); ++i) {
        char c = glob[i];
        if (c == '*') {
            out += ".*";
        } else if (c == '?') {
            out += '.';
        } else if (c == '[') {
            auto close = glob.find(']', i + 2);
            if (close == std::string_view::npos) {
                out += "\\[";
                continue;
            }
            std::string_view body = glob.substr(i + 1, close - i - 1);
            out += '[';
            if (!body.empty() && body[0] == '!') {
                out += '^';
                body.remove_prefix(1);
            }
            for (char b : body) {
                if (b == '\\' || b == '[' || b == ']' || b == '^') out += '\\';
                out += b;
            }
            out += ']';
            i = close;
        } else {
            if (!(std::isalnum(static_cast<unsigned char>(c)) || static_cast<unsigned char>(c) >= 0x80))
                out += '\\';
            out += c;
        }
    }
    return out;
}

Facts make_facts(const parsers::Message& msg, Context context, const TicketState& ticket,
                 const std::vector<std::string>& our_addresses) {
    Facts f;
    f.context = context;
    auto addresses = [](const std::vector<parsers::Address>& list, std::vector<Text>& out) {
        out.reserve(list.size());
        for (const auto& a : list) out.push_back(text(a.address));
    };
    addresses(msg.from.empty() ? msg.sender : msg.from, f.from);
    addresses(msg.to, f.to);
    addresses(msg.cc, f.cc);
    auto ours = [&](const std::string& folded) {
        const std::string base = base_address(folded);
        return std::find(our_addresses.begin(), our_addresses.end(), base) != our_addresses.end();
    };
    auto recipient = [&](const Text& t) {
        if (!ours(t.folded)) return;
        Text base = text(base_address(t.folded));  // support+1042.x@ names support@
        if (std::none_of(f.recipient.begin(), f.recipient.end(), [&](const Text& r) { return r.folded == base.folded; }))
            f.recipient.push_back(std::move(base));
    };
    for (const auto& t : f.to) recipient(t);
    for (const auto& t : f.cc) recipient(t);
    f.subject = text(msg.subject);
    f.body = text(msg.body);
    f.headers.reserve(msg.headers.size());
    for (const auto& h : msg.headers) {
        std::string name = ascii_lower(h.name);
        if (name == "delivered-to" || name == "x-original-to" || name == "envelope-to") {
            std::string v(h.value);
            auto lt = v.find('<');
            if (lt != std::string::npos) v = v.substr(lt + 1, v.find('>', lt) - lt - 1);
            recipient(text(std::string(v.begin(), std::find_if(v.begin(), v.end(), [](unsigned char c) {
                return std::isspace(c);
            }))));
        }
        f.headers.push_back({std::move(name), text(h.value)});
    }
    for (const auto& a : msg.attachments) f.attachments.push_back({text(a.filename), ascii_lower(a.content_type)});
    f.size = msg.raw_size;
    f.classification = parsers::to_string(msg.classification);
    f.ticket = ticket;
    for (const auto& t : ticket.tags) f.tags.push_back(text(t));
    return f;
}

Outcome evaluate(const RuleSet& rules, const Facts& facts, std::vector<RuleTrace>* trace) {
    Outcome out;
    if (trace) trace->clear();
    BodyScan scan(rules, facts);
    for (std::size_t i = 0; i < rules.rules.size(); ++i) {
        const Rule& rule = rules.rules[i];
        const bool in_context = facts.context == Context::new_ticket ? rule.on_new : rule.on_reply;
        if (!in_context) {
            if (trace) trace->push_back({rule.name, rule.at, RuleTrace::Result::wrong_context, ""});
            continue;
        }
        Decider decider;
        const bool matched = eval(rule.when, facts, decider, scan);
        if (trace) {
            RuleTrace t{rule.name, rule.at, matched ? RuleTrace::Result::matched : RuleTrace::Result::not_matched, ""};
            if (decider.leaf)
                t.decided_by = (decider.negated ? "not " : "") + decider.leaf->text + " (" + decider.leaf->at.to_string() + ")";
            trace->push_back(std::move(t));
        }
        if (!matched) continue;
        apply(rule, out);
        if (rule.then.stop) {
            out.stopped_by = rule.name;
            if (trace)
                for (std::size_t j = i + 1; j < rules.rules.size(); ++j)
                    trace->push_back({rules.rules[j].name, rules.rules[j].at, RuleTrace::Result::not_reached, ""});
            break;
        }
    }
    std::sort(out.add_tags.begin(), out.add_tags.end());
    std::sort(out.remove_tags.begin(), out.remove_tags.end());
    return out;
}

namespace {

struct LiteralIds {
    std::vector<std::string> list;
    std::unordered_map<std::string, std::uint32_t> ids;
    std::uint32_t id(const std::string& v) {
        auto [it, added] = ids.emplace(v, static_cast<std::uint32_t>(list.size()));
        if (added) list.push_back(v);
        return it->second;
    }
};

void index_literals(Condition& c, LiteralIds& folded, LiteralIds& raw) {
    for (auto& child : c.children) index_literals(child, folded, raw);
    if (c.kind != Condition::Kind::leaf) return;
    Leaf& leaf = c.leaf;
    leaf.literal_ids.clear();
    if (leaf.field != Field::body || leaf.op != Op::contains) return;
    auto& ids = leaf.case_sensitive ? raw : folded;
    for (const auto& v : leaf.values) leaf.literal_ids.push_back(ids.id(v));
}

}  // namespace

void prepare(RuleSet& rules) {
    LiteralIds folded, raw;
    for (auto& r : rules.rules) index_literals(r.when, folded, raw);
    rules.body_folded = folded.list.empty() ? nullptr : std::make_shared<const LiteralSet>(folded.list);
    rules.body_raw = raw.list.empty() ? nullptr : std::make_shared<const LiteralSet>(raw.list);
}

bool always_true(const Condition& c) {
    switch (c.kind) {
        case Condition::Kind::always: return true;
        case Condition::Kind::leaf: return false;
        case Condition::Kind::all:
            return std::all_of(c.children.begin(), c.children.end(), [](const Condition& x) { return always_true(x); });
        case Condition::Kind::any:
            return std::any_of(c.children.begin(), c.children.end(), [](const Condition& x) { return always_true(x); });
        case Condition::Kind::negate: {
            // not(any: []) is always true; anything else we do not try to prove.
            const Condition& inner = c.children.front();
            return inner.kind == Condition::Kind::any && inner.children.empty();
        }
    }
    return false;
}

std::vector<Problem> unreachable_rules(const RuleSet& rules) {
    std::vector<Problem> problems;
    const Rule* blocks_new = nullptr;
    const Rule* blocks_reply = nullptr;
    for (const auto& rule : rules.rules) {
        const bool dead = (!rule.on_new || blocks_new) && (!rule.on_reply || blocks_reply);
        if (dead) {
            const Rule* by = rule.on_new ? blocks_new : blocks_reply;
            problems.push_back({rule.at, "rule '" + rule.name + "' can never fire: rule '" + by->name + "' (" +
                                             by->at.to_string() + ") always matches and stops"});
            continue;
        }
        if (rule.then.stop && always_true(rule.when)) {
            if (rule.on_new && !blocks_new) blocks_new = &rule;
            if (rule.on_reply && !blocks_reply) blocks_reply = &rule;
        }
    }
    return problems;
}

}  // namespace ticketd::rules
