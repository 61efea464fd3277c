#include "tickets/sla.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>

#include "mail/compose.h"
#include "metrics/metrics.h"
#include "parsers/headers.h"
#include "store/database.h"
#include "store/outbox.h"
#include "store/sla.h"
#include "store/tickets.h"
#include "tickets/acknowledge.h"
#include "tickets/ids.h"
#include "tickets/mailer.h"
#include "tickets/threading.h"

namespace ticketd::tickets {

namespace {

using sla::Time;

Time at(std::int64_t t) { return Time{std::chrono::seconds{t}}; }
std::int64_t unix(Time t) { return t.time_since_epoch().count(); }
std::optional<std::int64_t> unix(const std::optional<Time>& t) {
    return t ? std::optional<std::int64_t>(unix(*t)) : std::nullopt;
}

store::SlaFacts facts_of(const store::Ticket& t) {
    store::SlaFacts f;
    f.status = store::to_string(t.status);
    f.priority = store::to_string(t.priority);
    f.queue = t.queue;
    f.tags = t.tags;
    std::sort(f.tags.begin(), f.tags.end());
    return f;
}

/// The facts as the recorded history leaves them.
store::SlaFacts replay(const std::vector<store::SlaHistoryRow>& history) {
    store::SlaFacts f;
    for (const auto& h : history) {
        if (h.kind == "created") f.priority = h.value, f.queue = h.queue, f.tags = h.tags, f.status = "open";
        else if (h.kind == "status") f.status = h.value;
        else if (h.kind == "priority") f.priority = h.value;
        else if (h.kind == "queue") f.queue = h.value;
        else if (h.kind == "tags") f.tags = h.tags;
    }
    return f;
}

std::vector<sla::Event> events_of(const std::vector<store::SlaHistoryRow>& history,
                                  const std::vector<store::SlaMessageMark>& messages) {
    std::vector<sla::Event> out;
    for (const auto& h : history) {
        const Time t = at(h.at);
        if (h.kind == "created") out.push_back(sla::Event::created(t, h.value, h.queue, h.tags));
        else if (h.kind == "status") out.push_back(sla::Event::status_changed(t, h.value));
        else if (h.kind == "priority") out.push_back(sla::Event::priority_changed(t, h.value));
        else if (h.kind == "queue") out.push_back(sla::Event::queue_changed(t, h.value));
        else if (h.kind == "tags") out.push_back(sla::Event::tags_changed(t, h.tags));
    }
    // An agent's answer (whichever way it reached us) satisfies the response targets; the
    // requester writing again starts next_response (the message that opened the ticket comes
    // before any answer, and the core ignores such messages).
    for (const auto& m : messages) {
        if (m.kind == "agent") out.push_back(sla::Event::agent_reply(at(m.at)));
        else if (m.kind == "requester" && m.direction == "in") out.push_back(sla::Event::requester_message(at(m.at)));
    }
    return out;
}

/// The spans in which the ticket was pending, from the recorded history.
std::vector<sla::Span> pending_spans(const std::vector<store::SlaHistoryRow>& history) {
    std::vector<sla::Span> out;
    std::string status = "open";
    for (const auto& h : history) {
        if (h.kind != "status" || h.value == status) continue;
        if (h.value == "pending") out.push_back({at(h.at), sla::Span::open()});
        else if (status == "pending" && !out.empty()) out.back().to = at(h.at);
        status = h.value;
    }
    return out;
}

std::string human(sla::Target t) {
    switch (t) {
        case sla::Target::first_response: return "first response";
        case sla::Target::next_response: return "next response";
        case sla::Target::resolution: return "resolution";
    }
    return "";
}

const sla::Policy* policy_named(const sla::Policies& policies, const std::string& name) {
    for (const auto& p : policies.policies)
        if (p.name == name) return &p;
    return nullptr;
}

void add_event(store::Database& db, std::int64_t ticket, std::int64_t now, const std::string& kind,
               const std::string& detail) {
    store::Event ev;
    ev.ticket = ticket;
    ev.at = now;
    ev.kind = kind;
    ev.detail = detail;
    store::Events(db).add(ev);
}

std::vector<std::string> recipients_of(const config::Config& cfg, const store::Ticket& t,
                                       const sla::Recipients& to) {
    std::vector<std::string> out;
    auto add = [&](const std::string& a) {
        const std::string l = parsers::ascii_lower(a);
        if (!l.empty() && std::find(out.begin(), out.end(), l) == out.end()) out.push_back(l);
    };
    if (to.assignee) add(t.assignee);
    if (to.queue && !t.queue.empty())
        for (const auto& agent : cfg.agents)
            if (std::find(agent.queues.begin(), agent.queues.end(), t.queue) != agent.queues.end()) add(agent.address);
    for (const auto& a : to.addresses) add(a);
    return out;
}

/// Queues one SLA mail in the outbox (same transaction as the fired key). Returns the outbox id,
/// or nullopt with `why` when nothing could be queued.
std::optional<std::int64_t> queue_mail(store::Database& db, const config::Config& cfg, const store::Ticket& t,
                                       const std::string& template_name, const std::string& kind,
                                       const std::vector<std::string>& to, const config::TemplateContext& extra,
                                       std::int64_t now, std::string& why) {
    if (!cfg.smtp) return why = "no smtp: configured", std::nullopt;
    if (to.empty()) return why = "no recipients (no assignee, no agents for the queue)", std::nullopt;
    auto tmpl = cfg.templates.find(template_name);
    if (tmpl == cfg.templates.end()) return why = "no template '" + template_name + "'", std::nullopt;
    auto context = mail_context(cfg, t, nullptr, false);
    for (const auto& [k, v] : extra) context[k] = v;
    auto rendered = config::render(tmpl->second, context);

    // Through the one Mailer every ticket mail uses: its Message-ID sequence cannot collide
    // with an acknowledgement's or a relay's, and the Message-ID is on the ticket, so an answer
    // to a reminder threads back by In-Reply-To.
    Mailer mailer(db, cfg, t, std::nullopt, 0, now);
    mail::OutgoingMail m = mailer.from_desk(rendered, {"", to.front()}, nullptr, mail::AutoSubmitted::auto_generated);
    for (std::size_t i = 1; i < to.size(); ++i) m.to.push_back({"", to[i]});
    return mailer.queue(kind, std::move(m), "");
}

std::string join(const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
    return out;
}

}  // namespace

std::string format_utc(std::int64_t t) { return date::format("%Y-%m-%d %H:%M UTC", at(t)); }

std::string format_local(const sla::Calendar& cal, std::int64_t t) {
    if (!cal.zone) return format_utc(t);
    return date::format("%Y-%m-%d %H:%M %Z", date::make_zoned(cal.zone, at(t)));
}

std::string format_span(std::int64_t s) {
    if (s < 0) s = 0;
    const std::int64_t d = s / 86400, h = s % 86400 / 3600, m = s % 3600 / 60;
    std::string out;
    if (d) out += std::to_string(d) + "d";
    if (h) out += (out.empty() ? "" : " ") + std::to_string(h) + "h";
    if (m || out.empty()) out += (out.empty() ? "" : " ") + std::to_string(m) + "m";
    return out;
}

std::optional<SlaChange> recompute_sla(store::Database& db, const config::Config& cfg, std::int64_t ticket,
                                       std::int64_t now) {
    if (cfg.sla.policies.empty()) return std::nullopt;
    auto t = store::Tickets(db).get(ticket);
    if (!t) return std::nullopt;
    store::SlaStore s(db);
    const store::SlaFacts current = facts_of(*t);

    // What changed since the clocks last looked is recorded now, at `now`: the store keeps the
    // ticket as it is, the history keeps how it got there.
    auto history = s.history(ticket);
    SlaChange change;
    if (history.empty()) {
        change.started = true;
        s.add_history(ticket, {t->created_at, "created", current.priority, current.queue, current.tags});
        if (current.status != "open") s.add_history(ticket, {std::max(now, t->created_at), "status", current.status, {}, {}});
    } else {
        const store::SlaFacts last = replay(history);
        if (last.status != current.status) s.add_history(ticket, {now, "status", current.status, {}, {}});
        if (last.priority != current.priority) s.add_history(ticket, {now, "priority", current.priority, {}, {}});
        if (last.queue != current.queue) s.add_history(ticket, {now, "queue", current.queue, {}, {}});
        if (last.tags != current.tags) s.add_history(ticket, {now, "tags", "", {}, current.tags});
    }
    history = s.history(ticket);

    const auto before = s.ticket(ticket);
    const auto old_clocks = s.clocks(ticket);
    change.state = sla::compute_clocks(cfg.sla, events_of(history, s.messages(ticket)), at(now), s.fired(ticket));
    const sla::ClockState& st = change.state;
    const sla::Policy* policy = policy_named(cfg.sla, st.policy);
    if (!policy) return std::nullopt;
    const sla::Calendar& cal = cfg.sla.calendar_of(*policy);

    const auto pending = policy->pause_while_pending ? pending_spans(history) : std::vector<sla::Span>{};
    std::vector<store::SlaClockRow> rows;
    std::string due_list;
    for (const auto& c : st.targets) {
        store::SlaClockRow r;
        r.ticket = ticket;
        r.target = sla::to_string(c.target);
        r.policy = st.policy;
        r.state = sla::to_string(c.state);
        r.goal = c.goal.count();
        r.started_at = unix(c.started);
        r.due_at = unix(c.due);
        r.stopped_at = unix(c.stopped);
        r.elapsed = c.elapsed.count();
        if (c.state == sla::State::met) r.satisfied_at = r.stopped_at;
        if (c.state == sla::State::breached) r.breached_at = r.due_at;
        const Time end = c.stopped.value_or(at(now));
        for (const auto& p : pending) {
            const Time from = std::max(p.from, c.started), to = std::min(p.to, end);
            if (from < to) r.paused_total += unix(to) - unix(from);
            if (c.state == sla::State::paused && p.to == sla::Span::open()) r.paused_since = unix(p.from);
        }
        r.reminders_sent = s.reminders_fired(ticket, r.target + "/" + std::to_string(r.started_at) + "/");
        r.updated_at = now;
        const bool was_breached = std::any_of(old_clocks.begin(), old_clocks.end(), [&](const store::SlaClockRow& o) {
            return o.target == r.target && o.started_at == r.started_at && o.state == "breached";
        });
        if (c.state == sla::State::breached && !was_breached) {
            ++change.newly_breached;
            add_event(db, ticket, now, "sla.breached",
                      human(c.target) + " (" + st.policy + ") was due at " +
                          (c.due ? format_utc(unix(*c.due)) + " (" + format_local(cal, unix(*c.due)) + ")" : "?"));
        }
        if (c.due) due_list += (due_list.empty() ? "" : ", ") + r.target + " due " + format_utc(*r.due_at);
        rows.push_back(std::move(r));
    }
    s.replace_clocks(ticket, rows);

    store::SlaTicketRow row;
    row.ticket = ticket;
    row.policy = st.policy;
    row.policy_since = unix(st.policy_since);
    row.facts = current;
    row.next_wakeup = unix(st.next_wakeup);
    row.updated_at = now;
    s.put_ticket(row);

    if (!before) add_event(db, ticket, now, "sla.started", "policy " + st.policy + ": " + due_list);
    else if (before->policy != st.policy)
        add_event(db, ticket, now, "sla.policy_changed",
                  before->policy + " -> " + st.policy + " (priority " + current.priority +
                      (current.queue.empty() ? "" : ", queue " + current.queue) + "): targets recomputed" +
                      (due_list.empty() ? "" : ": " + due_list));
    return change;
}

void sla_hook(store::Database& db, const Ingested& ing) {
    if (ing.config.sla.policies.empty()) return;
    auto change = recompute_sla(db, ing.config, ing.ticket.id, db.now());
    // Counted before the message's commit: a hook after this one failing would overcount.
    if (change)
        for (int i = 0; i < change->newly_breached; ++i) metrics::sla_breach();
}

std::optional<std::int64_t> next_sla_wakeup(store::Database& db) { return store::SlaStore(db).earliest_wakeup(); }

SlaFireStats fire_due_sla(store::Database& db, const config::Config& cfg, std::int64_t now, int limit) {
    SlaFireStats stats;
    if (cfg.sla.policies.empty()) return stats;
    store::SlaStore s(db);
    const auto ids = s.due(now, limit);
    stats.more = static_cast<int>(ids.size()) == limit;
    // One durable commit for the chunk (a backlog of thousands would otherwise wait for one fsync
    // per ticket); each ticket is still its own savepoint, its keys with its outbox rows.
    store::Transaction chunk(db);
    for (const std::int64_t id : ids) {
        store::Transaction tx(db);
        auto change = recompute_sla(db, cfg, id, now);
        if (!change) {
            // The ticket is gone, or its policy with a reload: nothing to wake for.
            if (auto row = s.ticket(id)) {
                row->next_wakeup.reset();
                s.put_ticket(*row);
            }
            tx.commit();
            continue;
        }
        int breaches = change->newly_breached, reminders = 0, escalations = 0;
        const sla::Policy* policy = policy_named(cfg.sla, change->state.policy);
        const sla::Calendar& cal = cfg.sla.calendar_of(*policy);
        bool acted = false;
        for (const auto& alarm : change->state.alarms) {
            if (unix(alarm.at) > now) break;  // in time order
            const bool reminder = alarm.kind == sla::Alarm::Kind::reminder;
            // The key first: if it was already carried out (a crash after the commit cannot
            // leave it half done), nothing happens twice.
            if (!s.mark_fired(id, alarm.key, reminder ? "reminder" : "escalation", now)) continue;
            acted = true;
            const auto t = *store::Tickets(db).get(id);
            const sla::TargetClock* clock = nullptr;
            for (const auto& c : change->state.targets)
                if (c.target == alarm.target) clock = &c;
            config::TemplateContext extra;
            extra["sla.kind"] = human(alarm.target);
            extra["sla.target"] = sla::to_string(alarm.target);
            extra["sla.policy"] = policy->name;
            if (clock && clock->due) {
                extra["sla.due"] = format_utc(unix(*clock->due));
                extra["sla.due_local"] = format_local(cal, unix(*clock->due));
                extra["sla.left"] = format_span((clock->goal - clock->elapsed).count());
            }
            std::string why;
            if (reminder) {
                const sla::Reminder& r = policy->reminders.at(alarm.reminder);
                extra["sla.percent"] = r.label();
                const bool breach = !r.percent;
                const auto to = recipients_of(cfg, t, r.to);
                auto queued = queue_mail(db, cfg, t, breach ? "sla_breach" : "sla_reminder",
                                         breach ? "sla_breach" : "sla_reminder", to, extra, now, why);
                add_event(db, id, now, "sla.reminder",
                          r.label() + " of " + human(alarm.target) + " (" + policy->name + ")" +
                              (queued ? ": to " + join(to) + " (outbox " + std::to_string(*queued) + ")"
                                      : ": not mailed: " + why));
                if (queued) ++reminders;
            } else {
                const sla::Escalation& e = *policy->escalate;
                std::vector<std::string> done;
                store::Tickets tickets(db);
                if (auto p = store::parse_priority(e.priority); p && *p > t.priority) {
                    tickets.set_priority(id, *p, now);
                    done.push_back(std::string("priority ") + store::to_string(t.priority) + " -> " + e.priority);
                }
                if (!e.assign.empty() && parsers::ascii_lower(t.assignee) != e.assign) {
                    tickets.set_assignee(id, e.assign, now);
                    done.push_back("assigned to " + e.assign);
                }
                if (!e.notify.empty()) {
                    extra["sla.escalation"] = done.empty() ? "notified" : join(done);
                    extra["sla.percent"] = "breach";
                    auto t2 = *tickets.get(id);
                    sla::Recipients r;
                    r.addresses = e.notify;
                    const auto to = recipients_of(cfg, t2, r);
                    auto queued = queue_mail(db, cfg, t2, "sla_breach", "sla_escalation", to, extra, now, why);
                    done.push_back(queued ? "notified " + join(to) + " (outbox " + std::to_string(*queued) + ")"
                                          : "not notified: " + why);
                }
                add_event(db, id, now, "sla.escalated",
                          human(alarm.target) + " (" + policy->name + ") breached: " +
                              (done.empty() ? "nothing to do" : join(done)));
                ++escalations;
            }
        }
        if (acted) {
            // An escalation may have raised the priority (another policy), and the fired keys
            // changed the next wake-up.
            if (auto again = recompute_sla(db, cfg, id, now)) breaches += again->newly_breached;
        }
        // Never wake for the past again: whatever is left is in the future by construction;
        // this guards the loop against a spin if that ever fails.
        if (auto row = s.ticket(id); row && row->next_wakeup && *row->next_wakeup <= now) {
            row->next_wakeup = now + 60;
            s.put_ticket(*row);
        }
        tx.commit();
        ++stats.tickets;
        stats.reminders += reminders;
        stats.escalations += escalations;
        stats.breaches += breaches;
    }
    chunk.commit();
    for (int i = 0; i < stats.reminders; ++i) metrics::sla_reminder();  // counted once committed
    for (int i = 0; i < stats.breaches; ++i) metrics::sla_breach();
    return stats;
}

}  // namespace ticketd::tickets

namespace ticketd::tickets {

namespace {

const sla::Calendar* calendar_for(const config::Config& cfg, const std::string& policy) {
    const sla::Policy* p = policy_named(cfg.sla, policy);
    if (!p) return nullptr;
    auto it = cfg.sla.calendars.find(p->calendar);
    return it == cfg.sla.calendars.end() ? nullptr : &it->second;
}

std::string shown_state(const store::SlaClockRow& c, std::int64_t now) {
    if (c.state == "running" && c.due_at && *c.due_at <= now) return "breached";
    return c.state;
}

template <class T>
nlohmann::json opt_json(const std::optional<T>& v) {
    return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

std::optional<std::int64_t> median(std::vector<std::int64_t> v) {
    if (v.empty()) return std::nullopt;
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

}  // namespace

nlohmann::json sla_json(store::Database& db, const config::Config& cfg, std::int64_t ticket, std::int64_t now) {
    store::SlaStore s(db);
    auto row = s.ticket(ticket);
    if (!row) return nullptr;
    const sla::Calendar* cal = calendar_for(cfg, row->policy);
    nlohmann::json targets = nlohmann::json::array();
    for (const auto& c : s.clocks(ticket)) {
        targets.push_back({
            {"target", c.target},
            {"state", shown_state(c, now)},
            {"goal_seconds", c.goal},
            {"started_at", c.started_at},
            {"due_at", opt_json(c.due_at)},
            {"due_utc", c.due_at ? nlohmann::json(format_utc(*c.due_at)) : nlohmann::json(nullptr)},
            {"due_local", c.due_at && cal ? nlohmann::json(format_local(*cal, *c.due_at)) : nlohmann::json(nullptr)},
            {"elapsed_seconds", c.elapsed},
            {"paused_since", opt_json(c.paused_since)},
            {"paused_seconds", c.paused_total},
            {"satisfied_at", opt_json(c.satisfied_at)},
            {"breached_at", opt_json(c.breached_at ? c.breached_at : (shown_state(c, now) == "breached" ? c.due_at : std::nullopt))},
            {"stopped_at", opt_json(c.stopped_at)},
            {"reminders_sent", c.reminders_sent},
        });
    }
    return {{"policy", row->policy},
            {"policy_since", row->policy_since},
            {"calendar_time_zone", cal && cal->zone ? nlohmann::json(cal->zone->name()) : nlohmann::json(nullptr)},
            {"next_wakeup", opt_json(row->next_wakeup)},
            {"targets", targets}};
}

std::string render_sla(store::Database& db, const config::Config& cfg, std::int64_t ticket, std::int64_t now) {
    store::SlaStore s(db);
    auto row = s.ticket(ticket);
    if (!row) return "";
    const sla::Calendar* cal = calendar_for(cfg, row->policy);
    std::string out = "SLA (policy " + row->policy + "):\n";
    for (const auto& c : s.clocks(ticket)) {
        const std::string state = shown_state(c, now);
        std::string line = "  " + c.target + std::string(c.target.size() < 15 ? 15 - c.target.size() : 1, ' ') +
                           state + std::string(state.size() < 9 ? 9 - state.size() : 1, ' ');
        if (c.due_at) {
            line += "due " + format_utc(*c.due_at);
            if (cal) line += " (" + format_local(*cal, *c.due_at) + ")";
        } else {
            line += "due: not while paused";
        }
        line += ", goal " + format_span(c.goal) + ", elapsed " + format_span(c.elapsed);
        if (c.paused_total) line += ", paused " + format_span(c.paused_total);
        if (c.reminders_sent) line += ", reminders sent " + std::to_string(c.reminders_sent);
        out += line + "\n";
    }
    return out;
}

std::vector<SlaReportGroup> build_sla_report(const std::vector<store::SlaReportRow>& rows) {
    struct Acc {
        std::set<std::int64_t> tickets;
        std::int64_t met = 0, breached = 0;
        std::vector<std::int64_t> first, resolution;
    };
    std::map<std::pair<std::string, std::string>, Acc> by;
    for (const auto& r : rows) {
        Acc& a = by[{r.policy, r.queue}];
        a.tickets.insert(r.ticket);
        const bool met = r.state == "met", breached = r.state == "breached";
        a.met += met;
        a.breached += breached;
        if (!met && !breached) continue;
        if (r.target == "first_response") a.first.push_back(r.elapsed);
        if (r.target == "resolution") a.resolution.push_back(r.elapsed);
    }
    std::vector<SlaReportGroup> out;
    for (auto& [key, a] : by) {
        SlaReportGroup g;
        g.policy = key.first;
        g.queue = key.second;
        g.tickets = static_cast<std::int64_t>(a.tickets.size());
        g.met = a.met;
        g.breached = a.breached;
        if (a.met + a.breached) g.conformance = 100.0 * static_cast<double>(a.met) / static_cast<double>(a.met + a.breached);
        g.median_first_response = median(a.first);
        g.median_resolution = median(a.resolution);
        out.push_back(std::move(g));
    }
    return out;
}

nlohmann::json sla_report_json(const std::vector<SlaReportGroup>& groups) {
    nlohmann::json a = nlohmann::json::array();
    for (const auto& g : groups)
        a.push_back({{"policy", g.policy},
                     {"queue", g.queue},
                     {"tickets", g.tickets},
                     {"met", g.met},
                     {"breached", g.breached},
                     {"conformance_percent", g.conformance ? nlohmann::json(std::round(*g.conformance * 10) / 10)
                                                           : nlohmann::json(nullptr)},
                     {"median_first_response_seconds", opt_json(g.median_first_response)},
                     {"median_resolution_seconds", opt_json(g.median_resolution)}});
    return a;
}

std::string render_sla_report(const std::vector<SlaReportGroup>& groups) {
    if (groups.empty()) return "No tickets with SLA clocks in the period.\n";
    char buf[256];
    std::string out;
    std::snprintf(buf, sizeof buf, "%-16s %-16s %7s %6s %8s %11s %15s %15s\n", "POLICY", "QUEUE", "TICKETS", "MET",
                  "BREACHED", "CONFORMANCE", "MEDIAN 1ST RESP", "MEDIAN RESOLVE");
    out += buf;
    for (const auto& g : groups) {
        std::string conf = "-";
        if (g.conformance) {
            char c[16];
            std::snprintf(c, sizeof c, "%.1f%%", *g.conformance);
            conf = c;
        }
        std::snprintf(buf, sizeof buf, "%-16s %-16s %7lld %6lld %8lld %11s %15s %15s\n", g.policy.c_str(),
                      g.queue.empty() ? "-" : g.queue.c_str(), static_cast<long long>(g.tickets),
                      static_cast<long long>(g.met), static_cast<long long>(g.breached), conf.c_str(),
                      g.median_first_response ? format_span(*g.median_first_response).c_str() : "-",
                      g.median_resolution ? format_span(*g.median_resolution).c_str() : "-");
        out += buf;
    }
    out += "Times are business time on each policy's calendar; met/breached count targets, not tickets.\n";
    return out;
}

}  // namespace ticketd::tickets
