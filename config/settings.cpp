#include "config/settings.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <sstream>
#include <type_traits>

#include "config/config.h"
#include "config/reader.h"
#include "config/values.h"

namespace ticketd::config {

std::string Setting::section() const {
    auto dot = path.rfind('.');
    return dot == std::string::npos ? "" : path.substr(0, dot);
}

std::string Setting::key() const {
    auto dot = path.rfind('.');
    return dot == std::string::npos ? path : path.substr(dot + 1);
}

namespace {

template <typename T>
void assign(T& out, const Value& v) {
    if constexpr (std::is_same_v<T, bool>) {
        out = std::get<bool>(v);
    } else if constexpr (std::is_integral_v<T>) {
        out = std::holds_alternative<std::int64_t>(v) ? static_cast<T>(std::get<std::int64_t>(v))
                                                      : static_cast<T>(std::get<std::uint64_t>(v));
    } else if constexpr (std::is_same_v<T, std::optional<std::chrono::seconds>>) {
        out = std::get<std::chrono::seconds>(v);
    } else {
        out = std::get<T>(v);
    }
}

/// Builds one row; reads as a sentence in the table below.
struct Row {
    Setting s;
    Row(std::string path, Kind kind) {
        s.path = std::move(path);
        s.kind = kind;
    }
    Row&& def(std::string v) && { return s.default_value = std::move(v), std::move(*this); }
    Row&& note(std::string v) && { return s.default_note = std::move(v), std::move(*this); }
    Row&& doc(std::string v) && { return s.doc = std::move(v), std::move(*this); }
    Row&& type(std::string v) && { return s.type_note = std::move(v), std::move(*this); }
    Row&& range(std::int64_t lo, std::int64_t hi) && { return s.min = lo, s.max = hi, std::move(*this); }

    /// Stored in member `m` of the section's struct.
    template <typename S, typename T>
    Row&& to(T S::*m) && {
        s.store.set = [m](void* t, const Value& v) { return assign(static_cast<S*>(t)->*m, v), true; };
        s.store.same = [m](const void* a, const void* b) {
            return static_cast<const S*>(a)->*m == static_cast<const S*>(b)->*m;
        };
        return std::move(*this);
    }
    /// A choice stored as `E` (an enum, or the text itself).
    template <typename S, typename E>
    Row&& choose(E S::*m, std::vector<std::pair<std::string, E>> map) && {
        for (const auto& [text, _] : map) s.choices.push_back(text);
        s.store.set = [m, map](void* t, const Value& v) {
            const auto* text = std::get_if<std::string>(&v);
            for (const auto& [name, value] : map)
                if (text && *text == name) return static_cast<S*>(t)->*m = value, true;
            return false;
        };
        s.store.same = [m](const void* a, const void* b) {
            return static_cast<const S*>(a)->*m == static_cast<const S*>(b)->*m;
        };
        return std::move(*this);
    }
    template <typename S>
    Row&& choose_text(std::string S::*m, std::vector<std::string> names) && {
        std::vector<std::pair<std::string, std::string>> map;
        for (auto& n : names) map.emplace_back(n, n);
        return std::move(*this).choose(m, std::move(map));
    }
    Row&& custom(Store store) && { return s.store = std::move(store), std::move(*this); }
    /// A section row: the struct its keys are stored in.
    template <typename S>
    Row&& of() && {
        s.fresh = [] { return std::static_pointer_cast<void>(std::make_shared<S>()); };
        return std::move(*this);
    }
    operator Setting() && { return std::move(s); }
};

/// `start_from`: all, new, or a date (which also sets since_*).
Store start_from_store() {
    Store st;
    st.set = [](void* t, const Value& v) {
        auto& a = *static_cast<ImapAccount*>(t);
        const auto* text = std::get_if<std::string>(&v);
        if (!text) return false;
        if (*text == "all") a.start_from = ImapAccount::StartFrom::all;
        else if (*text == "new") a.start_from = ImapAccount::StartFrom::now;
        else if (auto d = parse_iso_date(*text)) {
            a.start_from = ImapAccount::StartFrom::since;
            a.since_year = d->year;
            a.since_month = d->month;
            a.since_day = d->day;
        } else {
            return false;
        }
        return true;
    };
    st.same = [](const void* pa, const void* pb) {
        const auto& a = *static_cast<const ImapAccount*>(pa);
        const auto& b = *static_cast<const ImapAccount*>(pb);
        return a.start_from == b.start_from && a.since_year == b.since_year && a.since_month == b.since_month &&
               a.since_day == b.since_day;
    };
    return st;
}

using K = Kind;
using After = ImapAccount::AfterIngest;

// THE TABLE. One row per key; a section's row comes before its keys. The loader's code after the
// table pass (config.cpp) checks only what one row cannot say: one field against another, files
// on disk, templates, queues named by agents.
std::vector<Setting> build() {
    std::vector<Setting> t = {
        // ---- desk
        Row("desk", K::section).of<DeskConfig>().note("required")
            .doc("the desk itself: its name, its own addresses and its database"),
        Row("desk.name", K::string).def("Support").to(&DeskConfig::name)
            .doc("the desk's display name (the `From:` name of what it sends)"),
        Row("desk.addresses", K::addresses).note("required").to(&DeskConfig::addresses)
            .doc("our own addresses, lower-cased; the first is the one we send from. Mail from them is never "
                 "answered automatically"),
        Row("desk.subject_tag", K::string).def("TICKET").to(&DeskConfig::subject_tag)
            .type("1-32 of `[A-Za-z0-9._-]`").doc("the tag in subjects: `[ACME #1042]`"),
        Row("desk.database", K::path).note("required").to(&DeskConfig::database)
            .doc("the SQLite database (WAL mode); `:memory:` for tests"),
        Row("desk.hostname", K::string).note("domain of the first address").to(&DeskConfig::hostname)
            .doc("right-hand side of the Message-IDs ticketd generates"),
        Row("desk.reopen_window", K::duration).def("14d").to(&DeskConfig::reopen_window)
            .doc("a reply to a resolved or closed ticket within this window reopens it; later, a new linked "
                 "ticket is opened"),

        // ---- limits
        Row("limits", K::section).of<parsers::Limits>()
            .doc("caps against hostile or broken mail: a message over a cap is kept raw and quarantined with "
                 "the reason, and never blocks the messages behind it"),
        Row("limits.max_message_size", K::size).def("64M").range(1024, std::int64_t(1) << 31)
            .to(&parsers::Limits::max_message_bytes).doc("the whole message"),
        Row("limits.max_header_line", K::size).def("64K").range(998, std::int64_t(16) << 20)
            .to(&parsers::Limits::max_header_line).doc("one unfolded header field"),
        Row("limits.max_header_size", K::size).def("1M").range(4096, std::int64_t(64) << 20)
            .to(&parsers::Limits::max_header_bytes).doc("the header block of one part"),
        Row("limits.max_parts", K::size).def("2000").range(1, 100000)
            .to(&parsers::Limits::max_parts).doc("MIME parts in total"),
        Row("limits.max_depth", K::integer).def("40").range(1, 1000)
            .to(&parsers::Limits::max_depth).doc("levels of multipart / message nesting"),

        // ---- logging
        Row("logging", K::section).of<LoggingConfig>().doc("the log (`ticketd run --log-level` overrides it)"),
        Row("logging.level", K::choice).def("info")
            .choose_text(&LoggingConfig::level, {"trace", "debug", "info", "warn", "error", "critical", "off"})
            .doc("the least severe level logged"),

        // ---- metrics
        Row("metrics", K::section).of<MetricsConfig>()
            .doc("the Prometheus endpoint of `ticketd run`; without this section there is no listener. The "
                 "metrics are listed in [operations.md](operations.md#metrics)"),
        Row("metrics.listen", K::string).note("required in the section").to(&MetricsConfig::listen)
            .type("`host:port`")
            .doc("`127.0.0.1:9469`, `[::1]:9469` or `localhost:9469`; the host is an IP literal or "
                 "`localhost`, the port 1 to 65535. Changing it needs a restart"),
        Row("metrics.allow_remote", K::boolean).def("false").to(&MetricsConfig::allow_remote)
            .doc("a non-loopback `listen` is an error unless this is true: the metrics name accounts and "
                 "volumes and the endpoint has no authentication"),

        // ---- retention
        Row("retention", K::section).of<RetentionConfig>()
            .doc("how long what is no longer needed is kept; without it everything is kept"),
        Row("retention.raw_mail_after", K::duration).note("unset: kept for ever")
            .to(&RetentionConfig::raw_mail_after).type("duration, at least `1d`")
            .doc("the raw bytes of mail whose ticket has been **closed** this long are dropped by `ticketd "
                 "run` (at start, then hourly) and `run --once`; the ticket, its messages, attachments and "
                 "trail stay, and the inbox row keeps its size and sha256"),

        // ---- imap
        Row("imap", K::sections).of<ImapAccount>()
            .doc("the mailboxes `ticketd run` empties into tickets"),
        Row("imap[].name", K::string).note("required, unique").to(&ImapAccount::name)
            .doc("the mailbox's id in logs and in the stored cursor"),
        Row("imap[].url", K::url).note("required").to(&ImapAccount::url)
            .type("`imaps://host[:port]/MAILBOX` or `imap://...`").doc("the server and the mailbox"),
        Row("imap[].username", K::string).note("required").to(&ImapAccount::username).doc("the login"),
        Row("imap[].password_file", K::path).note("one of these two").to(&ImapAccount::password_file)
            .doc("file holding the password (mode 0600); never logged"),
        Row("imap[].xoauth2_token_command", K::command).note("one of these two")
            .to(&ImapAccount::xoauth2_token_command)
            .doc("prints an OAuth2 access token (Microsoft 365, Gmail)"),
        Row("imap[].poll_interval", K::duration).def("60s").to(&ImapAccount::poll_interval)
            .type("duration, at least `1s`").doc("how often the mailbox is polled"),
        Row("imap[].after_ingest", K::choice).def("seen")
            .choose(&ImapAccount::after_ingest,
                    std::vector<std::pair<std::string, After>>{
                        {"move", After::move}, {"seen", After::seen}, {"delete", After::remove}})
            .doc("what happens on the server, only after the message is committed"),
        Row("imap[].processed_folder", K::string).def("Processed").to(&ImapAccount::processed_folder)
            .doc("the folder for `after_ingest: move`"),
        Row("imap[].tls_verify", K::boolean).def("true").to(&ImapAccount::tls_verify)
            .doc("verify the certificate and host name"),
        Row("imap[].ca_file", K::path).to(&ImapAccount::ca_file).doc("private CA bundle"),
        Row("imap[].require_starttls", K::boolean).def("true").to(&ImapAccount::require_starttls)
            .doc("`imap://` must upgrade with STARTTLS"),
        Row("imap[].batch_size", K::integer).def("50").range(1, 10000).to(&ImapAccount::batch_size)
            .doc("messages stored per transaction"),
        Row("imap[].connections", K::integer).def("4").range(1, 16).to(&ImapAccount::connections)
            .doc("parallel fetch connections"),
        Row("imap[].max_fetch_attempts", K::integer).def("3").range(1, 100).to(&ImapAccount::max_fetch_attempts)
            .doc("a message the server fails to hand over this many polls in a row is left there and kept as a "
                 "quarantined placeholder (`ticketd inbox release ID` fetches it again)"),
        Row("imap[].start_from", K::choice).def("all").custom(start_from_store())
            .doc("where the first poll begins: every message, only mail arriving from now on, or mail that "
                 "arrived on or after the date (IMAP `SINCE`), so a mailbox's history does not become tickets"),
        Row("imap[].connect_timeout", K::duration).def("15s").to(&ImapAccount::connect_timeout)
            .doc("connecting, TLS and login"),
        Row("imap[].timeout", K::duration).def("120s").to(&ImapAccount::transfer_timeout)
            .doc("whole-transfer timeout"),
        Row("imap[].alert_after", K::duration).def("15m").to(&ImapAccount::alert_after)
            .doc("a mailbox failing every poll this long is logged once as an error "
                 "(`event=imap.mailbox_failing`); each failed retry is a warning. `0s`: at the first failure"),
        Row("imap[].trusted_agents", K::boolean).def("false").to(&ImapAccount::trusted_agents)
            .doc("mail from an agent's address arriving here counts as the agent's without "
                 "`Authentication-Results` (only for a mailbox outsiders cannot write to; "
                 "[agents.md](agents.md))"),

        // ---- smtp
        Row("smtp", K::section).of<SmtpConfig>()
            .doc("outgoing mail; without it nothing is queued or sent"),
        Row("smtp.url", K::url).note("required").to(&SmtpConfig::url)
            .type("`smtps://host[:port]` or `smtp://host[:port]`")
            .doc("`smtps://` is TLS from the start (465); `smtp://` must upgrade with STARTTLS (587) unless "
                 "`require_starttls: false`. A path (`smtp://host/name`) is the EHLO name"),
        Row("smtp.username", K::string).to(&SmtpConfig::username)
            .doc("empty: no authentication (a local relay)"),
        Row("smtp.password_file", K::path).note("one of these two with `username`").to(&SmtpConfig::password_file)
            .doc("file holding the password (mode 0600); never logged"),
        Row("smtp.xoauth2_token_command", K::command).note("one of these two with `username`")
            .to(&SmtpConfig::xoauth2_token_command).doc("prints an OAuth2 access token (XOAUTH2)"),
        Row("smtp.ca_file", K::path).to(&SmtpConfig::ca_file).doc("private CA bundle"),
        Row("smtp.tls_verify", K::boolean).def("true").to(&SmtpConfig::tls_verify)
            .doc("verify the certificate and host name"),
        Row("smtp.require_starttls", K::boolean).def("true").to(&SmtpConfig::require_starttls)
            .doc("`smtp://` must upgrade with STARTTLS"),
        Row("smtp.from", K::address).note("`desk.addresses[0]`").to(&SmtpConfig::from)
            .doc("envelope sender and `From:` (the display name is `desk.name`)"),
        Row("smtp.reply_to", K::address).note("`desk.addresses[0]`").to(&SmtpConfig::reply_to)
            .doc("`Reply-To:` of everything we send"),
        Row("smtp.connect_timeout", K::duration).def("15s").to(&SmtpConfig::connect_timeout)
            .type("duration, at least `1s`").doc("connecting, TLS and login"),
        Row("smtp.timeout", K::duration).def("60s").to(&SmtpConfig::transfer_timeout)
            .type("duration, at least `1s`").doc("whole-transfer timeout per mail"),
        Row("smtp.give_up_after", K::duration).def("48h").to(&SmtpConfig::give_up_after)
            .doc("a mail still refused with 4xx or network errors after this long is marked failed on its ticket"),
        Row("smtp.alert_after", K::duration).def("15m").to(&SmtpConfig::alert_after)
            .doc("the server deferring every attempt this long is logged once as an error "
                 "(`event=smtp.server_failing`); each deferral is a warning"),
        Row("smtp.connections", K::integer).def("2").range(1, 16).to(&SmtpConfig::connections)
            .doc("SMTP sessions sending in parallel; the mails of one ticket always go one after the other, in "
                 "order, through the same one; `1` sends one mail at a time"),

        // ---- templates, auto_reply
        Row("templates", K::path).note("`templates` next to this file").to(&Config::templates_dir)
            .doc("the directory of mail templates (`NAME.txt`, optional `NAME.html`); see below"),
        Row("auto_reply", K::section).of<AutoReplyConfig>()
            .doc("acknowledgements to requesters; needs `smtp:`"),
        Row("auto_reply.enabled", K::boolean).def("true").to(&AutoReplyConfig::enabled)
            .doc("acknowledge each new ticket"),
        Row("auto_reply.template", K::string).def("acknowledgement").to(&AutoReplyConfig::template_name)
            .type("name").doc("the template (`templates/NAME.txt`); must exist"),
        Row("auto_reply.max_per_sender_per_hour", K::integer).def("3").range(0, 1000)
            .to(&AutoReplyConfig::max_per_sender_per_hour)
            .doc("automatic mails to one address in any hour; beyond this, none (0 turns acknowledgements off)"),

        // ---- rules, sla, queues, agents
        Row("rules", K::strings).type("paths")
            .doc("rule files and directories of them (`*.yaml`, `*.yml` in name order); see below"),
        Row("sla", K::path).to(&Config::sla_file).doc("the SLA policy file; without it no SLA clocks; see below"),
        Row("queues", K::strings).type("list of names")
            .doc("the queues rules may route to; every queue named in an agent's `queues` is one too"),
        Row("agents", K::sections).of<Agent>().doc("the people who work tickets; see below"),
        Row("agents[].address", K::address).note("required, unique").to(&Agent::address)
            .doc("lower-cased"),
        Row("agents[].name", K::string).to(&Agent::name).doc("for people (`assign: Dana`)"),
        Row("agents[].queues", K::strings).type("list of names").to(&Agent::queues)
            .doc("the queues the agent serves"),
        Row("trusted_authserv_ids", K::strings).type("list of names").to(&Config::trusted_authserv_ids)
            .doc("the authserv-ids (RFC 8601) of your own receiving servers, whose `Authentication-Results` "
                 "verify agents' mail; see below"),

        // ---- reports
        Row("reports", K::sections).of<ReportDigest>()
            .doc("scheduled report digests, mailed once per period through the outbox; needs `smtp:`"),
        Row("reports[].every", K::choice).note("required")
            .choose_text(&ReportDigest::every, {"daily", "weekly", "monthly"})
            .doc("daily: yesterday; weekly: the last ISO week, by day; monthly: the last month, by week"),
        Row("reports[].to", K::addresses).note("required").to(&ReportDigest::to).doc("recipients"),
        Row("reports[].queue", K::string).note("all").type("name").to(&ReportDigest::queue)
            .doc("only tickets in this queue"),
        Row("reports[].tag", K::string).note("all").type("name").to(&ReportDigest::tag)
            .doc("only tickets with this tag"),
        Row("reports[].tz", K::string).note("the default SLA policy's zone, else UTC").type("IANA zone")
            .to(&ReportDigest::tz).doc("where days, weeks and months begin"),

        // ---- csat (issue 9)
        Row("csat", K::section).of<CsatConfig>()
            .doc("satisfaction ratings by email: a resolved ticket's requester is asked for a one-word rating "
                 "([reports.md](reports.md#satisfaction-csat)); needs `smtp:`"),
        Row("csat.enabled", K::boolean).def("false").to(&CsatConfig::enabled)
            .doc("ask when a ticket becomes resolved (never automatic senders, lists, agents or our own addresses)"),
        Row("csat.queues", K::strings).note("every queue").type("list of names").to(&CsatConfig::queues)
            .doc("only tickets in these queues are asked; each must be a declared queue"),
        Row("csat.scale", K::choice).def("good_bad")
            .choose(&CsatConfig::scale, std::vector<std::pair<std::string, CsatConfig::Scale>>{
                                            {"good_bad", CsatConfig::Scale::good_bad},
                                            {"one_to_five", CsatConfig::Scale::one_to_five}})
            .doc("what the mail asks for; either kind of answer is understood whatever the scale"),
        Row("csat.template", K::string).def("csat_request").type("name").to(&CsatConfig::template_name)
            .doc("the request's template (`templates/NAME.txt`); must exist when enabled"),
        Row("csat.min_interval", K::duration).def("7d").to(&CsatConfig::min_interval)
            .doc("at most one request per ticket in this long (a reopen and a second resolution within it ask "
                 "no second time)"),

        // ---- security (issue 8)
        Row("security", K::section).of<SecurityConfig>()
            .doc("limits on what strangers may try ([security.md](security.md))"),
        Row("security.token_guessing_limit", K::integer).def("5").range(0, 1000000)
            .to(&SecurityConfig::token_guessing_limit)
            .doc("messages naming an existing ticket with a wrong token one sender may send within the window; at "
                 "the limit `event=threading.token_guessing` is logged once per window and that sender gets no "
                 "acknowledgements while it lasts (its mail is still filed); 0 counts nothing"),
        Row("security.token_guessing_window", K::duration).def("24h").to(&SecurityConfig::token_guessing_window)
            .doc("the sliding window of `token_guessing_limit`"),
    };
    // start_from's choices beyond the list, for messages and the reference.
    for (auto& s : t)
        if (s.path == "imap[].start_from") {
            s.choices = {"all", "new"};
            s.expected = "all, new or a date (YYYY-MM-DD)";
        }
    // Top-level keys are stored in Config.
    Setting root;
    root.kind = Kind::section;
    root.fresh = [] { return std::static_pointer_cast<void>(std::make_shared<Config>()); };
    t.insert(t.begin(), std::move(root));
    return t;
}

std::string human_size(std::int64_t n) {
    if (n >= (1 << 30) && n % (1 << 30) == 0) return std::to_string(n >> 30) + "G";
    if (n >= (1 << 20) && n % (1 << 20) == 0) return std::to_string(n >> 20) + "M";
    if (n >= (1 << 10) && n % (1 << 10) == 0) return std::to_string(n >> 10) + "K";
    return std::to_string(n);
}

bool valid_address(const std::string& a) {
    auto at = a.find('@');
    return at != std::string::npos && at > 0 && at + 1 < a.size() && a.find('@', at + 1) == std::string::npos &&
           std::none_of(a.begin(), a.end(), [](unsigned char c) { return c <= ' ' || c == '<' || c == '>'; });
}

}  // namespace

const std::vector<Setting>& settings() {
    // The first row (path "") is the top level itself, so that its keys have a section too.
    static const std::vector<Setting> table = build();
    return table;
}

const Setting* find_setting(std::string_view path) {
    for (const auto& s : settings())
        if (s.path == path) return &s;
    return nullptr;
}

std::vector<const Setting*> settings_in(std::string_view section) {
    std::vector<const Setting*> out;
    for (const auto& s : settings())
        if (!s.path.empty() && s.section() == section) out.push_back(&s);
    return out;
}

std::string expected_choices(const Setting& row) {
    if (!row.expected.empty()) return row.expected;
    std::string out;
    for (std::size_t i = 0; i < row.choices.size(); ++i) {
        if (i) out += i + 1 == row.choices.size() ? " or " : ", ";
        out += row.choices[i];
    }
    return out;
}

std::variant<Value, std::string> parse_setting(const Setting& row, const std::string& text) {
    auto out_of_range = [&](std::int64_t v) -> std::optional<std::string> {
        if (row.max > row.min && (v < row.min || v > row.max))
            return text + " is out of range (" + std::to_string(row.min) + " to " + std::to_string(row.max) + ")";
        return std::nullopt;
    };
    switch (row.kind) {
        case Kind::boolean:
            if (auto v = parse_bool(text)) return Value{*v};
            return "expected true or false, got '" + text + "'";
        case Kind::duration:
            if (auto v = parse_duration(text)) return Value{*v};
            return "expected a duration like 30s, 5m, 2h or 14d, got '" + text + "'";
        case Kind::size: {
            auto v = parse_size(text);
            if (!v) return "expected a size like 512K or 64M, got '" + text + "'";
            if (*v > std::uint64_t(INT64_MAX)) return *out_of_range(INT64_MAX);
            if (auto e = out_of_range(static_cast<std::int64_t>(*v))) return *e;
            return Value{*v};
        }
        case Kind::integer: {
            auto v = parse_int(text);
            if (!v) return "expected a whole number, got '" + text + "'";
            if (auto e = out_of_range(*v)) return *e;
            return Value{*v};
        }
        case Kind::address: {
            std::string a = text;
            std::transform(a.begin(), a.end(), a.begin(), [](unsigned char c) { return std::tolower(c); });
            // Empty is unset (smtp.from: the default); a row that is required says so in code.
            if (!a.empty() && !valid_address(a)) return "'" + a + "' is not an email address";
            return Value{a};
        }
        case Kind::strings:
        case Kind::addresses:
            return Value{std::vector<std::string>{text}};
        default:
            return Value{text};
    }
}

namespace {

std::string type_text(const Setting& s) {
    if (!s.type_note.empty()) return s.type_note;
    switch (s.kind) {
        case Kind::section: return "section";
        case Kind::sections: return "list of sections";
        case Kind::string: return "string";
        case Kind::path: return "path";
        case Kind::command: return "command";
        case Kind::url: return "URL";
        case Kind::boolean: return "bool";
        case Kind::duration: return "duration";
        case Kind::size: return "size, " + human_size(s.min) + " to " + human_size(s.max);
        case Kind::integer: return "number, " + std::to_string(s.min) + " to " + std::to_string(s.max);
        case Kind::choice: {
            std::string out;
            for (std::size_t i = 0; i < s.choices.size(); ++i)
                out += (i ? ", " : "") + ("`" + s.choices[i] + "`");
            return s.expected.empty() ? out : out + " or a date (`YYYY-MM-DD`)";
        }
        case Kind::address: return "address";
        case Kind::strings: return "list of strings";
        case Kind::addresses: return "list of addresses";
    }
    return "";
}

std::string default_text(const Setting& s) {
    if (!s.default_value.empty()) return "`" + s.default_value + "`";
    return s.default_note;
}

void table(std::ostringstream& out, const std::vector<const Setting*>& rows) {
    out << "| key | type | default | meaning |\n|---|---|---|---|\n";
    for (const auto* r : rows)
        out << "| `" << r->key() << "` | " << type_text(*r) << " | " << default_text(*r) << " | " << r->doc << " |\n";
}

}  // namespace

std::string settings_markdown() {
    std::ostringstream out;
    out << "### Top level\n\n";
    table(out, settings_in(""));
    for (const auto& s : settings()) {
        if (s.kind != Kind::section && s.kind != Kind::sections) continue;
        if (s.path.empty()) continue;
        const std::string name = s.kind == Kind::sections ? s.path + "[]" : s.path;
        out << "\n### `" << name << "`" << (s.default_note.empty() ? "" : " (" + s.default_note + ")") << "\n\n";
        out << static_cast<char>(std::toupper(static_cast<unsigned char>(s.doc[0]))) << s.doc.substr(1) << ".\n\n";
        table(out, settings_in(name));
    }
    return out.str();
}

Seen walk_settings(Reader& r, const YAML::Node& node, std::string_view section, void* target,
                   const SettingHooks& hooks) {
    Seen seen;
    const std::string where(section);
    if (!node.IsMap()) {
        r.error(node.Mark(), where + ": expected a mapping");
        return seen;
    }
    std::map<std::string, int> keys;  // for the "did you mean"
    std::set<std::string> names;      // written so far, for duplicates
    for (const auto* row : settings_in(section)) keys.emplace(row->key(), 0);
    for (const auto& kv : node) {
        const YAML::Node& key = kv.first;
        const YAML::Node& n = kv.second;
        const std::string name = key.IsScalar() ? key.Scalar() : "";
        const std::string path = where.empty() ? name : where + "." + name;
        if (!names.insert(name).second) {
            r.error(key.Mark(), "duplicate key '" + path + "'");
            continue;
        }
        const Setting* row = keys.count(name) ? find_setting(path) : nullptr;
        if (!row) {
            r.error(key.Mark(), "unknown key '" + path + "'" + Reader::suggestion(name, keys));
            continue;
        }
        seen.given.emplace(name, n);
        if (auto hook = hooks.find(name); hook != hooks.end()) {
            hook->second(n, path);
            continue;
        }
        if (!row->store.set) {
            // A row nobody reads (a new section without its hook in load_document): say so rather
            // than ignore what the admin wrote.
            r.error(n.Mark(), path + ": not read by this build (a settings row without a reader)");
            continue;
        }
        if (row->kind == Kind::strings || row->kind == Kind::addresses) {
            std::vector<std::string> items;
            r.string_list(n, path, items);
            if (row->kind == Kind::addresses) {
                Setting one = *row;
                one.kind = Kind::address;
                for (auto& a : items) {
                    if (a.empty()) {
                        r.error(n.Mark(), path + ": '' is not an email address");
                        continue;
                    }
                    auto v = parse_setting(one, a);
                    if (auto* e = std::get_if<std::string>(&v)) r.error(n.Mark(), path + ": " + *e);
                    else a = std::get<std::string>(std::get<Value>(v));
                }
            }
            row->store.set(target, Value{std::move(items)});
            continue;
        }
        if (!r.scalar(n, path)) continue;
        if (row->kind == Kind::choice) continue;  // check_choices
        auto v = parse_setting(*row, n.Scalar());
        if (auto* e = std::get_if<std::string>(&v)) r.error(n.Mark(), path + ": " + *e);
        else row->store.set(target, std::get<Value>(v));
    }
    return seen;
}

void check_choices(Reader& r, const Seen& seen, std::string_view section, void* target,
                   const std::string& shown_as) {
    for (const auto* row : settings_in(section)) {
        if (row->kind != Kind::choice) continue;
        auto it = seen.given.find(row->key());
        if (it == seen.given.end() || !it->second.IsScalar()) continue;
        const std::string text = it->second.Scalar();
        if (!row->store.set(target, Value{text}))
            r.error(it->second.Mark(), shown_as + "." + row->key() + ": expected " + expected_choices(*row) +
                                           ", got '" + text + "'");
    }
}

Seen read_settings(Reader& r, const YAML::Node& node, std::string_view section, void* target,
                   const SettingHooks& hooks) {
    Seen seen = walk_settings(r, node, section, target, hooks);
    if (node.IsMap()) check_choices(r, seen, section, target, std::string(section));
    return seen;
}

}  // namespace ticketd::config
