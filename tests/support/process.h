#pragma once
// Running a program (usually the ticketd binary) the way a user or an MTA would.

#include <string>
#include <vector>

namespace ticketd::testing {

struct RunResult {
    int exit_code = -1;  ///< -1 when it did not exit normally (signal)
    int signal = 0;      ///< the signal that ended it (SIGKILL, ...), 0 when it exited
    std::string out;     ///< stdout
    std::string err;     ///< stderr
};

/// Run `argv` with `input` on stdin and wait for it; stdout and stderr captured separately.
RunResult run_program(const std::vector<std::string>& argv, const std::string& input = "",
                      const std::vector<std::string>& extra_env = {});

/// The full path of `tool` on $PATH ("" when missing): run_program execs a path, not a name.
std::string which(const std::string& tool);
/// `tool` is on $PATH.
inline bool have(const std::string& tool) { return !which(tool).empty(); }

}  // namespace ticketd::testing
