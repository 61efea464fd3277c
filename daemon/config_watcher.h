#pragma once
// Reload on save (issue 4): watches the config file and every rule file (and rule directory) it
// names through inotify on the Asio loop, and calls back once the edits have settled. What the
// callback does (Service::reload: build a new snapshot, swap it in only if valid) decides whether
// an edit takes effect; a half-written file fails validation and the old rules stay.
//
// Directories are watched rather than files, so editors that save by writing a temporary file
// and renaming it over the original (vim, most IDEs) are seen, and so are files added to or
// removed from a `rules.d/` directory.

#include "daemon/curl_multi.h"  // first: includes <utility> before Asio

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <array>
#include <chrono>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "config/config.h"

namespace ticketd::daemon {

/// What a snapshot was built from: the config file, the rule files and directories it named, the
/// address lists and .eml files its rules and tests read.
std::vector<std::string> watched_paths(const config::Config& cfg);

class ConfigWatcher {
public:
    /// `on_change` runs on the loop `debounce` after the last relevant change (an editor's save
    /// is several events; a script may copy several files).
    ConfigWatcher(boost::asio::io_context& io, std::function<void()> on_change,
                  std::chrono::milliseconds debounce = std::chrono::milliseconds(400));
    ~ConfigWatcher();
    ConfigWatcher(const ConfigWatcher&) = delete;
    ConfigWatcher& operator=(const ConfigWatcher&) = delete;

    /// Watch these files and directories (replacing what was watched). False when inotify is not
    /// available; SIGHUP still works then.
    bool watch(const std::vector<std::string>& paths);
    void stop();

private:
    void read();
    bool relevant(const std::string& dir, const std::string& name) const;

    std::function<void()> on_change_;
    std::chrono::milliseconds debounce_;
    boost::asio::posix::stream_descriptor stream_;
    boost::asio::steady_timer settle_;
    std::map<int, std::string> dirs_by_watch_;  ///< inotify watch descriptor -> directory
    std::set<std::string> files_;               ///< watched files (absolute, normalised)
    std::set<std::string> whole_dirs_;          ///< directories whose every *.yaml counts
    std::array<char, 16 * 1024> buffer_{};
    bool reading_ = false;
};

}  // namespace ticketd::daemon
