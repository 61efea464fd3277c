#include "daemon/failure_alert.h"

namespace ticketd::daemon {

FailureAlerts::Event FailureAlerts::record(const std::string& name, bool ok, Clock::time_point now,
                                           std::chrono::seconds alert_after) {
    auto it = outages_.find(name);
    if (ok) {
        if (it == outages_.end()) return Event::none;
        const bool alerted = it->second.alerted;
        outages_.erase(it);
        return alerted ? Event::recovered : Event::none;
    }
    if (it == outages_.end()) it = outages_.emplace(name, Outage{now, false}).first;
    auto& outage = it->second;
    if (outage.alerted || now - outage.since < alert_after) return Event::none;
    outage.alerted = true;
    return Event::alert;
}

std::optional<FailureAlerts::Clock::time_point> FailureAlerts::failing_since(const std::string& name) const {
    auto it = outages_.find(name);
    if (it == outages_.end()) return std::nullopt;
    return it->second.since;
}

}  // namespace ticketd::daemon
