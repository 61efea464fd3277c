// Thin on purpose: everything testable lives in the daemon library.
#include <cstdio>
#include <exception>

#include "daemon/cli.h"

int main(int argc, char** argv) {
    try {
        return ticketd::daemon::run_cli(argc, argv);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "ticketd: fatal: %s\n", e.what());
        return 70;  // EX_SOFTWARE
    }
}
