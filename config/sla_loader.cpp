#include "config/sla_loader.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <set>
#include <map>
#include <optional>
#include <sstream>

#include "config/reader.h"
#include "config/templates.h"
#include "parsers/headers.h"
#include "config/values.h"

namespace ticketd::config {

namespace {

using std::chrono::minutes;

const std::vector<std::string> kPriorities{"low", "normal", "high", "urgent"};
// c_encoding order: 0 = Sunday.
const std::array<std::string, 7> kDays{"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

bool one_of(const std::vector<std::string>& allowed, const std::string& v) {
    return std::find(allowed.begin(), allowed.end(), v) != allowed.end();
}

std::string where_of(const std::string& file, const YAML::Mark& m) {
    return file + ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1);
}

std::string trimmed(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return std::string(s);
}

std::string format_clock(minutes m) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%02d:%02d", static_cast<int>(m.count() / 60), static_cast<int>(m.count() % 60));
    return buf;
}

/// "9:00", "09:00", "24:00" to minutes from midnight.
std::optional<minutes> parse_clock(const std::string& text) {
    auto colon = text.find(':');
    if (colon == std::string::npos || colon == 0 || colon > 2 || text.size() != colon + 3) return std::nullopt;
    for (std::size_t i = 0; i < text.size(); ++i)
        if (i != colon && !std::isdigit(static_cast<unsigned char>(text[i]))) return std::nullopt;
    int h = std::stoi(text.substr(0, colon)), m = std::stoi(text.substr(colon + 1));
    if (m > 59 || h > 24 || (h == 24 && m != 0)) return std::nullopt;
    return minutes(h * 60 + m);
}

/// "mon", "mon-fri", "fri-mon" (wraps) to c_encoding day numbers; empty when malformed.
std::vector<unsigned> parse_days(const std::string& text) {
    auto index = [](const std::string& d) -> int {
        auto it = std::find(kDays.begin(), kDays.end(), d);
        return it == kDays.end() ? -1 : static_cast<int>(it - kDays.begin());
    };
    std::string s = trimmed(text);
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    auto dash = s.find('-');
    if (dash == std::string::npos) {
        int d = index(s);
        return d < 0 ? std::vector<unsigned>{} : std::vector<unsigned>{static_cast<unsigned>(d)};
    }
    int from = index(trimmed(s.substr(0, dash))), to = index(trimmed(s.substr(dash + 1)));
    if (from < 0 || to < 0) return {};
    std::vector<unsigned> out;
    for (int d = from;; d = (d + 1) % 7) {
        out.push_back(static_cast<unsigned>(d));
        if (d == to) break;
    }
    return out;
}

class SlaFileReader {
public:
    SlaFileReader(Reader& r, std::string file) : r_(r), file_(std::move(file)) {}

    void document(const YAML::Node& root, sla::Policies& out) {
        if (!root.IsDefined() || root.IsNull()) {
            r_.error(YAML::Mark(), "the file is empty; 'calendars:' and 'policies:' are required");
            r_.errors().back().line = 1, r_.errors().back().column = 1;
            return;
        }
        bool have_calendars = false, have_policies = false;
        YAML::Node policies_node;
        r_.map(root, "",
               {
                   {"calendars",
                    [&](const YAML::Node& n, const std::string& p) {
                        have_calendars = true;
                        calendars(n, p, out);
                    }},
                   {"policies",
                    [&](const YAML::Node& n, const std::string&) {
                        have_policies = true;
                        policies_node = n;
                    }},
               });
        if (!root.IsMap()) return;
        if (!have_calendars) r_.error(root.Mark(), "'calendars:' is required (at least one calendar)");
        if (!have_policies) r_.error(root.Mark(), "'policies:' is required (at least a default policy)");
        else policies(policies_node, out);  // after the calendars: policies name them
    }

private:
    void calendars(const YAML::Node& n, const std::string& path, sla::Policies& out) {
        if (!n.IsMap() || n.size() == 0)
            return r_.error(n.Mark(), path + ": expected a mapping of calendar names to calendars");
        for (const auto& kv : n) {
            std::string name = kv.first.IsScalar() ? kv.first.Scalar() : "";
            if (name.empty()) {
                r_.error(kv.first.Mark(), path + ": a calendar name must be a plain word");
                continue;
            }
            if (out.calendars.count(name)) {
                r_.error(kv.first.Mark(), "duplicate key '" + path + "." + name + "'");
                continue;
            }
            out.calendars[name] = calendar(kv.second, path + "." + name, name);
        }
    }

    sla::Calendar calendar(const YAML::Node& node, const std::string& where, const std::string& name) {
        sla::Calendar cal;
        cal.name = name;
        bool have_zone = false, have_hours = false, always = false;
        YAML::Node hours_node;
        r_.map(node, where,
               {
                   {"time_zone",
                    [&](const YAML::Node& n, const std::string& p) {
                        have_zone = true;
                        std::string zone;
                        r_.string(n, p, zone);
                        if (zone.empty()) return;
                        cal.zone = sla::find_zone(zone);
                        if (!cal.zone)
                            r_.error(n.Mark(), p + ": unknown time zone '" + zone + "'" + zone_hint(zone) +
                                                   " (an IANA name like Europe/Berlin; never a fixed offset)");
                    }},
                   {"hours",
                    [&](const YAML::Node& n, const std::string&) {
                        have_hours = true;
                        hours_node = n;
                    }},
                   {"holidays", [&](const YAML::Node& n, const std::string& p) { holidays(n, p, cal); }},
               });
        if (!node.IsMap()) return cal;
        if (!have_zone) r_.error(node.Mark(), where + ": 'time_zone:' is required (an IANA name like Europe/Berlin)");
        if (!have_hours) {
            r_.error(node.Mark(), where + ": 'hours:' is required (24x7, or working hours per weekday)");
            return cal;
        }
        if (hours_node.IsScalar() && trimmed(hours_node.Scalar()) == "24x7") {
            always = true;
            auto zone = cal.zone;
            auto holidays = std::move(cal.holidays);
            auto yearly = std::move(cal.yearly);
            cal = sla::Calendar::always(name, zone);
            cal.holidays = std::move(holidays);
            cal.yearly = std::move(yearly);
        }
        const std::size_t errors_before = r_.errors().size();
        if (!always) week(hours_node, where + ".hours", cal);
        // Only when the hours were read cleanly: a misspelt day already has its own error.
        if (!always && hours_node.IsMap() && r_.errors().size() == errors_before && !cal.has_working_time())
            r_.error(hours_node.Mark(), where + ".hours: no working hours on any day: no target could ever be due");
        return cal;
    }

    void week(const YAML::Node& n, const std::string& path, sla::Calendar& cal) {
        if (!n.IsMap())
            return r_.error(n.Mark(), path + ": expected 24x7 or a mapping of days (mon-fri, sat, ...) to intervals");
        std::array<std::optional<YAML::Mark>, 7> given;
        for (const auto& kv : n) {
            std::string key = kv.first.IsScalar() ? kv.first.Scalar() : "";
            std::vector<unsigned> days = parse_days(key);
            if (days.empty()) {
                r_.error(kv.first.Mark(), path + ": '" + key + "' is not a day or range of days (mon, tue, wed, thu, fri, sat, sun; mon-fri)");
                continue;
            }
            std::vector<sla::Interval> intervals = day_intervals(kv.second, path + "." + key);
            for (unsigned d : days) {
                if (given[d]) {
                    r_.error(kv.first.Mark(), path + "." + key + ": " + kDays[d] + " is already given at " +
                                                  where_of(file_, *given[d]));
                    continue;
                }
                given[d] = kv.first.Mark();
                cal.week[d] = intervals;
            }
        }
    }

    /// A day's intervals: "09:00-12:30", a list of them, or "closed" / an empty list.
    std::vector<sla::Interval> day_intervals(const YAML::Node& n, const std::string& path) {
        std::vector<std::pair<sla::Interval, YAML::Mark>> read;
        auto one = [&](const YAML::Node& item) {
            if (!item.IsScalar()) return r_.error(item.Mark(), path + ": expected intervals like 09:00-17:30");
            std::string text = trimmed(item.Scalar());
            if (text == "closed") return;
            auto dash = text.find('-');
            std::optional<minutes> a, b;
            if (dash != std::string::npos) a = parse_clock(trimmed(text.substr(0, dash))), b = parse_clock(trimmed(text.substr(dash + 1)));
            if (!a || !b || *a == std::chrono::hours(24))
                return r_.error(item.Mark(), path + ": '" + text + "' is not an interval like 09:00-17:30 (00:00 to 24:00)");
            if (*b <= *a)
                return r_.error(item.Mark(), path + ": '" + text + "' ends before it starts; intervals cannot cross midnight " +
                                                 "(write 22:00-24:00 on one day and 00:00-06:00 on the next)");
            read.push_back({{*a, *b}, item.Mark()});
        };
        if (n.IsSequence()) {
            for (const auto& item : n) one(item);
        } else {
            one(n);
        }
        std::stable_sort(read.begin(), read.end(), [](const auto& x, const auto& y) { return x.first.start < y.first.start; });
        std::vector<sla::Interval> out;
        for (std::size_t i = 0; i < read.size(); ++i) {
            if (i > 0 && read[i].first.start < read[i - 1].first.end) {
                // Point at whichever of the two was written later.
                const auto& later = read[i].second.pos > read[i - 1].second.pos ? read[i] : read[i - 1];
                const auto& other = &later == &read[i] ? read[i - 1] : read[i];
                r_.error(later.second, path + ": " + format_clock(later.first.start) + "-" + format_clock(later.first.end) +
                                           " overlaps " + format_clock(other.first.start) + "-" + format_clock(other.first.end));
                continue;
            }
            out.push_back(read[i].first);
        }
        return out;
    }

    void holidays(const YAML::Node& n, const std::string& path, sla::Calendar& cal) {
        if (!n.IsSequence()) return r_.error(n.Mark(), path + ": expected a list of dates (2026-12-24) and yearly days (12-25)");
        for (const auto& item : n) {
            if (!item.IsScalar()) {
                r_.error(item.Mark(), path + ": expected a date (2026-12-24) or a yearly day (12-25)");
                continue;
            }
            std::string text = trimmed(item.Scalar());
            int y = 0, m = 0, d = 0;
            char tail = 0;
            if (text.size() == 10 && std::sscanf(text.c_str(), "%4d-%2d-%2d%c", &y, &m, &d, &tail) == 3) {
                date::year_month_day ymd{date::year{y}, date::month(static_cast<unsigned>(m)), date::day(static_cast<unsigned>(d))};
                if (!ymd.ok()) {
                    r_.error(item.Mark(), path + ": '" + text + "' is not a date");
                    continue;
                }
                cal.holidays.insert(date::local_days{ymd});
            } else if (text.size() == 5 && std::sscanf(text.c_str(), "%2d-%2d%c", &m, &d, &tail) == 2) {
                // Yearly: valid in some year (02-29 only counts in leap years).
                date::year_month_day ymd{date::year{2024}, date::month(static_cast<unsigned>(m)), date::day(static_cast<unsigned>(d))};
                if (m < 1 || d < 1 || !ymd.ok()) {
                    r_.error(item.Mark(), path + ": '" + text + "' is not a day of the year (MM-DD)");
                    continue;
                }
                cal.yearly.insert({static_cast<unsigned>(m), static_cast<unsigned>(d)});
            } else {
                r_.error(item.Mark(), path + ": '" + text + "' is neither a date (2026-12-24) nor a yearly day (12-25)");
            }
        }
    }

    void policies(const YAML::Node& n, sla::Policies& out) {
        if (!n.IsSequence() || n.size() == 0)
            return r_.error(n.Mark(), "policies: expected a list of policies, the last one without 'match:' (the default)");
        std::map<std::string, YAML::Mark> names;
        std::optional<YAML::Mark> default_at;
        for (std::size_t i = 0; i < n.size(); ++i) {
            std::string where = "policies[" + std::to_string(i) + "]";
            if (default_at) {
                r_.error(n[i].Mark(), where + ": can never match: the default policy at " + where_of(file_, *default_at) +
                                          " (no 'match:') takes every ticket; put it last");
                continue;
            }
            sla::Policy p = policy(n[i], where, out, names);
            if (n[i].IsMap() && p.match.empty()) default_at = n[i].Mark();
            out.policies.push_back(std::move(p));
        }
        if (!default_at)
            r_.error(n.Mark(), "policies: no default policy: the last one must have no 'match:' so every ticket has a policy");
    }

    sla::Policy policy(const YAML::Node& node, const std::string& where, const sla::Policies& out,
                       std::map<std::string, YAML::Mark>& names) {
        sla::Policy p;
        YAML::Mark name_mark = node.Mark();
        bool have_calendar = false;
        auto target = [&](std::optional<sla::Duration>& field) {
            return [&](const YAML::Node& n, const std::string& path) {
                std::chrono::seconds d{0};
                r_.duration(n, path, d);
                if (n.IsScalar() && parse_duration(n.Scalar()) && d <= std::chrono::seconds(0))
                    return r_.error(n.Mark(), path + ": a target must be longer than 0");
                if (d > std::chrono::seconds(0)) field = d;
            };
        };
        r_.map(node, where,
               {
                   {"name",
                    [&](const YAML::Node& n, const std::string& path) {
                        name_mark = n.Mark();
                        r_.string(n, path, p.name);
                    }},
                   {"match", [&](const YAML::Node& n, const std::string& path) { match(n, path, p.match); }},
                   {"calendar",
                    [&](const YAML::Node& n, const std::string& path) {
                        have_calendar = true;
                        r_.string(n, path, p.calendar);
                        if (p.calendar.empty() || out.calendars.count(p.calendar)) return;
                        std::string known, best;
                        std::size_t best_d = 3;
                        for (const auto& [k, _] : out.calendars) {
                            known += (known.empty() ? "" : ", ") + k;
                            if (auto d = edit_distance(p.calendar, k); d < best_d) best_d = d, best = k;
                        }
                        r_.error(n.Mark(), path + ": unknown calendar '" + p.calendar + "'" +
                                               (best.empty() ? "" : " (did you mean '" + best + "'?)") +
                                               (known.empty() ? "" : "; calendars: " + known));
                    }},
                   {"first_response", target(p.first_response)},
                   {"next_response", target(p.next_response)},
                   {"resolution", target(p.resolution)},
                   {"pause_while_pending",
                    [&](const YAML::Node& n, const std::string& path) { r_.boolean(n, path, p.pause_while_pending); }},
                   {"reminders",
                    [&](const YAML::Node& n, const std::string& path) {
                        if (!n.IsSequence()) return r_.error(n.Mark(), path + ": expected a list of reminders");
                        for (std::size_t i = 0; i < n.size(); ++i)
                            p.reminders.push_back(reminder(n[i], path + "[" + std::to_string(i) + "]"));
                    }},
                   {"escalate", [&](const YAML::Node& n, const std::string& path) { p.escalate = escalation(n, path); }},
               });
        if (!node.IsMap()) return p;
        if (p.name.empty()) {
            r_.error(name_mark, where + ": every policy needs a name (reports and tickets show it)");
        } else if (auto [it, fresh] = names.emplace(p.name, name_mark); !fresh) {
            r_.error(name_mark, where + ": the policy name '" + p.name + "' is already used at " + where_of(file_, it->second));
        }
        if (!have_calendar) r_.error(node.Mark(), where + ": 'calendar:' is required (the business hours its targets count in)");
        if (!p.first_response && !p.next_response && !p.resolution)
            r_.error(node.Mark(), where + ": no target: give at least one of first_response, next_response, resolution");
        return p;
    }

    void match(const YAML::Node& node, const std::string& where, sla::Match& m) {
        r_.map(node, where,
               {
                   {"priority",
                    [&](const YAML::Node& n, const std::string& path) {
                        r_.string_list(n, path, m.priorities);
                        for (const auto& v : m.priorities)
                            if (!one_of(kPriorities, v))
                                r_.error(n.Mark(), path + ": unknown priority '" + v + "' (low, normal, high, urgent)");
                    }},
                   {"queue", [&](const YAML::Node& n, const std::string& path) { r_.string_list(n, path, m.queues); }},
                   {"tags", [&](const YAML::Node& n, const std::string& path) { r_.string_list(n, path, m.tags); }},
               });
        if (node.IsMap() && m.empty())
            r_.error(node.Mark(), where + ": an empty match takes every ticket; leave 'match:' out for the default policy");
    }

    void targets(const YAML::Node& n, const std::string& path, std::vector<sla::Target>& out) {
        std::vector<std::string> names;
        r_.string_list(n, path, names);
        for (const auto& name : names) {
            bool found = false;
            for (auto t : sla::kTargets)
                if (name == sla::to_string(t)) out.push_back(t), found = true;
            if (!found)
                r_.error(n.Mark(), path + ": unknown target '" + name + "' (first_response, next_response, resolution)");
        }
    }

    static bool looks_like_address(const std::string& s) {
        auto at = s.find('@');
        return at != std::string::npos && at > 0 && at + 1 < s.size() && s.find('@', at + 1) == std::string::npos &&
               s.find_first_of(" \t<>,;") == std::string::npos;
    }

    static std::string lower(std::string s) {
        for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        return s;
    }

    sla::Reminder reminder(const YAML::Node& node, const std::string& where) {
        sla::Reminder r;
        bool have_at = false, have_to = false;
        r_.map(node, where,
               {
                   {"at",
                    [&](const YAML::Node& n, const std::string& path) {
                        have_at = true;
                        if (!r_.scalar(n, path)) return;
                        std::string text = trimmed(n.Scalar());
                        if (text == "breach") return;
                        auto pct = text.size() > 1 && text.back() == '%' ? parse_int(text.substr(0, text.size() - 1))
                                                                          : std::nullopt;
                        if (!pct || *pct < 1 || *pct > 99)
                            return r_.error(n.Mark(), path + ": expected a share of the target like 75% (1% to 99%) or breach, got '" +
                                                          text + "'");
                        r.percent = static_cast<int>(*pct);
                    }},
                   {"to",
                    [&](const YAML::Node& n, const std::string& path) {
                        have_to = true;
                        recipients(n, path, r.to);
                    }},
                   {"targets", [&](const YAML::Node& n, const std::string& path) { targets(n, path, r.targets); }},
               });
        if (node.IsMap() && !have_at) r_.error(node.Mark(), where + ": 'at:' is required (75% or breach)");
        if (node.IsMap() && !have_to) r_.error(node.Mark(), where + ": 'to:' is required (assignee, queue, addresses)");
        return r;
    }

    void recipients(const YAML::Node& n, const std::string& path, sla::Recipients& to) {
        std::vector<std::string> items;
        r_.string_list(n, path, items);
        for (const auto& raw : items) {
            std::string item = lower(trimmed(raw));
            if (item == "assignee") to.assignee = true;
            else if (item == "queue") to.queue = true;
            else if (looks_like_address(item)) to.addresses.push_back(item);
            else r_.error(n.Mark(), path + ": '" + raw + "' is neither assignee, queue nor an email address");
        }
        if (items.empty()) r_.error(n.Mark(), path + ": name at least one recipient");
    }

    sla::Escalation escalation(const YAML::Node& node, const std::string& where) {
        sla::Escalation e;
        r_.map(node, where,
               {
                   {"priority",
                    [&](const YAML::Node& n, const std::string& path) {
                        r_.string(n, path, e.priority);
                        if (!e.priority.empty() && !one_of(kPriorities, e.priority))
                            r_.error(n.Mark(), path + ": unknown priority '" + e.priority + "' (low, normal, high, urgent)");
                    }},
                   {"assign",
                    [&](const YAML::Node& n, const std::string& path) {
                        r_.string(n, path, e.assign);
                        e.assign = lower(trimmed(e.assign));
                        if (!e.assign.empty() && !looks_like_address(e.assign))
                            r_.error(n.Mark(), path + ": expected an agent's email address, got '" + e.assign + "'");
                    }},
                   {"notify",
                    [&](const YAML::Node& n, const std::string& path) {
                        r_.string_list(n, path, e.notify);
                        for (auto& a : e.notify) {
                            a = lower(trimmed(a));
                            if (!looks_like_address(a)) r_.error(n.Mark(), path + ": '" + a + "' is not an email address");
                        }
                    }},
                   {"targets", [&](const YAML::Node& n, const std::string& path) { targets(n, path, e.targets); }},
               });
        if (node.IsMap() && e.priority.empty() && e.assign.empty() && e.notify.empty())
            r_.error(node.Mark(), where + ": an escalation must do something: priority, assign or notify");
        return e;
    }

    static std::string zone_hint(const std::string& name) {
        std::string best;
        std::size_t best_d = 3;
        try {
            const auto& db = date::get_tzdb();
            for (const auto& z : db.zones)
                if (auto d = edit_distance(name, z.name()); d < best_d) best_d = d, best = z.name();
        } catch (const std::exception&) {
            return "";  // no tz database at all: the error itself says enough
        }
        return best.empty() ? "" : " (did you mean '" + best + "'?)";
    }

    Reader& r_;
    std::string file_;
};

}  // namespace

void load_sla_text(const std::string& yaml, const std::string& name, sla::Policies& out,
                   std::vector<ConfigError>& errors) {
    Reader r(name);
    YAML::Node root;
    try {
        root = YAML::Load(yaml);
    } catch (const YAML::ParserException& e) {
        r.error(e.mark, e.msg);
        errors.insert(errors.end(), r.errors().begin(), r.errors().end());
        return;
    }
    SlaFileReader(r, name).document(root, out);
    errors.insert(errors.end(), r.errors().begin(), r.errors().end());
}

void load_sla_file(const std::string& path, sla::Policies& out, std::vector<ConfigError>& errors) {
    auto text = read_whole_file(path);
    if (!text) {
        errors.push_back({path, 0, 0, "cannot read the SLA file"});
        return;
    }
    load_sla_text(*text, path, out, errors);
}

void load_sla_policies(Config& cfg, const std::string& base_dir, const ConfigError& at,
                       std::vector<ConfigError>& errors) {
    namespace fs = std::filesystem;
    if (fs::path(cfg.sla_file).is_relative())
        cfg.sla_file = (fs::path(base_dir) / cfg.sla_file).lexically_normal().string();
    const std::size_t before = errors.size();
    sla::Policies loaded;
    load_sla_file(cfg.sla_file, loaded, errors);
    if (errors.size() != before) return;
    auto fail = [&](const std::string& message) {
        ConfigError e = at;
        e.message = "sla: " + message;
        errors.push_back(std::move(e));
    };
    std::set<std::string> queues(cfg.queues.begin(), cfg.queues.end());
    for (const auto& a : cfg.agents) queues.insert(a.queues.begin(), a.queues.end());
    bool mails = false;
    for (auto& p : loaded.policies) {
        for (const auto& q : p.match.queues)
            if (!queues.count(q))
                fail("policy '" + p.name + "' matches queue '" + q + "', which the config does not declare" +
                     " (queues: or an agent's queues)");
        if (!p.reminders.empty()) mails = true;
        if (p.escalate) {
            if (!p.escalate->notify.empty()) mails = true;
            if (!p.escalate->assign.empty()) {
                const std::string want = parsers::ascii_lower(p.escalate->assign);
                const Agent* found = nullptr;
                for (const auto& a : cfg.agents)
                    if (a.address == want || parsers::ascii_lower(a.name) == want) found = &a;
                if (found) p.escalate->assign = found->address;
                else fail("policy '" + p.name + "': escalate.assign '" + p.escalate->assign + "' is not an agent (agents:)");
            }
        }
    }
    // Reminders go out through the outbox: a missing template is an error now, never a
    // failure at the moment a reminder is due.
    if (mails && cfg.smtp) {
        if (cfg.templates.empty() && fs::is_directory(cfg.templates_dir))
            cfg.templates = load_templates(cfg.templates_dir, errors);
        for (const char* name : {"sla_reminder", "sla_breach"})
            if (!cfg.templates.count(name))
                fail(std::string("no template '") + name + "' (expected " + cfg.templates_dir + "/" + name +
                     ".txt): SLA reminders and breaches are mailed with it");
    }
    if (errors.size() == before) cfg.sla = std::move(loaded);
}

}  // namespace ticketd::config
