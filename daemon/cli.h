#pragma once
#include <string>
#include <vector>

namespace ticketd::daemon {

/// Run the command line; returns the process exit status. Thin main() calls only this.
int run_cli(int argc, char** argv);

}  // namespace ticketd::daemon
