#include "daemon/logging.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <memory>

namespace ticketd::daemon {

namespace {

/// "%*" -> syslog priority prefix, so journald files each line at the right level.
class JournalPriorityFlag : public spdlog::custom_flag_formatter {
public:
    void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
        static const char* prefixes[] = {"<7>", "<7>", "<6>", "<4>", "<3>", "<2>", ""};
        const char* p = prefixes[static_cast<int>(msg.level)];
        dest.append(p, p + std::char_traits<char>::length(p));
    }
    std::unique_ptr<custom_flag_formatter> clone() const override {
        return std::make_unique<JournalPriorityFlag>();
    }
};

}  // namespace

void setup_logging(const std::string& level) {
    auto logger = spdlog::stderr_logger_mt("ticketd");
    spdlog::set_default_logger(logger);
    std::unique_ptr<spdlog::pattern_formatter> formatter;
    if (std::getenv("JOURNAL_STREAM")) {
        formatter = std::make_unique<spdlog::pattern_formatter>();
        formatter->add_flag<JournalPriorityFlag>('*').set_pattern("%*level=%l %v");
    } else {
        formatter = std::make_unique<spdlog::pattern_formatter>("%Y-%m-%dT%H:%M:%S.%eZ level=%l %v",
                                                                spdlog::pattern_time_type::utc);
    }
    spdlog::set_formatter(std::move(formatter));
    spdlog::set_level(spdlog::level::from_str(level));
    spdlog::flush_on(spdlog::level::info);
}

}  // namespace ticketd::daemon
