#include "metrics/metrics.h"

#include <charconv>
#include <cmath>
#include <stdexcept>

namespace ticketd::metrics {

namespace {

bool name_char(char c, bool first, bool colon) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') return true;
    if (colon && c == ':') return true;
    return !first && c >= '0' && c <= '9';
}

template <typename Metric>
void write_family(std::string& out, const Family<Metric>& f, Type type) {
    out += "# HELP " + f.name() + " " + escape_help(f.help()) + "\n";
    out += "# TYPE " + f.name() + (type == Type::counter ? " counter\n" : " gauge\n");
    for (const auto& [labels, value] : f.snapshot()) {
        out += f.name();
        if (!labels.empty()) {
            out += '{';
            for (std::size_t i = 0; i < labels.size(); ++i) {
                if (i) out += ',';
                out += f.label_names()[i] + "=\"" + escape_label_value(labels[i]) + "\"";
            }
            out += '}';
        }
        out += ' ' + format_value(value) + '\n';
    }
}

}  // namespace

bool valid_metric_name(std::string_view name) {
    if (name.empty()) return false;
    for (std::size_t i = 0; i < name.size(); ++i)
        if (!name_char(name[i], i == 0, true)) return false;
    return true;
}

bool valid_label_name(std::string_view name) {
    if (name.empty() || name.substr(0, 2) == "__") return false;  // reserved for Prometheus
    for (std::size_t i = 0; i < name.size(); ++i)
        if (!name_char(name[i], i == 0, false)) return false;
    return true;
}

std::string escape_label_value(std::string_view v) {
    std::string out;
    out.reserve(v.size());
    for (char c : v) {
        if (c == '\\') out += "\\\\";
        else if (c == '"') out += "\\\"";
        else if (c == '\n') out += "\\n";
        else out += c;
    }
    return out;
}

std::string escape_help(std::string_view v) {
    std::string out;
    out.reserve(v.size());
    for (char c : v) {
        if (c == '\\') out += "\\\\";
        else if (c == '\n') out += "\\n";
        else out += c;
    }
    return out;
}

std::string format_value(double v) {
    if (std::isnan(v)) return "NaN";
    if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
    char buf[64];
    // Shortest round-trip form: 3, 0.25, 1764640000.5, 1e+21.
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    return ec == std::errc() ? std::string(buf, end) : "NaN";
}

template <typename Metric>
Metric& Family<Metric>::with(const LabelValues& values) {
    if (values.size() != label_names_.size())
        throw std::invalid_argument("metric " + name_ + ": " + std::to_string(label_names_.size()) +
                                    " label value(s) expected, got " + std::to_string(values.size()));
    std::lock_guard lock(mutex_);
    auto& child = children_[values];
    if (!child) child = std::make_unique<Metric>();
    return *child;
}

template <typename Metric>
std::vector<std::pair<LabelValues, double>> Family<Metric>::snapshot() const {
    std::lock_guard lock(mutex_);
    std::vector<std::pair<LabelValues, double>> out;
    out.reserve(children_.size());
    for (const auto& [labels, m] : children_) out.emplace_back(labels, m->value());
    return out;
}

template class Family<Counter>;
template class Family<Gauge>;

Registry::Entry& Registry::entry(const std::string& name, Type type, const std::string& help,
                                 std::vector<std::string>& label_names) {
    if (!valid_metric_name(name)) throw std::invalid_argument("invalid metric name '" + name + "'");
    for (const auto& l : label_names)
        if (!valid_label_name(l)) throw std::invalid_argument("metric " + name + ": invalid label name '" + l + "'");
    auto it = families_.find(name);
    if (it != families_.end()) {
        const auto& names = it->second.type == Type::counter ? it->second.counters->label_names()
                                                             : it->second.gauges->label_names();
        if (it->second.type != type || names != label_names)
            throw std::invalid_argument("metric " + name + " is already registered with another type or labels");
        return it->second;
    }
    Entry e{type, nullptr, nullptr};
    if (type == Type::counter) e.counters = std::make_unique<Family<Counter>>(name, help, std::move(label_names));
    else e.gauges = std::make_unique<Family<Gauge>>(name, help, std::move(label_names));
    return families_.emplace(name, std::move(e)).first->second;
}

Family<Counter>& Registry::counter(const std::string& name, const std::string& help,
                                   std::vector<std::string> label_names) {
    std::lock_guard lock(mutex_);
    auto& e = entry(name, Type::counter, help, label_names);
    if (e.counters->label_names().empty()) e.counters->get();  // exposed as 0 from the start
    return *e.counters;
}

Family<Gauge>& Registry::gauge(const std::string& name, const std::string& help,
                               std::vector<std::string> label_names) {
    std::lock_guard lock(mutex_);
    auto& e = entry(name, Type::gauge, help, label_names);
    if (e.gauges->label_names().empty()) e.gauges->get();
    return *e.gauges;
}

std::string Registry::expose() const {
    std::lock_guard lock(mutex_);
    std::string out;
    for (const auto& [name, e] : families_) {
        if (e.type == Type::counter) write_family(out, *e.counters, Type::counter);
        else write_family(out, *e.gauges, Type::gauge);
    }
    return out;
}

// ---------------------------------------------------------------------------------------------

namespace {

/// The families, registered once; the functions below only look them up here.
struct Known {
    Family<Counter>& fetched;
    Family<Counter>& processed;
    Family<Counter>& quarantined;
    Family<Counter>& tickets_created;
    Family<Counter>& tickets_reopened;
    Family<Gauge>& last_poll;
    Family<Counter>& imap_errors;
    Family<Counter>& reloads;
    Family<Counter>& reload_failures;
    Family<Counter>& replies_sent;
    Family<Counter>& replies_suppressed;
    Family<Gauge>& outbox_depth;
    Family<Counter>& outbox_sent;
    Family<Counter>& outbox_failed;
    Family<Counter>& smtp_errors;
    Family<Counter>& sla_reminders;
    Family<Counter>& sla_breaches;
    Family<Gauge>& backlog;
    Family<Gauge>& oldest_open_age;
    Family<Counter>& wrong_tokens;
    Family<Counter>& token_guessing;
};

Known& known() {
    static Known k{
        registry().counter("ticketd_messages_fetched_total",
                           "Messages fetched from IMAP and committed to the inbox", {"account"}),
        registry().counter("ticketd_messages_ingested_total",
                           "Inbox messages processed, by outcome (created, appended, reopened, linked, "
                           "duplicate, unmatched_automatic, quarantined)",
                           {"outcome"}),
        registry().counter("ticketd_messages_quarantined_total",
                           "Messages kept raw and quarantined because they could not be parsed or recorded"),
        registry().counter("ticketd_tickets_created_total",
                           "Tickets opened (a new conversation, or a late reply to a closed ticket)"),
        registry().counter("ticketd_tickets_reopened_total",
                           "Resolved or closed tickets reopened by a reply within the reopen window"),
        registry().gauge("ticketd_imap_last_success_timestamp_seconds",
                         "Unix time of the last poll cycle of the mailbox that succeeded", {"account"}),
        registry().counter("ticketd_imap_errors_total", "Failed IMAP poll cycles, by mailbox and cause",
                           {"account", "status"}),
        registry().counter("ticketd_config_reloads_total",
                           "Configuration (and rules) snapshots swapped in on SIGHUP"),
        registry().counter("ticketd_config_reload_failures_total",
                           "SIGHUP reloads refused (invalid configuration or rules); the previous one stays"),
        registry().counter("ticketd_auto_replies_sent_total", "Acknowledgements accepted by the SMTP server"),
        registry().counter("ticketd_auto_replies_suppressed_total",
                           "Automatic replies not sent, by reason", {"reason"}),
        registry().gauge("ticketd_outbox_depth", "Outgoing mails waiting to be sent"),
        registry().counter("ticketd_outbox_sent_total", "Outgoing mails accepted by the SMTP server"),
        registry().counter("ticketd_outbox_failed_total",
                           "Outgoing mails given up on (refused permanently or expired)"),
        registry().counter("ticketd_smtp_errors_total", "Failed SMTP transactions, by server and cause",
                           {"account", "status"}),
        registry().counter("ticketd_sla_reminders_total", "SLA reminders queued"),
        registry().counter("ticketd_sla_breaches_total", "SLA deadlines missed"),
        registry().gauge("ticketd_tickets_backlog", "Tickets not yet resolved, by status (open, pending)",
                         {"status"}),
        registry().gauge("ticketd_oldest_open_ticket_age_seconds",
                         "Age of the oldest open or pending ticket (0 when there is none)"),
        registry().counter("ticketd_wrong_tokens_total",
                           "Messages that named an existing ticket with a wrong token and matched none"),
        registry().counter("ticketd_token_guessing_total",
                           "Senders past security.token_guessing_limit wrong tokens (once per sender per window)"),
    };
    return k;
}

}  // namespace

Registry& registry() {
    static Registry r;
    return r;
}

void register_all() {
    auto& k = known();
    k.backlog.with({"open"});  // on every scrape from the start, not only once a ticket is open
    k.backlog.with({"pending"});
}

void messages_fetched(const std::string& account, std::uint64_t n) {
    known().fetched.with({account}).inc(static_cast<double>(n));
}

void message_processed(std::string_view outcome) {
    auto& k = known();
    k.processed.with({std::string(outcome)}).inc();
    if (outcome == "created" || outcome == "linked") k.tickets_created.get().inc();
    else if (outcome == "reopened") k.tickets_reopened.get().inc();
    else if (outcome == "quarantined") k.quarantined.get().inc();
}

void imap_cycle_ok(const std::string& account, double unix_time) { known().last_poll.with({account}).set(unix_time); }

void imap_error(const std::string& account, std::string_view status) {
    known().imap_errors.with({account, std::string(status)}).inc();
}

void config_reload(bool ok) { (ok ? known().reloads : known().reload_failures).get().inc(); }

void auto_reply_sent() { known().replies_sent.get().inc(); }
void auto_reply_suppressed(std::string_view reason) { known().replies_suppressed.with({std::string(reason)}).inc(); }
void outbox_depth(std::int64_t queued) { known().outbox_depth.get().set(static_cast<double>(queued)); }
void outbox_sent() { known().outbox_sent.get().inc(); }
void outbox_failed() { known().outbox_failed.get().inc(); }
void smtp_error(const std::string& account, std::string_view status) {
    known().smtp_errors.with({account, std::string(status)}).inc();
}
void wrong_token() { known().wrong_tokens.get().inc(); }
void token_guessing() { known().token_guessing.get().inc(); }
void sla_reminder() { known().sla_reminders.get().inc(); }
void sla_breach() { known().sla_breaches.get().inc(); }

void backlog(std::int64_t open, std::int64_t pending, double oldest_open_age_seconds) {
    auto& k = known();
    k.backlog.with({"open"}).set(static_cast<double>(open));
    k.backlog.with({"pending"}).set(static_cast<double>(pending));
    k.oldest_open_age.get().set(oldest_open_age_seconds);
}

}  // namespace ticketd::metrics
