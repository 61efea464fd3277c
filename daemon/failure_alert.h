#pragma once
// When to raise the alarm about something that keeps failing (an IMAP mailbox, an SMTP server):
// each failed attempt is a warning where it happens; this turns the stream of attempts into the
// two events an admin acts on: "failing for longer than alert_after" (an error, once per outage,
// not once per retry) and "recovered" (only after an alert). Pure: the caller passes the time.

#include <chrono>
#include <map>
#include <optional>
#include <string>

namespace ticketd::daemon {

class FailureAlerts {
public:
    using Clock = std::chrono::steady_clock;

    enum class Event {
        none,       ///< nothing to report beyond the attempt's own log line
        alert,      ///< failing without a success for at least alert_after: log an error now
        recovered,  ///< a success after an alert
    };

    /// Record one attempt of `name`. The outage starts at its first failure and ends at the
    /// next success; `alert` is returned once per outage, at the first failure at or past
    /// since + alert_after.
    Event record(const std::string& name, bool ok, Clock::time_point now, std::chrono::seconds alert_after);

    /// When the current outage of `name` began; nullopt while it is healthy.
    std::optional<Clock::time_point> failing_since(const std::string& name) const;

private:
    struct Outage {
        Clock::time_point since;
        bool alerted = false;
    };
    std::map<std::string, Outage> outages_;
};

}  // namespace ticketd::daemon
