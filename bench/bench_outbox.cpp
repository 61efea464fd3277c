// Outbox delivery throughput: N queued mails delivered to a local SMTP sink (aiosmtpd, the same
// one the tests use) by the daemon's sender (libcurl on Asio, one reused connection, a durable
// commit per mail), against Python's smtplib sending the same bytes over one connection to the
// same sink in the same run. Prints messages per second, the ratio, connections and peak RSS.
//
// usage: bench_outbox [--mails N] [--peer bench/py_smtplib_send.py] [--sync-every N]
// (--sync-every 1: every `sent` commit waits for the disk, as before 2026-12-06)
// [--no-overlap] commits each answer before the next mail starts (as before 2026-12-06 10:30)
// [--connections N] smtp.connections (1: one mail at a time over one session, as before 13:30)

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>

#include "daemon/sender.h"
#include "mail/compose.h"
#include "store/database.h"
#include "store/outbox.h"
#include "tests/support/paths.h"
#include "tests/support/process.h"
#include "tests/support/smtp_sink.h"

using namespace ticketd;

namespace {

double cpu_seconds() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

long peak_rss_kb() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

std::string make_mail(int i) {
    mail::OutgoingMail m;
    m.from = {"ACME Support", "support@acme.example"};
    m.to = {{"Requester " + std::to_string(i % 97), "user" + std::to_string(i % 97) + "@customer.example"}};
    m.reply_to = mail::Mailbox{"ACME Support", "support@acme.example"};
    m.subject = "[ACME #" + std::to_string(1000 + i) + " 0123456789] Re: Problem number " + std::to_string(i);
    m.message_id = std::to_string(1000 + i) + ".0123456789.r1@acme.example";
    m.in_reply_to = {"msg-" + std::to_string(i) + "@customer.example"};
    m.references = m.in_reply_to;
    m.date = std::chrono::sys_seconds{std::chrono::seconds{1800000000}};
    m.auto_submitted = mail::AutoSubmitted::auto_replied;
    for (int l = 0; l < 12; ++l)
        m.text += "Line " + std::to_string(l) + " of the acknowledgement of ticket #" + std::to_string(1000 + i) + ".\n";
    return mail::compose(m);
}

}  // namespace

int main(int argc, char** argv) {
    int mails = 5000;
    std::string peer;
    int sync_every = daemon::SenderOptions{}.sync_every;
    bool overlap = daemon::SenderOptions{}.overlap_commit;
    int connections = config::SmtpConfig{}.connections;
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--mails") && i + 1 < argc) mails = std::atoi(argv[++i]);
        else if (!std::strcmp(argv[i], "--peer") && i + 1 < argc) peer = argv[++i];
        else if (!std::strcmp(argv[i], "--sync-every") && i + 1 < argc) sync_every = std::atoi(argv[++i]);
        else if (!std::strcmp(argv[i], "--no-overlap")) overlap = false;
        else if (!std::strcmp(argv[i], "--connections") && i + 1 < argc) connections = std::atoi(argv[++i]);
    }
    if (!testing::SmtpSink::available()) {
        std::fprintf(stderr, "%s\n", testing::SmtpSink::why_unavailable().c_str());
        return 1;
    }
    testing::TempDir dir;
    testing::SmtpSink sink;

    // The queue, as the pipeline would have left it (durable database, like a desk).
    store::Database db((dir.path() / "desk.db").string());
    std::size_t bytes = 0;
    {
        std::ofstream records(dir.path() / "mails.rec", std::ios::binary);
        store::Transaction tx(db);
        store::Outbox outbox(db);
        for (int i = 0; i < mails; ++i) {
            store::OutboxMail row;
            row.kind = "acknowledgement";
            row.mail_from = "support@acme.example";
            row.recipients = {"user" + std::to_string(i % 97) + "@customer.example"};
            row.message_id = std::to_string(1000 + i) + ".0123456789.r1@acme.example";
            row.raw = make_mail(i);
            bytes += row.raw.size();
            std::string rec = row.mail_from + "\n" + row.recipients[0] + "\n" + row.raw;
            records << rec.size() << "\n" << rec;
            outbox.enqueue(row);
        }
        tx.commit();
    }
    const long rss_before = peak_rss_kb();

    auto cfg = std::make_shared<config::Config>();
    cfg->desk.name = "ACME Support";
    cfg->desk.addresses = {"support@acme.example"};
    cfg->smtp.emplace();
    cfg->smtp->url = sink.url();
    cfg->smtp->require_starttls = false;
    cfg->smtp->from = "support@acme.example";
    cfg->smtp->connections = connections;

    boost::asio::io_context io;
    daemon::SenderOptions opts;
    opts.batch = 500;
    opts.sync_every = sync_every;
    opts.overlap_commit = overlap;
    daemon::OutboxSender sender(io, db, cfg, opts);
    daemon::FlushStats stats;
    const auto t0 = std::chrono::steady_clock::now();
    const double cpu0 = cpu_seconds();
    sender.flush([&](daemon::FlushStats s) { stats = s; });
    io.run();
    const double ours_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double ours_cpu = cpu_seconds() - cpu0;
    const long rss_after = peak_rss_kb();
    const auto delivered_ours = sink.messages().size();

    std::printf("mails %d, %.1f KB average, smtp.connections %d, a `sent` commit waits for the disk every %d mail(s), %s\n",
                mails, bytes / 1024.0 / mails, connections, sync_every,
                overlap ? "commit overlapping the next mail's MAIL FROM" : "commit before the next mail");
    std::printf("ticketd outbox:  sent %d in %.2f s = %.0f msg/s, %d SMTP connection(s), sink holds %zu\n",
                stats.sent, ours_s, stats.sent / ours_s, stats.connections, delivered_ours);
    std::printf("ticketd CPU (user + system of the sending process): %.2f s = %.0f us/mail\n", ours_cpu,
                ours_cpu * 1e6 / std::max(1, stats.sent));
    std::printf("peak RSS: %ld KB after queueing, %ld KB after sending (whole process)\n", rss_before, rss_after);
    if (!peer.empty()) {
        auto r = testing::run_program({"/usr/bin/python3", peer, "127.0.0.1", std::to_string(sink.port()),
                                       (dir.path() / "mails.rec").string()});
        int n = 0;
        double s = 0, cpu = 0;
        if (r.exit_code != 0 || std::sscanf(r.out.c_str(), "sent %d seconds %lf cpu %lf", &n, &s, &cpu) != 3) {
            std::fprintf(stderr, "peer failed: %s\n%s\n", r.out.c_str(), r.err.c_str());
            return 1;
        }
        std::printf("python smtplib:  sent %d in %.2f s = %.0f msg/s, 1 SMTP connection, sink holds %zu\n", n, s,
                    n / s, sink.messages().size() - delivered_ours);
        std::printf("python CPU: %.2f s = %.0f us/mail\n", cpu, cpu * 1e6 / std::max(1, n));
        std::printf("ratio ticketd/smtplib: %.2fx\n", (stats.sent / ours_s) / (n / s));
    }
    return stats.sent == mails ? 0 : 1;
}
