// Ingest throughput (parse, thread, store: one durable transaction per message) into desks of
// growing size. The figure that matters is the ratio to the smallest desk: it should stay flat,
// because every lookup on the ingest path is an index probe. msgs/s is the median of five rounds.
//
//   bench_ingest [--sizes 1000,10000,100000,1000000] [--messages 2000] [--dir /tmp]
//                [--not-durable]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "config/config.h"
#include "store/database.h"
#include "store/inbox.h"
#include "store/seed.h"
#include "store/tickets.h"
#include "tickets/ids.h"
#include "tickets/pipeline.h"

namespace {

using namespace ticketd;

/// CPU seconds of this process: unlike wall time, not inflated when a shared machine's other
/// tenants take the cores, so it shows what desk size costs.
double cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}
using Clock = std::chrono::steady_clock;

struct Args {
    std::vector<std::int64_t> sizes = {1000, 10000, 100000, 1000000};
    int messages = 2000;
    std::filesystem::path dir = std::filesystem::temp_directory_path();
    bool durable = true;
};

Args parse_args(int argc, char** argv) {
    Args a;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) {
                std::cerr << arg << " needs a value\n";
                std::exit(2);
            }
            return argv[++i];
        };
        if (arg == "--sizes") {
            a.sizes.clear();
            std::stringstream ss(value());
            for (std::string s; std::getline(ss, s, ',');) a.sizes.push_back(std::stoll(s));
        } else if (arg == "--messages") {
            a.messages = std::stoi(value());
        } else if (arg == "--dir") {
            a.dir = value();
        } else if (arg == "--not-durable") {
            a.durable = false;
        } else {
            std::cerr << "usage: bench_ingest [--sizes N,N,...] [--messages M] [--dir DIR] "
                         "[--not-durable]\n";
            std::exit(2);
        }
    }
    return a;
}

std::string message(int k, const std::string& from, const std::string& subject,
                    const std::string& extra_headers, const std::string& body) {
    std::string m;
    m += "Return-Path: <" + from + ">\r\n";
    m += "Received: from mx.example by mx.acme.example; Mon, 23 Nov 2026 01:00:00 +0000\r\n";
    m += "From: Bench User <" + from + ">\r\n";
    m += "To: ACME Support <support@acme.example>\r\n";
    m += "Subject: " + subject + "\r\n";
    m += "Date: Mon, 23 Nov 2026 01:00:00 +0000\r\n";
    m += "Message-ID: <bench-" + std::to_string(k) + "@bench.example>\r\n";
    m += extra_headers;
    m += "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n";
    m += body;
    return m;
}

/// 50% new requests, 30% replies by In-Reply-To to a seeded message, 20% replies by subject tag
/// with token: the mix of a busy desk.
std::vector<std::string> workload(store::Database& db, std::int64_t size, int count, int first) {
    std::mt19937_64 rng(12345);
    std::uniform_int_distribution<std::int64_t> pick(1, size);
    store::Tickets tickets(db);
    const std::string body =
        "Hello,\r\n\r\nthe export from the billing page fails with an error since this morning."
        "\r\nCould you have a look?\r\n\r\nThanks\r\n-- \r\nA. User\r\n";
    std::vector<std::string> out;
    out.reserve(static_cast<std::size_t>(count));
    for (int k = first; k < first + count; ++k) {
        const std::int64_t n = 1000 + pick(rng);
        const std::string from = "bench" + std::to_string(k % 997) + "@customer.example";
        switch (k % 10) {
            case 5:
            case 6:
            case 7: {
                std::string ref = "<seed-" + std::to_string(n) + "@customer.example>";
                out.push_back(message(k, from, "Re: Seeded ticket",
                                      "In-Reply-To: " + ref + "\r\nReferences: " + ref + "\r\n",
                                      "> quoted\r\n" + body));
                break;
            }
            case 8:
            case 9: {
                auto t = tickets.by_number(n);
                out.push_back(message(
                    k, from, "Re: " + tickets::format_subject_tag("ACME", n, t->token) + " help",
                    "", body));
                break;
            }
            default:
                out.push_back(message(k, from, "Question " + std::to_string(k), "", body));
        }
    }
    return out;
}

double percentile(std::vector<double> v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    return v[static_cast<std::size_t>(p * static_cast<double>(v.size() - 1))];
}

}  // namespace

int main(int argc, char** argv) {
    const Args args = parse_args(argc, argv);
    auto cfg = std::make_shared<config::Config>();
    cfg->desk.addresses = {"support@acme.example"};
    cfg->desk.subject_tag = "ACME";
    cfg->desk.hostname = "tickets.acme.example";

    std::printf("ingest: %d messages per size and path (50%% new, 30%% In-Reply-To, 20%% subject "
                "tag), synchronous=%s\n"
                "pipe = ticketd ingest, one commit per message; imap = inbox batches of 50 + "
                "process_pending (group commit of 64)\n",
                args.messages, args.durable ? "FULL" : "OFF");
    std::printf("%10s %8s | %10s %8s %8s %7s | %10s %7s | %9s %7s | %7s\n", "tickets", "seed s",
                "pipe msg/s", "p50 ms", "p99 ms", "ratio", "imap msg/s", "ratio", "cpu us/msg",
                "ratio", "db MB");
    double base = 0, batch_base = 0, cpu_base = 0;
    for (auto size : args.sizes) {
        const auto path = args.dir / ("ticketd-bench-" + std::to_string(size) + ".db");
        for (const char* suffix : {"", "-wal", "-shm"})
            std::filesystem::remove(path.string() + suffix);
        store::OpenOptions opts;
        opts.durable = args.durable;
        double seed_s = 0;
        std::vector<double> lat;
        double rate = 0, batch_rate = 0, cpu_us = 0;
        {
            store::Database db(path.string(), opts);
            auto t0 = Clock::now();
            store::SeedOptions so;
            so.tickets = size;
            so.now = db.now();
            store::seed(db, so);
            seed_s = std::chrono::duration<double>(Clock::now() - t0).count();
            const auto msgs = workload(db, size, args.messages, 0);
            const auto imap_msgs = workload(db, size, args.messages, args.messages);
            // Warm the page cache and the statement cache with mail outside the measured set.
            for (int k = 0; k < std::min(100, args.messages); ++k)
                tickets::ingest_raw(db, cfg, "warmup",
                                    message(1'000'000 + k, "warm@customer.example",
                                            "Warm-up " + std::to_string(k), "", "warm-up\r\n"));

            // Path 1, `ticketd ingest` from an MTA: one message, one commit (the exit status
            // must mean "committed"). Five rounds, median rate: the machine is shared.
            lat.reserve(msgs.size());
            int failures = 0;
            std::vector<double> rates;
            const std::size_t rounds = 5, per_round = std::max<std::size_t>(1, msgs.size() / rounds);
            const double cpu0 = cpu_seconds();
            for (std::size_t r = 0; r * per_round < msgs.size(); ++r) {
                const std::size_t end = std::min(msgs.size(), (r + 1) * per_round);
                auto start = Clock::now();
                for (std::size_t k = r * per_round; k < end; ++k) {
                    auto m0 = Clock::now();
                    auto out = tickets::ingest_raw(db, cfg, "bench", msgs[k]);
                    lat.push_back(
                        std::chrono::duration<double, std::milli>(Clock::now() - m0).count());
                    if (out.outcome == tickets::Outcome::quarantined) ++failures;
                }
                double secs = std::chrono::duration<double>(Clock::now() - start).count();
                rates.push_back(static_cast<double>(end - r * per_round) / secs);
            }
            rate = percentile(rates, 0.5);
            cpu_us = (cpu_seconds() - cpu0) * 1e6 / static_cast<double>(msgs.size());

            // Path 2, the IMAP poller: batches of 50 into the inbox (one commit each), then
            // process_pending with group commit. Timed end to end.
            store::Inbox inbox(db);
            tickets::Pipeline pipeline(db, cfg);
            std::vector<double> batch_rates;
            const std::size_t per_batch_round = std::max<std::size_t>(1, imap_msgs.size() / rounds);
            std::uint64_t uid = 0;
            for (std::size_t r = 0; r * per_batch_round < imap_msgs.size(); ++r) {
                const std::size_t end = std::min(imap_msgs.size(), (r + 1) * per_batch_round);
                auto start = Clock::now();
                std::vector<store::FetchedMessage> batch;
                for (std::size_t k = r * per_batch_round; k < end; ++k) {
                    batch.push_back({++uid, imap_msgs[k]});
                    if (batch.size() == 50 || k + 1 == end) {
                        inbox.add_imap_batch("bench", "INBOX", 1, batch);
                        batch.clear();
                    }
                }
                pipeline.process_pending();
                double secs = std::chrono::duration<double>(Clock::now() - start).count();
                batch_rates.push_back(static_cast<double>(end - r * per_batch_round) / secs);
            }
            batch_rate = percentile(batch_rates, 0.5);
            failures += static_cast<int>(inbox.count(store::InboxState::quarantined));
            if (failures) std::fprintf(stderr, "warning: %d messages quarantined\n", failures);
        }
        if (base == 0) base = rate;
        if (batch_base == 0) batch_base = batch_rate;
        if (cpu_base == 0) cpu_base = cpu_us;
        double mb = static_cast<double>(std::filesystem::file_size(path)) / (1024.0 * 1024.0);
        std::printf(
            "%10lld %8.1f | %10.0f %8.2f %8.2f %7.2f | %10.0f %7.2f | %9.0f %7.2f | %7.0f\n",
            static_cast<long long>(size), seed_s, rate, percentile(lat, 0.5), percentile(lat, 0.99),
            rate / base, batch_rate, batch_rate / batch_base, cpu_us, cpu_base / cpu_us, mb);
        std::fflush(stdout);
        for (const char* suffix : {"", "-wal", "-shm"})
            std::filesystem::remove(path.string() + suffix);
    }
    return 0;
}
