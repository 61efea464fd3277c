#pragma once
// The admins' rules (issue 4): the model a rule file loads into, and its evaluation.
//
// Pure: evaluate() is a function over (RuleSet, Facts). Loading the YAML (with file:line:col
// errors) lives in config/ (config/rules_loader.h), which knows this model; applying an Outcome
// to a ticket lives in tickets/. Matching is case-insensitive by default, on decoded UTF-8 with
// Unicode full case folding ("STRASSE" equals "straße"); `regex` is RE2, linear in the input.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "parsers/message.h"
#include "rules/literals.h"

namespace re2 {
class RE2;
}

namespace ticketd::rules {

/// Where something was written, 1-based (0 = unknown).
struct Position {
    std::string file;
    int line = 0;
    int column = 0;
    std::string to_string() const;  ///< "file:line:col"
};

enum class Field {
    from, to, cc, recipient, subject, body, header, attachment, size, classification,
    status, priority, tags, queue,
};
const char* to_string(Field f);

enum class Op { equals, contains, starts_with, ends_with, matches, regex, domain, in, exists, gt, ge, lt, le };
const char* to_string(Op op);

/// For `attachment:`: which property of each attachment the operator looks at.
enum class AttachmentPart { filename, type };

/// One test on one field, e.g. `subject: { regex: '\b(down|outage)\b' }`. A field with several
/// values (addresses, tags, attachments, repeated headers) matches when any value does.
struct Leaf {
    Field field = Field::subject;
    std::string header_name;  ///< Field::header: the field name, lower-case
    AttachmentPart part = AttachmentPart::filename;
    Op op = Op::equals;
    bool case_sensitive = false;
    /// equals/contains/starts_with/ends_with/domain: the operands, case-folded unless
    /// case_sensitive; any one matching is enough.
    std::vector<std::string> values;
    /// regex, and `matches` (globs are compiled to anchored RE2 at load).
    std::vector<std::shared_ptr<const re2::RE2>> patterns;
    /// in: the set (folded), from the rule or from a file of addresses.
    std::shared_ptr<const std::unordered_set<std::string>> set;
    bool exists = true;         ///< exists: true or false
    std::int64_t number = 0;    ///< gt/ge/lt/le (and equals on size/priority): bytes or priority rank
    bool numeric = false;       ///< equals on size/priority compares numbers
    std::string text;           ///< as written, for traces: "subject regex '\b(down)\b'"
    Position at;
    /// body contains, set by prepare(): each value's id in the rule set's body literals (folded
    /// or raw, as case_sensitive says), so that one pass over the body answers every such leaf.
    std::vector<std::uint32_t> literal_ids;
};

/// A condition tree: all / any / not over leaves. `always` is a rule with no `when:`.
struct Condition {
    enum class Kind { all, any, negate, leaf, always } kind = Kind::always;
    std::vector<Condition> children;  ///< all/any: the operands; negate: exactly one
    Leaf leaf;                        ///< kind == leaf
    Position at;
};

/// `auto_reply: NAME` or `auto_reply: false`.
struct AutoReply {
    bool enabled = false;
    std::string template_name;  ///< when enabled
    bool operator==(const AutoReply&) const = default;
};

struct Actions {
    std::optional<std::string> priority;  ///< low, normal, high, urgent
    std::optional<std::string> status;    ///< open, pending, resolved, closed
    std::optional<std::string> queue;
    std::optional<std::string> assign;    ///< an agent's address (or name, resolved at load)
    std::vector<std::string> add_tags, remove_tags;  ///< lower-case
    std::optional<AutoReply> auto_reply;
    std::vector<std::string> notify;      ///< agents, queues or addresses, as written
    std::optional<bool> spam;
    bool stop = false;
    // Where the references were written, for validation against the config (queues, agents,
    // templates), which knows what exists.
    Position queue_at, assign_at, auto_reply_at;
    std::vector<Position> notify_at;  ///< parallel to notify
};

struct Rule {
    std::string name;
    bool on_new = true, on_reply = true;
    Condition when;
    Actions then;
    Position at;
};

/// The ticket as it stands before this message (a new ticket: the defaults).
struct TicketState {
    std::string status = "open", priority = "normal", queue;
    std::vector<std::string> tags;
};

enum class Context { new_ticket, reply };
const char* to_string(Context c);

/// What a rule-file test expects; unset fields are not checked.
struct Expectation {
    std::optional<std::string> priority, status, queue, assign;
    std::optional<std::vector<std::string>> tags;         ///< the tags rules add, exactly
    std::optional<std::vector<std::string>> remove_tags;  ///< the tags rules remove, exactly
    std::optional<bool> spam;
    std::optional<AutoReply> auto_reply;  ///< `false`, or a template name
    std::optional<std::vector<std::string>> notify;  ///< exactly, in any order
    std::optional<std::vector<std::string>> rules;   ///< the rules that fired, in order
};

/// `tests:` in a rule file: a message, a context and what the rules must make of it.
struct RuleTest {
    std::string name;
    std::string message;   ///< the raw message (inline, or read from `eml_path` at load)
    std::string eml_path;  ///< "" for an inline message
    Context context = Context::new_ticket;
    TicketState ticket;
    Expectation expect;
    Position at;
};

struct RuleSet {
    std::vector<Rule> rules;
    std::vector<RuleTest> tests;
    std::vector<std::string> files;  ///< every file read (rule files, address lists)
    /// Made by prepare(): every `body: { contains }` literal, searched in one pass per message.
    /// Without them (a hand-built set) each leaf searches the body itself: the same answers.
    std::shared_ptr<const LiteralSet> body_folded, body_raw;
};

/// Index the rules for evaluation (the body literals); the loader calls it after each file.
/// Call it again after changing `rules`: a leaf whose ids do not match is searched on its own.
void prepare(RuleSet& rules);

/// A text as written and case-folded once per message.
struct Text {
    std::string raw, folded;
};

/// What rules look at, built once per message.
struct Facts {
    Context context = Context::new_ticket;
    std::vector<Text> from, to, cc, recipient;  ///< bare addresses
    Text subject, body;
    struct HeaderField {
        std::string name;  ///< lower-case
        Text value;
    };
    std::vector<HeaderField> headers;
    struct AttachmentFacts {
        Text filename;
        std::string type;  ///< lower-case
    };
    std::vector<AttachmentFacts> attachments;
    std::uint64_t size = 0;
    std::string classification;  ///< requester, auto_reply, bounce, list
    TicketState ticket;
    std::vector<Text> tags;  ///< ticket.tags, folded
};

/// `our_addresses`: the desk's addresses (lower-case); `recipient` is those the mail was sent to
/// (To, Cc, Delivered-To, X-Original-To, Envelope-To; plus-addresses count as their base).
Facts make_facts(const parsers::Message& msg, Context context, const TicketState& ticket,
                 const std::vector<std::string>& our_addresses);

/// One fired rule and what it changed ("priority=high", "tags+vip", "spam").
struct Fired {
    std::string rule;
    Position at;
    std::vector<std::string> changes;
};

/// The combined result: later rules override earlier ones; tags and notify accumulate.
struct Outcome {
    std::optional<std::string> priority, status, queue, assign;
    std::vector<std::string> add_tags, remove_tags;  ///< sorted, disjoint
    std::optional<AutoReply> auto_reply;             ///< unset: the desk's default
    std::vector<std::string> notify;                 ///< in first-named order, no duplicates
    bool spam = false;
    std::vector<Fired> fired;
    std::string stopped_by;  ///< the rule that stopped evaluation, "" if none
};

/// For the dry run: what each rule did and which condition decided it.
struct RuleTrace {
    std::string rule;
    Position at;
    enum class Result { matched, not_matched, wrong_context, not_reached } result = Result::not_reached;
    std::string decided_by;  ///< the deciding condition and where it is, "" when none
};

Outcome evaluate(const RuleSet& rules, const Facts& facts, std::vector<RuleTrace>* trace = nullptr);

/// Unicode full case folding of UTF-8 (invalid bytes pass through unchanged): ICU's folding,
/// with the Basic Multilingual Plane through a table made from it.
std::string fold(std::string_view text);
/// The same through ICU alone (what fold() must equal; for tests).
std::string fold_with_icu(std::string_view text);

/// A glob (`*`, `?`, `[...]`) as an anchored RE2 pattern.
std::string glob_to_regex(std::string_view glob);

/// True when the condition holds for every message (no `when:`, `all: []`, ...).
bool always_true(const Condition& c);

/// Problems in the rule set as a whole: a rule that can never fire because an earlier rule
/// always matches and stops for every context it could run in.
struct Problem {
    Position at;
    std::string message;
};
std::vector<Problem> unreachable_rules(const RuleSet& rules);

/// Run the rule files' `tests:` (messages parsed with the default limits); each failure points
/// at its test.
std::vector<Problem> run_tests(const RuleSet& rules, const std::vector<std::string>& our_addresses);

/// The outcome as one line per setting, for `ticketd rules test` and the test failures.
std::string describe(const Outcome& o);

}  // namespace ticketd::rules
