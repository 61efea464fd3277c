#include "daemon/config_watcher.h"

#include <spdlog/spdlog.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

namespace ticketd::daemon {

namespace fs = std::filesystem;

namespace {

std::string absolute(const std::string& p) {
    std::error_code ec;
    auto a = fs::absolute(p, ec);
    return (ec ? fs::path(p) : a).lexically_normal().string();
}

bool is_rule_file_name(const std::string& name) {
    if (name.empty() || name[0] == '.') return false;
    auto ext = fs::path(name).extension().string();
    return ext == ".yaml" || ext == ".yml";
}

}  // namespace

std::vector<std::string> watched_paths(const config::Config& cfg) {
    std::vector<std::string> out{cfg.path};
    out.insert(out.end(), cfg.rule_sources.begin(), cfg.rule_sources.end());
    out.insert(out.end(), cfg.rules.files.begin(), cfg.rules.files.end());
    // The SLA policies and the mail templates are part of the snapshot too: saving one reloads
    // (all or nothing, like a rule file) instead of waiting for a SIGHUP nobody sends.
    if (!cfg.sla_file.empty()) out.push_back(cfg.sla_file);
    for (const auto& [name, t] : cfg.templates) {
        if (!t.text_file.empty()) out.push_back(t.text_file);
        if (!t.html_file.empty()) out.push_back(t.html_file);
    }
    return out;
}

ConfigWatcher::ConfigWatcher(boost::asio::io_context& io, std::function<void()> on_change,
                             std::chrono::milliseconds debounce)
    : on_change_(std::move(on_change)), debounce_(debounce), stream_(io), settle_(io) {
    int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd < 0) {
        spdlog::warn("event=config.watch_unavailable error=\"{}\" action=reload_on_sighup_only", std::strerror(errno));
        return;
    }
    stream_.assign(fd);
}

ConfigWatcher::~ConfigWatcher() { stop(); }

void ConfigWatcher::stop() {
    settle_.cancel();
    boost::system::error_code ec;
    stream_.close(ec);
    dirs_by_watch_.clear();
}

bool ConfigWatcher::watch(const std::vector<std::string>& paths) {
    if (!stream_.is_open()) return false;
    const int fd = stream_.native_handle();
    for (const auto& [wd, _] : dirs_by_watch_) inotify_rm_watch(fd, wd);
    dirs_by_watch_.clear();
    files_.clear();
    whole_dirs_.clear();
    std::set<std::string> dirs;
    for (const auto& p : paths) {
        const std::string a = absolute(p);
        std::error_code ec;
        if (fs::is_directory(a, ec)) {
            whole_dirs_.insert(a);
            dirs.insert(a);
        } else {
            files_.insert(a);
            dirs.insert(fs::path(a).parent_path().string());
        }
    }
    constexpr std::uint32_t kMask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE;
    for (const auto& d : dirs) {
        int wd = inotify_add_watch(fd, d.c_str(), kMask);
        if (wd < 0) {
            spdlog::warn("event=config.watch_failed path=\"{}\" error=\"{}\"", d, std::strerror(errno));
            continue;
        }
        dirs_by_watch_[wd] = d;
    }
    spdlog::debug("event=config.watching files={} directories={}", files_.size(), dirs_by_watch_.size());
    if (!reading_) read();
    return true;
}

bool ConfigWatcher::relevant(const std::string& dir, const std::string& name) const {
    if (name.empty()) return false;
    const std::string full = (fs::path(dir) / name).lexically_normal().string();
    return files_.count(full) || (whole_dirs_.count(dir) && is_rule_file_name(name));
}

void ConfigWatcher::read() {
    reading_ = true;
    stream_.async_read_some(boost::asio::buffer(buffer_), [this](boost::system::error_code ec, std::size_t n) {
        if (ec) {
            reading_ = false;
            return;  // closed (stop) or the descriptor failed: SIGHUP still reloads
        }
        std::string changed;
        for (std::size_t off = 0; off + sizeof(inotify_event) <= n;) {
            inotify_event ev;
            std::memcpy(&ev, buffer_.data() + off, sizeof ev);
            const std::string name = ev.len ? std::string(buffer_.data() + off + sizeof ev) : std::string();
            off += sizeof ev + ev.len;
            auto dir = dirs_by_watch_.find(ev.wd);
            if (dir != dirs_by_watch_.end() && relevant(dir->second, name)) changed = (fs::path(dir->second) / name).string();
        }
        if (!changed.empty()) {
            spdlog::info("event=config.changed path=\"{}\" action=reload_in_ms ms={}", changed, debounce_.count());
            settle_.expires_after(debounce_);  // a later event pushes the reload back again
            settle_.async_wait([this](boost::system::error_code e) {
                if (!e) on_change_();
            });
        }
        read();
    });
}

}  // namespace ticketd::daemon
