#pragma once
// Prometheus metrics: a small thread-safe registry of counters and gauges with labels, and its
// text exposition (format 0.0.4). No I/O here: daemon/metrics_server serves `expose()` over HTTP.
//
// For the other stages (rules, outbox, SMTP, SLA), the functions at the bottom are the whole API:
// call them where the event happens, from any thread, e.g.
//
//     #include "metrics/metrics.h"
//     metrics::auto_reply_suppressed("rate_limit");   // ticketd_auto_replies_suppressed_total
//     metrics::outbox_depth(queued_rows);             // ticketd_outbox_depth
//
// and link `ticketd::metrics` (it depends on nothing). Every metric they touch is registered at
// start-up with value 0, so a dashboard sees it before the first event. Count only what has
// been committed: a counter incremented inside a transaction that then rolls back lies.

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ticketd::metrics {

/// Label name/value pairs, in the order the family declared its label names.
using LabelValues = std::vector<std::string>;

class Counter {
public:
    void inc(double by = 1) { value_.fetch_add(by, std::memory_order_relaxed); }
    double value() const { return value_.load(std::memory_order_relaxed); }

private:
    std::atomic<double> value_{0};
};

class Gauge {
public:
    void set(double v) { value_.store(v, std::memory_order_relaxed); }
    void inc(double by = 1) { value_.fetch_add(by, std::memory_order_relaxed); }
    double value() const { return value_.load(std::memory_order_relaxed); }

private:
    std::atomic<double> value_{0};
};

enum class Type { counter, gauge };

/// One metric name with its help text, type, label names and one child per label combination.
/// Children are never removed, so the references handed out stay valid for the registry's life.
template <typename Metric>
class Family {
public:
    Family(std::string name, std::string help, std::vector<std::string> label_names)
        : name_(std::move(name)), help_(std::move(help)), label_names_(std::move(label_names)) {}

    /// The child for these label values (created at 0 on first use). Throws
    /// std::invalid_argument when the number of values does not match the label names.
    Metric& with(const LabelValues& values);
    /// The unlabelled child (families without labels).
    Metric& get() { return with({}); }

    const std::string& name() const { return name_; }
    const std::string& help() const { return help_; }
    const std::vector<std::string>& label_names() const { return label_names_; }
    /// A copy of (label values, value) pairs, sorted by label values.
    std::vector<std::pair<LabelValues, double>> snapshot() const;

private:
    std::string name_, help_;
    std::vector<std::string> label_names_;
    mutable std::mutex mutex_;
    std::map<LabelValues, std::unique_ptr<Metric>> children_;
};

class Registry {
public:
    /// Register (or find, when the same name, type and labels were registered before) a family.
    /// Throws std::invalid_argument for a name or label name Prometheus does not accept, or a
    /// name already registered with another type or other labels.
    Family<Counter>& counter(const std::string& name, const std::string& help,
                             std::vector<std::string> label_names = {});
    Family<Gauge>& gauge(const std::string& name, const std::string& help,
                         std::vector<std::string> label_names = {});

    /// Every family in name order, in the text exposition format 0.0.4: # HELP, # TYPE, then one
    /// sample per child. A family without labels always has its sample (0 until touched); one
    /// with labels lists the children created so far.
    std::string expose() const;

private:
    struct Entry {
        Type type;
        std::unique_ptr<Family<Counter>> counters;
        std::unique_ptr<Family<Gauge>> gauges;
    };
    Entry& entry(const std::string& name, Type type, const std::string& help,
                 std::vector<std::string>& label_names);

    mutable std::mutex mutex_;
    std::map<std::string, Entry> families_;
};

/// "Content-Type" of expose()'s output.
inline constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

/// A label value or HELP text escaped for the exposition format (\\, \" in labels, \n).
std::string escape_label_value(std::string_view v);
std::string escape_help(std::string_view v);
/// A sample value as Prometheus writes it: integers without a fraction, NaN, +Inf, -Inf.
std::string format_value(double v);
/// [a-zA-Z_:][a-zA-Z0-9_:]* (labels: no ':' and no leading "__").
bool valid_metric_name(std::string_view name);
bool valid_label_name(std::string_view name);

// ---------------------------------------------------------------------------------------------
// ticketd's metrics. All live in `registry()`, the process-wide registry, and are registered by
// `register_all()` (called once at start-up by the daemon; calling it again does nothing).

Registry& registry();
void register_all();

// Ingestion (daemon): per IMAP cycle and per processed message.
void messages_fetched(const std::string& account, std::uint64_t n);  ///< rows committed from IMAP
/// One message turned into its outcome (tickets::to_string(Outcome): created, appended,
/// reopened, linked, duplicate, unmatched_automatic, quarantined); also counts tickets created
/// (created, linked), reopened, and quarantined messages.
void message_processed(std::string_view outcome);
void imap_cycle_ok(const std::string& account, double unix_time);  ///< last good poll
void imap_error(const std::string& account, std::string_view status);
void config_reload(bool ok);

// Outgoing mail (issue 5): the outbox helper calls these.
void auto_reply_sent();
void auto_reply_suppressed(std::string_view reason);  ///< e.g. automatic_mail, rate_limit, own_address
void outbox_depth(std::int64_t queued);               ///< rows waiting to be sent, after each change
void outbox_sent();
void outbox_failed();                                 ///< given up on (expired or permanent 5xx)
void smtp_error(const std::string& account, std::string_view status);

// SLA (issue 6).
void wrong_token();     ///< a message named an existing ticket with a wrong token (issue 8)
void token_guessing();  ///< a sender passed security.token_guessing_limit (once per window)
void sla_reminder();
void sla_breach();

// Backlog (issue 9): set from the database on each scrape (daemon/service.cpp).
/// ticketd_tickets_backlog{status="open"|"pending"} and ticketd_oldest_open_ticket_age_seconds.
void backlog(std::int64_t open, std::int64_t pending, double oldest_open_age_seconds);

}  // namespace ticketd::metrics
