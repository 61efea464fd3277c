// SLA clocks at desk scale (issue 6): 100,000 open tickets under config/sla.example.yaml.
// Prints the cost of computing every ticket's targets from its history, then simulates one day
// of the daemon's timer: wake at the earliest next_wakeup, recompute that ticket with its fired
// alarms, fire what is due, re-arm. The timer wakes only when something is due.
#include <chrono>
#include <cstdio>
#include <ctime>
#include <map>
#include <set>
#include <queue>
#include <random>

#include "config/sla_loader.h"
#include "sla/clocks.h"

using namespace ticketd;
using namespace std::chrono_literals;

namespace {

double cpu_seconds() { return static_cast<double>(std::clock()) / CLOCKS_PER_SEC; }

}  // namespace

int main(int argc, char** argv) {
    const int tickets = argc > 1 ? std::atoi(argv[1]) : 100000;
    sla::Policies policies;
    std::vector<config::ConfigError> errors;
    config::load_sla_file(TICKETD_SOURCE_DIR "/config/sla.example.yaml", policies, errors);
    if (!errors.empty()) {
        for (const auto& e : errors) std::fprintf(stderr, "%s\n", e.to_string().c_str());
        return 1;
    }

    // Open tickets created over the last 30 days: a tenth urgent, a tenth high, some answered,
    // some waiting on the requester, some reopened.
    std::mt19937 rng(6);
    const sla::Time now = sla::Time{date::sys_days{date::year{2026} / 3 / 30}} + 9h;
    std::vector<std::vector<sla::Event>> history(tickets);
    for (int i = 0; i < tickets; ++i) {
        sla::Time t = now - std::chrono::seconds(rng() % (30 * 86400));
        const char* priority = i % 10 == 0 ? "urgent" : i % 10 == 1 ? "high" : "normal";
        auto& h = history[i];
        h.push_back(sla::Event::created(t, priority, "support"));
        if (i % 2) h.push_back(sla::Event::agent_reply(t + std::chrono::seconds(rng() % 36000)));
        if (i % 4 == 1) h.push_back(sla::Event::requester_message(t + 40000s));
        if (i % 8 == 1) {
            h.push_back(sla::Event::status_changed(t + 50000s, "pending"));
            h.push_back(sla::Event::status_changed(t + 200000s, "open"));
        }
    }

    double c0 = cpu_seconds();
    std::size_t alarms = 0;
    for (const auto& h : history) alarms += sla::compute_clocks(policies, h, now).alarms.size();
    double all = cpu_seconds() - c0;
    std::printf("compute all targets: %d tickets in %.3f s CPU (%.1f us/ticket), %zu alarms pending\n", tickets, all,
                all * 1e6 / tickets, alarms);

    // One simulated day of the timer.
    using Due = std::pair<sla::Time, int>;
    std::priority_queue<Due, std::vector<Due>, std::greater<>> timer;
    std::vector<std::set<std::string>> fired(tickets);
    for (int i = 0; i < tickets; ++i)
        if (auto s = sla::compute_clocks(policies, history[i], now); s.next_wakeup)
            timer.push({std::max(*s.next_wakeup, now), i});
    const sla::Time end = now + 24h;
    std::size_t wakeups = 0, idle_wakeups = 0, recomputes = 0, fired_count = 0;
    c0 = cpu_seconds();
    // Tickets 30 days old are overdue at start: their breach reminders and escalations all fire at
    // the first wake-up. That backlog is reported apart from the day that follows.
    std::size_t backlog = 0;
    double backlog_cpu = 0;
    bool first = true;
    while (!timer.empty() && timer.top().first < end) {
        const sla::Time at = timer.top().first;
        if (!first && at > now && backlog == 0 && wakeups == 1) {
            backlog = fired_count, backlog_cpu = cpu_seconds() - c0;
            fired_count = 0, wakeups = 0, idle_wakeups = 0, recomputes = 0, c0 = cpu_seconds();
        }
        first = false;
        ++wakeups;  // one timer expiry handles every ticket due at this moment
        const std::size_t fired_before = fired_count;
        while (!timer.empty() && timer.top().first == at) {
            int i = timer.top().second;
            timer.pop();
            auto s = sla::compute_clocks(policies, history[i], at, fired[i]);
            ++recomputes;
            for (const auto& a : s.alarms)
                if (a.at <= at) fired[i].insert(a.key), ++fired_count;
            s = sla::compute_clocks(policies, history[i], at, fired[i]);
            ++recomputes;
            if (s.next_wakeup && *s.next_wakeup > at) timer.push({*s.next_wakeup, i});
        }
        // A wake-up that fires nothing is a due time turning a target breached without a breach
        // reminder (targets the policy's reminders do not watch): still an event, never a poll.
        if (fired_count == fired_before) ++idle_wakeups;
    }
    double day = cpu_seconds() - c0;
    std::printf("overdue backlog at start: %zu alarms fired in one wake-up, %.3f s CPU\n", backlog, backlog_cpu);
    std::printf("one simulated day: %zu alarms fired, %zu timer wake-ups (%zu without an alarm: a target turning "
                "breached), %zu recomputations, %.3f s CPU\n",
                fired_count, wakeups, idle_wakeups, recomputes, day);
    return 0;
}
