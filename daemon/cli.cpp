#include "daemon/cli.h"

namespace ticketd::daemon {
int run_cli(int, char**) { return 0; }
}  // namespace ticketd::daemon
