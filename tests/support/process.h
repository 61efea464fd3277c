#pragma once
// Running a program (usually the ticketd binary) the way a user or an MTA would.

#include <string>
#include <vector>

namespace ticketd::testing {

struct RunResult {
    int exit_code = -1;  ///< -1 when it did not exit normally (signal)
    std::string out;     ///< stdout
    std::string err;     ///< stderr
};

/// Run `argv` with `input` on stdin and wait for it; stdout and stderr captured separately.
RunResult run_program(const std::vector<std::string>& argv, const std::string& input = "",
                      const std::vector<std::string>& extra_env = {});

}  // namespace ticketd::testing
