// sla.yaml: the shipped example loads and means what its comments say; every mistake an admin
// can make is one error at its exact file:line:col.
#include <gtest/gtest.h>

#include "config/sla_loader.h"
#include "sla/clocks.h"
#include "tests/support/paths.h"

namespace ticketd {
namespace {

using namespace std::chrono_literals;

std::vector<std::string> errors_of(const std::string& yaml) {
    sla::Policies p;
    std::vector<config::ConfigError> errors;
    config::load_sla_text(yaml, "sla.yaml", p, errors);
    std::vector<std::string> out;
    for (const auto& e : errors) out.push_back(e.to_string());
    return out;
}

using Lines = std::vector<std::string>;

TEST(SlaLoader, ShippedExampleLoads) {
    sla::Policies p;
    std::vector<config::ConfigError> errors;
    config::load_sla_file((testing::source_dir() / "config" / "sla.example.yaml").string(), p, errors);
    ASSERT_TRUE(errors.empty()) << errors.front().to_string();
    ASSERT_EQ(p.calendars.size(), 2u);
    const auto& office = p.calendars.at("office");
    EXPECT_EQ(office.zone->name(), "Europe/Berlin");
    ASSERT_EQ(office.week[date::Monday.c_encoding()].size(), 2u);
    EXPECT_EQ(office.week[date::Friday.c_encoding()][1].end, 17h + 30min);
    EXPECT_TRUE(office.week[date::Saturday.c_encoding()].empty());
    EXPECT_TRUE(office.is_holiday(date::local_days{date::year{2026} / 4 / 6}));   // Easter Monday
    EXPECT_TRUE(office.is_holiday(date::local_days{date::year{2030} / 12 / 25}));  // yearly
    EXPECT_EQ(p.calendars.at("around_the_clock").week[date::Sunday.c_encoding()].size(), 1u);

    ASSERT_EQ(p.policies.size(), 3u);
    sla::Facts urgent;
    urgent.priority = "urgent";
    sla::Facts low;
    low.priority = "low";
    EXPECT_EQ(p.select(urgent)->name, "urgent");
    EXPECT_EQ(p.select(low)->name, "normal");  // the default
    const auto& u = p.policies[0];
    EXPECT_EQ(u.calendar, "around_the_clock");
    EXPECT_EQ(u.first_response, 30min);
    ASSERT_EQ(u.reminders.size(), 2u);
    EXPECT_EQ(u.reminders[0].percent, 75);
    EXPECT_TRUE(u.reminders[0].to.assignee && u.reminders[0].to.queue);
    EXPECT_EQ(u.reminders[1].percent, std::nullopt);
    EXPECT_EQ(u.reminders[1].to.addresses, std::vector<std::string>{"oncall-lead@example.com"});
    const auto& high = p.policies[1];
    EXPECT_TRUE(high.pause_while_pending);
    ASSERT_TRUE(high.escalate);
    EXPECT_EQ(high.escalate->priority, "urgent");
    EXPECT_EQ(high.escalate->assign, "support-lead@example.com");
    const auto& normal = p.policies[2];
    EXPECT_EQ(normal.resolution, 37h + 30min);
    EXPECT_TRUE(normal.reminders[0].watches(sla::Target::resolution));
    EXPECT_FALSE(normal.reminders[0].watches(sla::Target::next_response));

    // And it computes: a normal ticket opened Thu 2026-12-24 10:00 CET waits for Monday (24th,
    // 25th and 26th are yearly holidays, then the weekend): first response 8h is 7.5h on Monday
    // and Tue 29 09:30 CET.
    auto s = sla::compute_clocks(p, {sla::Event::created(sla::Time{date::sys_days{date::year{2026} / 12 / 24}} + 9h, "normal")},
                                 sla::Time{date::sys_days{date::year{2026} / 12 / 24}} + 12h);
    ASSERT_FALSE(s.targets.empty());
    EXPECT_EQ(s.targets[0].due, sla::Time{date::sys_days{date::year{2026} / 12 / 29}} + 8h + 30min);
}

const char* kValid = R"(calendars:
  office:
    time_zone: Europe/Berlin
    hours:
      mon-fri: [09:00-12:30, 13:30-17:30]
    holidays: [2026-12-24, 12-25]
policies:
  - name: normal
    calendar: office
    first_response: 8h
)";

TEST(SlaLoader, ValidBaseHasNoErrors) { EXPECT_EQ(errors_of(kValid), Lines{}); }

std::string with(std::string text, const std::string& from, const std::string& to) {
    auto at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return text.replace(at, from.size(), to);
}

TEST(SlaLoader, UnknownTimeZone) {
    EXPECT_EQ(errors_of(with(kValid, "Europe/Berlin", "Europe/Berln")),
              Lines{"sla.yaml:3:16: calendars.office.time_zone: unknown time zone 'Europe/Berln' (did you mean "
                    "'Europe/Berlin'?) (an IANA name like Europe/Berlin; never a fixed offset)"});
    EXPECT_EQ(errors_of(with(kValid, "Europe/Berlin", "+01:00")).size(), 1u);
}

TEST(SlaLoader, InvertedAndOverlappingIntervals) {
    EXPECT_EQ(errors_of(with(kValid, "13:30-17:30", "17:30-13:30")),
              Lines{"sla.yaml:5:30: calendars.office.hours.mon-fri: '17:30-13:30' ends before it starts; intervals "
                    "cannot cross midnight (write 22:00-24:00 on one day and 00:00-06:00 on the next)"});
    EXPECT_EQ(errors_of(with(kValid, "13:30-17:30", "12:00-17:30")),
              Lines{"sla.yaml:5:30: calendars.office.hours.mon-fri: 12:00-17:30 overlaps 09:00-12:30"});
    EXPECT_EQ(errors_of(with(kValid, "13:30-17:30", "13:30-25:00")),
              Lines{"sla.yaml:5:30: calendars.office.hours.mon-fri: '13:30-25:00' is not an interval like 09:00-17:30 "
                    "(00:00 to 24:00)"});
}

TEST(SlaLoader, DayGivenTwice) {
    EXPECT_EQ(errors_of(with(kValid, "      mon-fri: [09:00-12:30, 13:30-17:30]\n",
                             "      mon-fri: [09:00-12:30, 13:30-17:30]\n      fri: 09:00-12:00\n")),
              Lines{"sla.yaml:6:7: calendars.office.hours.fri: fri is already given at sla.yaml:5:7"});
    EXPECT_EQ(errors_of(with(kValid, "mon-fri:", "mon-fry:")),
              Lines{"sla.yaml:5:7: calendars.office.hours: 'mon-fry' is not a day or range of days (mon, tue, wed, thu, "
                    "fri, sat, sun; mon-fri)"});
}

TEST(SlaLoader, CalendarWithoutWorkingHours) {
    EXPECT_EQ(errors_of(with(kValid, "mon-fri: [09:00-12:30, 13:30-17:30]", "mon-fri: closed")),
              Lines{"sla.yaml:5:7: calendars.office.hours: no working hours on any day: no target could ever be due"});
}

TEST(SlaLoader, BadDates) {
    EXPECT_EQ(errors_of(with(kValid, "2026-12-24", "2026-02-30")),
              Lines{"sla.yaml:6:16: calendars.office.holidays: '2026-02-30' is not a date"});
    EXPECT_EQ(errors_of(with(kValid, "12-25", "13-01")),
              Lines{"sla.yaml:6:28: calendars.office.holidays: '13-01' is not a day of the year (MM-DD)"});
    EXPECT_EQ(errors_of(with(kValid, "12-25", "christmas")),
              Lines{"sla.yaml:6:28: calendars.office.holidays: 'christmas' is neither a date (2026-12-24) nor a yearly "
                    "day (12-25)"});
    EXPECT_EQ(errors_of(with(kValid, "12-25", "02-29")), Lines{});  // leap years only, but a real day
}

TEST(SlaLoader, PolicyNamingAnUnknownCalendar) {
    EXPECT_EQ(errors_of(with(kValid, "calendar: office", "calendar: ofice")),
              Lines{"sla.yaml:9:15: policies[0].calendar: unknown calendar 'ofice' (did you mean 'office'?); "
                    "calendars: office"});
}

TEST(SlaLoader, NoDefaultPolicy) {
    EXPECT_EQ(errors_of(with(kValid, "    calendar: office\n", "    calendar: office\n    match: {priority: high}\n")),
              Lines{"sla.yaml:8:3: policies: no default policy: the last one must have no 'match:' so every ticket has "
                    "a policy"});
}

TEST(SlaLoader, PolicyAfterTheDefaultCanNeverMatch) {
    std::string two = std::string(kValid) + "  - name: high\n    match: {priority: high}\n    calendar: office\n    first_response: 1h\n";
    EXPECT_EQ(errors_of(two), Lines{"sla.yaml:11:5: policies[1]: can never match: the default policy at sla.yaml:8:5 (no "
                                    "'match:') takes every ticket; put it last"});
}

TEST(SlaLoader, UnknownKeysWrongValuesAndMissingPieces) {
    EXPECT_EQ(errors_of(with(kValid, "first_response: 8h", "first_respons: 8h")),
              (Lines{"sla.yaml:10:5: unknown key 'policies[0].first_respons' (did you mean 'first_response'?)",
                     "sla.yaml:8:5: policies[0]: no target: give at least one of first_response, next_response, resolution"}));
    EXPECT_EQ(errors_of(with(kValid, "first_response: 8h", "first_response: soon")),
              (Lines{"sla.yaml:10:21: policies[0].first_response: expected a duration like 30s, 5m, 2h or 14d, got 'soon'",
                     "sla.yaml:8:5: policies[0]: no target: give at least one of first_response, next_response, resolution"}));
    EXPECT_EQ(errors_of(with(kValid, "    first_response: 8h\n",
                             "    first_response: 8h\n    reminders:\n      - {at: 120%, to: [assignee, boss]}\n")),
              (Lines{"sla.yaml:12:14: policies[0].reminders[0].at: expected a share of the target like 75% (1% to 99%) or "
                     "breach, got '120%'",
                     "sla.yaml:12:24: policies[0].reminders[0].to: 'boss' is neither assignee, queue nor an email address"}));
    EXPECT_EQ(errors_of(with(kValid, "    first_response: 8h\n", "    first_response: 8h\n    escalate: {priority: asap}\n")),
              Lines{"sla.yaml:11:26: policies[0].escalate.priority: unknown priority 'asap' (low, normal, high, urgent)"});
    EXPECT_EQ(errors_of(with(kValid, "    time_zone: Europe/Berlin\n", "")),
              Lines{"sla.yaml:3:5: calendars.office: 'time_zone:' is required (an IANA name like Europe/Berlin)"});
    EXPECT_EQ(errors_of(""), Lines{"sla.yaml:1:1: the file is empty; 'calendars:' and 'policies:' are required"});
    EXPECT_EQ(errors_of("calendars: [\n"), Lines{"sla.yaml:2:1: end of sequence flow not found"});
}

TEST(SlaLoader, NightShiftIsTwoIntervalsAndAroundTheClockTakesHolidays) {
    sla::Policies p;
    std::vector<config::ConfigError> errors;
    config::load_sla_text(R"(calendars:
  nights:
    time_zone: America/New_York
    hours:
      mon-fri: [00:00-06:00, 22:00-24:00]
      sat: closed
  oncall:
    time_zone: UTC
    hours: 24x7
    holidays: [12-25]
policies:
  - name: all
    calendar: nights
    resolution: 1d
)",
                          "sla.yaml", p, errors);
    ASSERT_TRUE(errors.empty()) << errors.front().to_string();
    const auto& nights = p.calendars.at("nights");
    ASSERT_EQ(nights.week[date::Monday.c_encoding()].size(), 2u);
    EXPECT_EQ(nights.week[date::Monday.c_encoding()][1].end, 24h);
    EXPECT_TRUE(nights.week[date::Saturday.c_encoding()].empty());
    const auto& oncall = p.calendars.at("oncall");
    EXPECT_TRUE(oncall.is_holiday(date::local_days{date::year{2027} / 12 / 25}));
    EXPECT_EQ(oncall.week[date::Saturday.c_encoding()].size(), 1u);
}

}  // namespace
}  // namespace ticketd

// ---------------------------------------------------------------- `sla:` in the main config

namespace main_config {

using ticketd::testing::TempDir;
using ticketd::testing::write_file;

const char* kPolicies = R"(calendars:
  always: {time_zone: UTC, hours: 24x7}
policies:
  - name: billing
    match: {queue: billing}
    calendar: always
    first_response: 1h
    escalate: {assign: bob@acme.example}
  - name: normal
    calendar: always
    resolution: 8h
    reminders:
      - {at: 75%, to: assignee}
)";

std::string main_yaml(const std::string& extra) {
    return "desk:\n  addresses: [support@acme.example]\n  database: desk.db\n"
           "agents:\n  - {address: bob@acme.example, name: Bob, queues: [billing]}\n" + extra;
}

TEST(SlaConfig, RelativeToTheConfigFileAndAgentsNormalised) {
    TempDir dir;
    std::filesystem::create_directories(dir / "policies");
    write_file(dir / "policies" / "sla.yaml", kPolicies);
    write_file(dir / "ticketd.yaml", main_yaml("sla: policies/sla.yaml\n"));
    auto r = ticketd::config::load_file((dir / "ticketd.yaml").string());
    ASSERT_TRUE(r.config) << (r.errors.empty() ? "" : r.errors[0].to_string());
    EXPECT_EQ(r.config->sla_file, (dir / "policies" / "sla.yaml").string());
    ASSERT_EQ(r.config->sla.policies.size(), 2u);
    EXPECT_EQ(r.config->sla.policies[0].escalate->assign, "bob@acme.example");
}

TEST(SlaConfig, ErrorsPointIntoTheSlaFileOrAtTheSlaKey) {
    TempDir dir;
    write_file(dir / "sla.yaml", "calendars:\n  always: {time_zone: Mars/Olympus, hours: 24x7}\npolicies: []\n");
    write_file(dir / "ticketd.yaml", main_yaml("sla: sla.yaml\n"));
    auto r = ticketd::config::load_file((dir / "ticketd.yaml").string());
    EXPECT_FALSE(r.config);
    ASSERT_FALSE(r.errors.empty());
    EXPECT_EQ(r.errors[0].file, (dir / "sla.yaml").string());
    EXPECT_EQ(r.errors[0].line, 2);

    // A queue nobody declared, an unknown agent: errors at `sla:` in the main config.
    std::string text = kPolicies;
    text.replace(text.find("queue: billing"), 14, "queue: biling");
    text.replace(text.find("assign: bob@"), 12, "assign: rob@");
    write_file(dir / "sla.yaml", text);
    write_file(dir / "ticketd.yaml", main_yaml("sla: sla.yaml\n"));
    r = ticketd::config::load_file((dir / "ticketd.yaml").string());
    EXPECT_FALSE(r.config);
    ASSERT_EQ(r.errors.size(), 2u) << r.errors[0].to_string();
    EXPECT_EQ(r.errors[0].line, 6);  // the `sla:` line
    EXPECT_NE(r.errors[0].message.find("'biling'"), std::string::npos) << r.errors[0].message;
    EXPECT_NE(r.errors[1].message.find("'rob@acme.example' is not an agent"), std::string::npos) << r.errors[1].message;

    // A missing file.
    write_file(dir / "ticketd.yaml", main_yaml("sla: nowhere.yaml\n"));
    r = ticketd::config::load_file((dir / "ticketd.yaml").string());
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_NE(r.errors[0].to_string().find("nowhere.yaml"), std::string::npos);
}

TEST(SlaConfig, WithSmtpTheReminderTemplatesMustExist) {
    TempDir dir;
    write_file(dir / "sla.yaml", kPolicies);
    // Every shipped template but the SLA's two.
    std::filesystem::create_directories(dir / "templates");
    for (const auto& f : std::filesystem::directory_iterator(ticketd::testing::source_dir() / "config" / "templates"))
        if (f.path().filename().string().rfind("sla_", 0) != 0)
            std::filesystem::copy_file(f.path(), dir / "templates" / f.path().filename());
    write_file(dir / "ticketd.yaml", main_yaml("sla: sla.yaml\nsmtp: {url: 'smtp://127.0.0.1:2525'}\n"));
    auto r = ticketd::config::load_file((dir / "ticketd.yaml").string());
    ASSERT_EQ(r.errors.size(), 2u) << r.errors[0].to_string();
    EXPECT_NE(r.errors[0].message.find("sla_reminder"), std::string::npos) << r.errors[0].message;
    EXPECT_NE(r.errors[1].message.find("sla_breach"), std::string::npos) << r.errors[1].message;
    write_file(dir / "templates" / "sla_reminder.txt", "Subject: {{sla.kind}}\n\ndue {{sla.due}}\n");
    write_file(dir / "templates" / "sla_breach.txt", "Subject: {{sla.kind}}\n\nbreached\n");
    r = ticketd::config::load_file((dir / "ticketd.yaml").string());
    EXPECT_TRUE(r.config) << (r.errors.empty() ? "" : r.errors[0].to_string());
}

}  // namespace main_config
