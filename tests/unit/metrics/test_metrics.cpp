// The registry and its text exposition (format 0.0.4): what Prometheus parses.

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <thread>
#include <vector>

#include "metrics/metrics.h"

using namespace ticketd::metrics;

TEST(Metrics, UnlabelledFamiliesAreExposedAtZeroFromRegistration) {
    Registry r;
    r.counter("desk_events_total", "Events seen");
    r.gauge("desk_depth", "Rows waiting");
    EXPECT_EQ(r.expose(),
              "# HELP desk_depth Rows waiting\n"
              "# TYPE desk_depth gauge\n"
              "desk_depth 0\n"
              "# HELP desk_events_total Events seen\n"
              "# TYPE desk_events_total counter\n"
              "desk_events_total 0\n");
}

TEST(Metrics, LabelledChildrenAppearOnFirstUseSortedByLabels) {
    Registry r;
    auto& f = r.counter("imap_errors_total", "Errors", {"account", "status"});
    EXPECT_EQ(r.expose(), "# HELP imap_errors_total Errors\n# TYPE imap_errors_total counter\n");
    f.with({"sales", "timeout"}).inc();
    f.with({"billing", "auth_failed"}).inc(2);
    f.with({"sales", "timeout"}).inc();
    EXPECT_EQ(r.expose(),
              "# HELP imap_errors_total Errors\n# TYPE imap_errors_total counter\n"
              "imap_errors_total{account=\"billing\",status=\"auth_failed\"} 2\n"
              "imap_errors_total{account=\"sales\",status=\"timeout\"} 2\n");
}

TEST(Metrics, LabelValuesAndHelpAreEscaped) {
    Registry r;
    r.gauge("g", "line one\nback\\slash", {"name"}).with({"a\"b\\c\nd"}).set(1.5);
    EXPECT_EQ(r.expose(),
              "# HELP g line one\\nback\\\\slash\n# TYPE g gauge\n"
              "g{name=\"a\\\"b\\\\c\\nd\"} 1.5\n");
}

TEST(Metrics, ValuesAreWrittenAsPrometheusReadsThem) {
    EXPECT_EQ(format_value(0), "0");
    EXPECT_EQ(format_value(42), "42");
    EXPECT_EQ(format_value(-3), "-3");
    EXPECT_EQ(format_value(0.25), "0.25");
    EXPECT_EQ(format_value(1764640000.5), "1764640000.5");
    EXPECT_EQ(format_value(std::numeric_limits<double>::infinity()), "+Inf");
    EXPECT_EQ(format_value(-std::numeric_limits<double>::infinity()), "-Inf");
    EXPECT_EQ(format_value(std::nan("")), "NaN");
}

TEST(Metrics, NamesAreChecked) {
    EXPECT_TRUE(valid_metric_name("ticketd_messages_total"));
    EXPECT_TRUE(valid_metric_name("job:rate5m"));
    EXPECT_FALSE(valid_metric_name("9lives"));
    EXPECT_FALSE(valid_metric_name("with-dash"));
    EXPECT_FALSE(valid_metric_name(""));
    EXPECT_TRUE(valid_label_name("account"));
    EXPECT_FALSE(valid_label_name("__name__"));
    EXPECT_FALSE(valid_label_name("a:b"));
    Registry r;
    EXPECT_THROW(r.counter("bad name", "x"), std::invalid_argument);
    EXPECT_THROW(r.counter("ok_total", "x", {"bad-label"}), std::invalid_argument);
}

TEST(Metrics, ReRegisteringReturnsTheSameFamilyAndConflictsThrow) {
    Registry r;
    auto& a = r.counter("c_total", "help", {"x"});
    auto& b = r.counter("c_total", "help", {"x"});
    EXPECT_EQ(&a, &b);
    EXPECT_THROW(r.gauge("c_total", "help", {"x"}), std::invalid_argument);
    EXPECT_THROW(r.counter("c_total", "help", {"y"}), std::invalid_argument);
    EXPECT_THROW(a.with({"1", "2"}), std::invalid_argument);  // wrong number of label values
}

TEST(Metrics, CountersAreSafeAcrossThreads) {
    Registry r;
    auto& f = r.counter("hits_total", "Hits", {"who"});
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&f, t] {
            for (int i = 0; i < 10000; ++i) f.with({t % 2 ? "odd" : "even"}).inc();
        });
    for (auto& t : threads) t.join();
    EXPECT_EQ(f.with({"odd"}).value(), 20000);
    EXPECT_EQ(f.with({"even"}).value(), 20000);
}

TEST(Metrics, TicketdFamiliesAreAllRegisteredUpFront) {
    register_all();
    const std::string text = registry().expose();
    // The ones other stages increment later must be visible (at 0 or as a family) from the start.
    for (const char* name :
         {"ticketd_messages_fetched_total", "ticketd_messages_ingested_total", "ticketd_messages_quarantined_total",
          "ticketd_tickets_created_total", "ticketd_tickets_reopened_total", "ticketd_imap_errors_total",
          "ticketd_imap_last_success_timestamp_seconds", "ticketd_config_reloads_total",
          "ticketd_config_reload_failures_total", "ticketd_auto_replies_sent_total",
          "ticketd_auto_replies_suppressed_total", "ticketd_outbox_depth", "ticketd_outbox_sent_total",
          "ticketd_outbox_failed_total", "ticketd_smtp_errors_total", "ticketd_sla_reminders_total",
          "ticketd_sla_breaches_total"})
        EXPECT_NE(text.find(std::string("# TYPE ") + name + " "), std::string::npos) << name;
    EXPECT_NE(text.find("\nticketd_outbox_sent_total 0\n"), std::string::npos);
}

TEST(Metrics, OutcomesFeedTheTicketCounters) {
    register_all();
    auto value = [](const std::string& line_start) {
        const std::string text = registry().expose();
        auto at = text.find("\n" + line_start + " ");
        return at == std::string::npos ? -1.0 : std::stod(text.substr(at + line_start.size() + 2));
    };
    const double created = value("ticketd_tickets_created_total");
    const double reopened = value("ticketd_tickets_reopened_total");
    const double quarantined = value("ticketd_messages_quarantined_total");
    message_processed("created");
    message_processed("linked");  // a late reply to a closed ticket opens a new one
    message_processed("reopened");
    message_processed("appended");
    message_processed("quarantined");
    EXPECT_EQ(value("ticketd_tickets_created_total"), created + 2);
    EXPECT_EQ(value("ticketd_tickets_reopened_total"), reopened + 1);
    EXPECT_EQ(value("ticketd_messages_quarantined_total"), quarantined + 1);
    EXPECT_GE(value("ticketd_messages_ingested_total{outcome=\"appended\"}"), 1);
    auto_reply_suppressed("rate_limit");
    EXPECT_GE(value("ticketd_auto_replies_suppressed_total{reason=\"rate_limit\"}"), 1);
    outbox_depth(7);
    EXPECT_EQ(value("ticketd_outbox_depth"), 7);
}
