#include "daemon/report_digest.h"

#include <spdlog/spdlog.h>

#include "daemon/cli_report.h"
#include "daemon/crash_points.h"
#include "mail/compose.h"
#include "reports/render.h"
#include "store/database.h"
#include "store/outbox.h"
#include "store/report_rows.h"
#include "tickets/ids.h"
#include "tickets/threading.h"

namespace ticketd::daemon {

DigestPeriod digest_period(const std::string& every, std::int64_t now, const date::time_zone* zone) {
    DigestPeriod p;
    const auto bucket = every == "monthly" ? reports::Bucket::month
                        : every == "weekly" ? reports::Bucket::week
                                            : reports::Bucket::day;
    p.until = period_start(now, bucket, zone);
    p.since = period_start(p.until - 1, bucket, zone);  // the start of the period before
    p.by = bucket == reports::Bucket::month ? reports::Bucket::week : reports::Bucket::day;
    return p;
}

int queue_due_digests(store::Database& db, const config::Config& cfg, std::int64_t now) {
    if (!cfg.smtp) return 0;  // the config refuses reports: without smtp:
    int queued = 0;
    for (const auto& d : cfg.reports) {
        const std::string tz = d.tz.empty() ? default_zone(cfg) : d.tz;
        const auto* zone = sla::find_zone(tz);
        if (!zone) continue;  // checked at load
        const auto period = digest_period(d.every, now, zone);
        const std::string key = d.key();
        if (store::digest_recorded(db, key, period.since)) continue;

        reports::Options o;
        o.since = period.since;
        o.until = period.until;
        o.by = period.by;
        o.zone = zone;
        o.queue = d.queue;
        o.tag = d.tag;
        const auto report = make_report(db, cfg, o);

        mail::OutgoingMail m;
        const std::string from = cfg.smtp->from.empty() ? cfg.desk.addresses.at(0) : cfg.smtp->from;
        m.from = {cfg.desk.name, from};
        for (const auto& a : d.to) m.to.push_back({"", a});
        std::string subject = "[" + cfg.desk.name + "] " + d.every + " report, " +
                              reports::local_date(period.since, zone) + " to " +
                              reports::local_date(period.until - 1, zone);
        if (!d.queue.empty()) subject += ", queue " + d.queue;
        if (!d.tag.empty()) subject += ", tag " + d.tag;
        m.subject = subject;
        m.message_id = "report." + tickets::new_token() + "." + std::to_string(period.since) + "@" +
                       tickets::our_host(cfg.desk);
        m.date = std::chrono::sys_seconds(std::chrono::seconds(now));
        m.text = reports::render_text(report);
        m.auto_submitted = mail::AutoSubmitted::auto_generated;

        store::OutboxMail row;
        row.kind = "report";
        row.mail_from = from;
        row.recipients = d.to;
        row.message_id = m.message_id;
        row.raw = mail::compose(m);
        // The report is computed outside the write lock (it can take a while on a big desk); the
        // check that counts is this one, with the outbox row and the record in one transaction.
        store::Transaction tx(db);
        if (store::digest_recorded(db, key, period.since)) continue;
        const std::int64_t id = store::Outbox(db).enqueue(row);
        store::record_digest(db, key, period.since, period.until, id, now);
        tx.commit();
        crash_point("digest.queued");
        ++queued;
    }
    return queued;
}

int run_due_digests(store::Database& db, const std::shared_ptr<const config::Config>& cfg) {
    if (!cfg || cfg->reports.empty()) return 0;
    try {
        const int n = queue_due_digests(db, *cfg, db.now());
        if (n > 0) spdlog::info("event=reports.digests_queued count={}", n);
        return n;
    } catch (const std::exception& e) {
        // Nothing was recorded for the failed one: the next tick tries it again.
        spdlog::warn("event=reports.digest_deferred error=\"{}\"", e.what());
        return 0;
    }
}

}  // namespace ticketd::daemon
