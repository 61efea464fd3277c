// Soak (issue 8): one long-running `ticketd run` against the real dovecot and SMTP sink while a
// load generator delivers, at a steady rate, a mix of new tickets, requester replies (threaded by
// the acknowledgement's Message-ID), agent replies (into a second mailbox marked
// `trusted_agents`), bounces of our acknowledgements (a DSN naming the acknowledgement's
// Message-ID) and out-of-office auto-replies. Every few seconds it samples the daemon's RSS and
// open fds (/proc/PID/status, /proc/PID/fd); it polls the database for new inbound message rows
// to measure the latency from delivery to the committed row. At the end everything must be
// accounted for and RSS/fds of the last quarter must stay within a stated bound of the first.
//
//   ctest -L soak                                     # the short run, about 60 s
//   build/tests/soak/test_soak --minutes 30 [--rate 3] [--samples FILE]   # the documented one
//
// Latency is observed by polling every 200 ms, so each figure includes up to 200 ms of
// observation delay on top of the daemon's poll interval (1 s here).

#include <gtest/gtest.h>

#include <signal.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/accounting.h"
#include "tests/support/desk.h"
#include "tests/support/dovecot.h"
#include "tests/support/paths.h"
#include "tests/support/process.h"
#include "tests/support/smtp_sink.h"

namespace {

namespace fs = std::filesystem;
namespace support = ticketd::testing;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

struct SoakOptions {
    double minutes = 1.0;
    double rate = 2.0;  ///< mails per second, all kinds together
    std::string samples_file;
};
SoakOptions g_options;

// ---------------------------------------------------------------------------------------------
// Small pure helpers

/// The unfolded value of header `name` in the top-level header block ("" when absent).
std::string header(const std::string& raw, const std::string& name) {
    const auto end = raw.find("\r\n\r\n") != std::string::npos ? raw.find("\r\n\r\n") : raw.find("\n\n");
    const std::string head = "\n" + raw.substr(0, end);
    std::string lower = head;
    std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
    std::string key = "\n" + name + ":";
    std::transform(key.begin(), key.end(), key.begin(), ::tolower);
    auto p = lower.find(key);
    if (p == std::string::npos) return "";
    p += key.size();
    std::string v;
    for (auto e = head.find('\n', p);; e = head.find('\n', p)) {
        v += head.substr(p, e == std::string::npos ? std::string::npos : e - p);
        if (e == std::string::npos || e + 1 >= head.size() || (head[e + 1] != ' ' && head[e + 1] != '\t')) break;
        p = e + 1;
    }
    while (!v.empty() && (v.back() == '\r' || v.back() == ' ')) v.pop_back();
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.erase(v.begin());
    return v;
}

std::string strip_angles(std::string v) {
    auto lt = v.find('<'), gt = v.find('>');
    return lt == std::string::npos || gt == std::string::npos || gt < lt ? v : v.substr(lt + 1, gt - lt - 1);
}

double percentile(std::vector<double> v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    auto i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
    return v[std::min(i, v.size() - 1)];
}

long proc_rss_kb(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
    return -1;
}

long proc_fds(pid_t pid) {
    std::error_code ec;
    long n = 0;
    for (fs::directory_iterator it("/proc/" + std::to_string(pid) + "/fd", ec), end; !ec && it != end; it.increment(ec))
        ++n;
    return ec ? -1 : n;
}

// ---------------------------------------------------------------------------------------------
// The mails the generator writes

const char* const kDate = "Date: Mon, 30 Nov 2026 09:00:00 +0000\r\n";

std::string new_request(const std::string& id, const std::string& from, int n) {
    return "From: Requester " + std::to_string(n) + " <" + from + ">\r\nTo: support@acme.example\r\nSubject: Soak case " +
           std::to_string(n) + "\r\n" + kDate + "Message-ID: <" + id +
           ">\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThe printer in room " +
           std::to_string(n) + " is on fire again.\r\n";
}

std::string reply(const std::string& id, const std::string& from, const std::string& to_id, const std::string& subject,
                  const std::string& body, const std::string& extra = "") {
    return "From: " + from + "\r\nTo: support@acme.example\r\nSubject: Re: " + subject + "\r\n" + kDate +
           "Message-ID: <" + id + ">\r\nIn-Reply-To: <" + to_id + ">\r\nReferences: <" + to_id + ">\r\n" + extra +
           "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + body + "\r\n";
}

std::string out_of_office(const std::string& id, const std::string& from, const std::string& to_id,
                          const std::string& subject) {
    return "From: " + from + "\r\nTo: support@acme.example\r\nSubject: Automatic reply: " + subject + "\r\n" + kDate +
           "Message-ID: <" + id + ">\r\nIn-Reply-To: <" + to_id + ">\r\nReferences: <" + to_id +
           ">\r\nAuto-Submitted: auto-replied\r\nX-Auto-Response-Suppress: All\r\n"
           "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
           "I am out of the office until Monday.\r\n";
}

std::string dsn(const std::string& id, const std::string& rcpt, const std::string& bounced_id,
                const std::string& subject) {
    const std::string b = "soak-dsn-boundary";
    return "Return-Path: <>\r\nFrom: MAILER-DAEMON@mx.customer.example (Mail Delivery System)\r\n"
           "To: support@acme.example\r\nSubject: Undelivered Mail Returned to Sender\r\n" + std::string(kDate) +
           "Message-ID: <" + id + ">\r\nAuto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
           "Content-Type: multipart/report; report-type=delivery-status; boundary=\"" + b + "\"\r\n\r\n"
           "--" + b + "\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
           "Your message could not be delivered.\r\n\r\n"
           "--" + b + "\r\nContent-Type: message/delivery-status\r\n\r\n"
           "Reporting-MTA: dns; mx.customer.example\r\n\r\n"
           "Final-Recipient: rfc822; " + rcpt + "\r\nAction: failed\r\nStatus: 5.1.1\r\n"
           "Diagnostic-Code: smtp; 550 5.1.1 <" + rcpt + ">: User unknown\r\n\r\n"
           "--" + b + "\r\nContent-Type: text/rfc822-headers\r\n\r\n"
           "From: ACME Support <support@acme.example>\r\nTo: " + rcpt + "\r\nSubject: " + subject + "\r\n"
           "Message-ID: <" + bounced_id + ">\r\n\r\n"
           "--" + b + "--\r\n";
}

// ---------------------------------------------------------------------------------------------

enum class Kind { fresh, requester_reply, agent_reply, bounce, auto_reply };
const char* name_of(Kind k) {
    switch (k) {
        case Kind::fresh: return "new";
        case Kind::requester_reply: return "reply";
        case Kind::agent_reply: return "agent";
        case Kind::bounce: return "bounce";
        case Kind::auto_reply: return "auto_reply";
    }
    return "?";
}
// The mix, one slot per delivery: 40% new, 20% requester replies, 20% agent replies, 10% bounces,
// 10% auto-replies.
const Kind kMix[] = {Kind::fresh, Kind::requester_reply, Kind::fresh, Kind::agent_reply, Kind::fresh,
                     Kind::bounce, Kind::requester_reply, Kind::fresh, Kind::agent_reply, Kind::auto_reply};

struct Acked {  ///< a ticket whose acknowledgement reached the sink
    std::string requester, ack_id, subject;
    bool bounced = false;
};

struct Sample {
    double t;  ///< seconds since the start
    long rss_kb, fds;
};

class Soak : public ::testing::Test {
protected:
    void SetUp() override {
        if (!support::DovecotServer::available()) GTEST_SKIP() << support::DovecotServer::why_unavailable();
        if (!support::SmtpSink::available()) GTEST_SKIP() << support::SmtpSink::why_unavailable();
        imap_ = std::make_unique<support::DovecotServer>(
            std::vector<support::DovecotUser>{{"support", "secret"}, {"agents", "secret"}});
        sink_ = std::make_unique<support::SmtpSink>();
        // Two mailboxes: the public one, and the agents' one that only agents can write to.
        support::write_desk(dir_.path(), imap_.get(), *sink_,
                            {"    after_ingest: move\n"
                             "    poll_interval: 1s\n"
                             "  - name: agents\n"
                             "    url: " + imap_->imap_url() + "\n"
                             "    username: agents\n"
                             "    password_file: imap.password\n"
                             "    require_starttls: false\n"
                             "    after_ingest: move\n"
                             "    poll_interval: 1s\n"
                             "    trusted_agents: true\n",
                             "logging:\n  level: warn\n"
                             "auto_reply:\n  max_per_sender_per_hour: 1000\n"
                             "agents:\n  - {address: alice@agents.example, name: Alice Agent}\n"});
        db_path_ = (dir_ / "desk.db").string();
    }

    void TearDown() override {
        if (pid_ > 0) support::stop_process(pid_);
        if (db_) sqlite3_close(db_);
    }

    // --- the sink, read incrementally (it holds thousands of files by the end) ---------------
    void scan_sink() {
        std::vector<std::pair<fs::file_time_type, fs::path>> fresh;
        for (const char* sub : {"new", "cur"}) {
            std::error_code ec;
            for (fs::directory_iterator it(sink_dir_ / sub, ec), end; !ec && it != end; it.increment(ec))
                if (!sink_seen_.count(it->path().filename().string()))
                    fresh.emplace_back(it->last_write_time(), it->path());
        }
        std::sort(fresh.begin(), fresh.end());
        for (auto& [t, p] : fresh) {
            std::string raw;
            try {
                raw = support::read_file(p);
            } catch (const std::exception&) {
                continue;  // moved new/ -> cur/ meanwhile: seen at the next scan
            }
            sink_seen_.insert(p.filename().string());
            const std::string id = support::message_id_of(raw);
            ++at_sink_[id];
            const std::string answers = strip_angles(header(raw, "In-Reply-To"));
            auto req = waiting_ack_.find(answers);
            if (req != waiting_ack_.end() && header(raw, "X-RcptTo").find(req->second) != std::string::npos) {
                acked_.push_back({req->second, id, header(raw, "Subject")});
                waiting_ack_.erase(req);
            }
        }
    }

    // --- the database: new inbound message rows, for the latency -----------------------------
    void poll_rows(double now_s) {
        if (!db_) {
            if (!fs::exists(db_path_) ||
                sqlite3_open_v2(db_path_.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
                if (db_) sqlite3_close(db_), db_ = nullptr;
                return;
            }
            sqlite3_busy_timeout(db_, 2000);
        }
        sqlite3_stmt* st = nullptr;
        if (sqlite3_prepare_v2(db_, "SELECT id, message_id FROM messages WHERE direction = 'in' AND id > ? ORDER BY id",
                               -1, &st, nullptr) != SQLITE_OK)
            return;  // the schema is not there yet
        sqlite3_bind_int64(st, 1, last_row_);
        while (sqlite3_step(st) == SQLITE_ROW) {
            last_row_ = sqlite3_column_int64(st, 0);
            auto* p = sqlite3_column_text(st, 1);
            auto it = in_flight_.find(p ? reinterpret_cast<const char*>(p) : "");
            if (it == in_flight_.end()) continue;
            latencies_.push_back({it->second, now_s - it->second});
            in_flight_.erase(it);
        }
        sqlite3_finalize(st);
    }

    long long scalar(const char* sql) {
        if (!db_) return -1;
        sqlite3_stmt* st = nullptr;
        long long v = -1;
        if (sqlite3_prepare_v2(db_, sql, -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
            v = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        return v;
    }

    // --- the generator ----------------------------------------------------------------------
    void deliver_one(double now_s) {
        Kind k = kMix[seq_ % std::size(kMix)];
        ++seq_;
        if (k != Kind::fresh && acked_.empty()) k = Kind::fresh;  // nothing to answer yet
        const std::string id = "soak-" + std::to_string(seq_) + "-" + name_of(k) + "@load.example";
        std::string raw, user = "support";
        Acked* t = acked_.empty() ? nullptr : &acked_[rng_() % acked_.size()];
        if (k == Kind::bounce) {
            // A ticket not bounced yet (its requester's acknowledgement is what bounces).
            for (std::size_t i = 0; i < acked_.size() && t->bounced; ++i) t = &acked_[rng_() % acked_.size()];
            if (t->bounced) k = Kind::auto_reply;
        }
        switch (k) {
            case Kind::fresh: {
                const std::string from = "user" + std::to_string(seq_) + "@customer.example";
                raw = new_request(id, from, static_cast<int>(seq_));
                waiting_ack_[id] = from;
                break;
            }
            case Kind::requester_reply:
                raw = reply(id, t->requester, t->ack_id, t->subject, "Still burning, any news?");
                break;
            case Kind::agent_reply:
                raw = reply(id, "Alice Agent <alice@agents.example>", t->ack_id, t->subject,
                            "We are sending a technician today.");
                user = "agents";
                break;
            case Kind::bounce:
                t->bounced = true;
                raw = dsn(id, t->requester, t->ack_id, t->subject);
                break;
            case Kind::auto_reply:
                raw = out_of_office(id, t->requester, t->ack_id, t->subject);
                break;
        }
        imap_->deliver(raw, user);
        delivered_[id] = k;
        ++by_kind_[k];
        ++by_user_[user];
        in_flight_[id] = now_s;
    }

    void sample(double now_s) {
        Sample s{now_s, proc_rss_kb(pid_), proc_fds(pid_)};
        samples_.push_back(s);
        if (samples_out_) *samples_out_ << s.t << ',' << s.rss_kb << ',' << s.fds << ',' << delivered_.size() << ','
                                        << in_flight_.size() << std::endl;  // watchable during a long run
    }

    support::TempDir dir_;
    std::unique_ptr<support::DovecotServer> imap_;
    std::unique_ptr<support::SmtpSink> sink_;
    fs::path sink_dir_;
    std::string db_path_;
    sqlite3* db_ = nullptr;
    pid_t pid_ = -1;

    std::uint64_t seq_ = 0;
    std::minstd_rand rng_{20261206};
    std::map<std::string, Kind> delivered_;          ///< Message-ID -> what it was
    std::map<Kind, int> by_kind_;
    std::map<std::string, std::size_t> by_user_;
    std::map<std::string, std::string> waiting_ack_;  ///< new request's Message-ID -> requester
    std::vector<Acked> acked_;
    std::set<std::string> sink_seen_;
    std::map<std::string, int> at_sink_;
    std::map<std::string, double> in_flight_;        ///< delivered, no row yet: Message-ID -> t
    std::vector<std::pair<double, double>> latencies_;  ///< (delivered at, seconds to the row)
    std::int64_t last_row_ = 0;
    std::vector<Sample> samples_;
    std::unique_ptr<std::ofstream> samples_out_;
};

TEST_F(Soak, SteadyMixedLoadIsAccountedForWithFlatMemoryAndFds) {
    ASSERT_TRUE(fs::exists(support::ticketd_binary())) << "ticketd binary not built";
    sink_dir_ = sink_->maildir();
    if (!g_options.samples_file.empty()) {
        samples_out_ = std::make_unique<std::ofstream>(g_options.samples_file);
        *samples_out_ << "t_s,rss_kb,fds,delivered,in_flight\n";
    }
    pid_ = support::spawn_logged({support::ticketd_binary().string(), "run", "--config", (dir_ / "ticketd.yaml").string()},
                                 dir_ / "daemon.log");
    const double duration_s = g_options.minutes * 60.0;
    const double period_s = 1.0 / g_options.rate;
    const double sample_every_s = duration_s >= 600 ? 10.0 : 2.0;
    const auto t0 = Clock::now();
    const auto since = [&] { return std::chrono::duration<double>(Clock::now() - t0).count(); };
    double next_delivery = 0, next_poll = 0, next_scan = 0, next_sample = 0;
    for (double now = since(); now < duration_s; now = since()) {
        if (now >= next_delivery) deliver_one(now), next_delivery += period_s;
        if (now >= next_poll) poll_rows(now), next_poll = now + 0.2;
        if (now >= next_scan) scan_sink(), next_scan = now + 1.0;
        if (now >= next_sample) sample(now), next_sample += sample_every_s;
        ASSERT_EQ(::kill(pid_, 0), 0) << "ticketd died\n" << support::read_file(dir_ / "daemon.log");
        const double wake = std::min({next_delivery, next_poll, next_scan, next_sample, duration_s});
        if (wake > since()) std::this_thread::sleep_for(std::chrono::duration<double>(wake - since()));
    }
    const double load_end = since();

    // Drain: every delivered mail a row, nothing pending in the inbox, nothing queued in the
    // outbox. A generous bound for a loaded machine; not a timed assertion of speed.
    const double drain_bound = 120 + duration_s / 10;
    bool drained = false;
    while (since() - load_end < drain_bound) {
        poll_rows(since());
        scan_sink();
        if (in_flight_.empty() && scalar("SELECT COUNT(*) FROM inbox WHERE state = 'pending'") == 0 &&
            scalar("SELECT COUNT(*) FROM outbox WHERE state = 'queued'") == 0) {
            drained = true;
            break;
        }
        std::this_thread::sleep_for(250ms);
    }
    const double drain_s = since() - load_end;
    sample(since());
    support::stop_process(pid_);
    pid_ = -1;
    std::this_thread::sleep_for(1s);  // a mail in flight at SIGTERM lands at the sink
    scan_sink();
    EXPECT_TRUE(drained) << in_flight_.size() << " mails without a row after " << drain_s << " s\n"
                         << support::read_file(dir_ / "daemon.log");

    // ---- Accounting -----------------------------------------------------------------------
    const auto ledger = support::read_ledger(db_path_);
    for (const auto& [id, kind] : delivered_) {
        const auto n = ledger.inbound.count(id) ? ledger.inbound.at(id) : 0;
        EXPECT_EQ(n, 1) << "<" << id << "> (" << name_of(kind) << ") message rows";
    }
    EXPECT_EQ(ledger.inbound.size(), delivered_.size()) << "message rows for mail nobody delivered";
    EXPECT_EQ(ledger.inbox_not_done, 0) << "inbox entries pending or quarantined";
    EXPECT_EQ(ledger.inbox_rows, static_cast<std::int64_t>(delivered_.size()));
    EXPECT_EQ(imap_->count("INBOX", "support"), 0u);
    EXPECT_EQ(imap_->count("INBOX", "agents"), 0u);
    EXPECT_EQ(imap_->count("Processed", "support"), by_user_["support"]);
    if (by_user_["agents"]) {
        EXPECT_EQ(imap_->count("Processed", "agents"), by_user_["agents"]);
    }
    {
        ASSERT_NE(db_, nullptr);
        EXPECT_EQ(scalar("SELECT COUNT(DISTINCT outbox) FROM outbox_bounces"), by_kind_[Kind::bounce])
            << "every bounce recorded against the acknowledgement it names";
        EXPECT_EQ(scalar("SELECT COUNT(*) FROM messages WHERE direction = 'in' AND kind = 'bounce'"),
                  by_kind_[Kind::bounce]);
        EXPECT_EQ(scalar("SELECT COUNT(*) FROM messages WHERE direction = 'in' AND kind = 'auto_reply'"),
                  by_kind_[Kind::auto_reply]);
        EXPECT_EQ(scalar("SELECT COUNT(*) FROM messages WHERE direction = 'in' AND kind = 'agent'"),
                  by_kind_[Kind::agent_reply])
            << "agent replies from the trusted mailbox count as the agent's";
    }
    std::map<std::string, int> kinds;
    std::set<std::string> queued;
    for (const auto& row : ledger.outbox) {
        ++kinds[row.kind + "/" + row.state];
        queued.insert(row.message_id);
        EXPECT_EQ(row.state, "sent") << "<" << row.message_id << "> " << row.kind;
        const int copies = at_sink_.count(row.message_id) ? at_sink_.at(row.message_id) : 0;
        EXPECT_EQ(copies, 1) << "copies of <" << row.message_id << "> (" << row.kind << ") at the sink";
    }
    for (const auto& [id, n] : at_sink_) EXPECT_TRUE(queued.count(id)) << "<" << id << "> at the sink is no outbox row";
    EXPECT_EQ(kinds["acknowledgement/sent"], by_kind_[Kind::fresh]) << "one acknowledgement per new ticket, none to automatic mail";

    // ---- Figures ----------------------------------------------------------------------------
    std::string mix, out, outcomes;
    for (auto& [k, n] : by_kind_) mix += std::string(mix.empty() ? "" : " ") + name_of(k) + "=" + std::to_string(n);
    for (auto& [k, n] : kinds) out += (out.empty() ? "" : " ") + k + "=" + std::to_string(n);
    for (auto& [k, n] : ledger.outcomes) outcomes += (outcomes.empty() ? "" : " ") + k + "=" + std::to_string(n);
    std::printf("[ figures  ] soak: %.1f min at %.2f mails/s: %zu delivered (%s); drained in %.1f s\n",
                load_end / 60, g_options.rate, delivered_.size(), mix.c_str(), drain_s);
    std::printf("[ figures  ] soak: inbox outcomes: %s\n", outcomes.c_str());
    std::printf("[ figures  ] soak: outbox: %s; %zu mails at the sink\n", out.c_str(), sink_seen_.size());

    const double slice_s = std::clamp(duration_s / 4, 15.0, 300.0);
    std::map<int, std::vector<double>> slices;
    std::vector<double> all;
    for (auto [t, l] : latencies_) slices[static_cast<int>(t / slice_s)].push_back(l * 1000), all.push_back(l * 1000);
    for (auto& [i, v] : slices)
        std::printf("[ figures  ] soak: latency delivery->row, %4.1f-%4.1f min: n=%zu p50=%.0f ms p99=%.0f ms max=%.0f ms\n",
                    i * slice_s / 60, (i + 1) * slice_s / 60, v.size(), percentile(v, 0.5), percentile(v, 0.99),
                    percentile(v, 1.0));
    std::printf("[ figures  ] soak: latency overall n=%zu p50=%.0f ms p99=%.0f ms\n", all.size(), percentile(all, 0.5),
                percentile(all, 0.99));

    // RSS and fds: the largest of the first quarter against the largest of the last (the run up
    // to the end of the load; the drain sample is left out).
    std::vector<Sample> first, last;
    for (const auto& s : samples_) {
        if (s.t > load_end) continue;
        if (s.t < load_end / 4) first.push_back(s);
        if (s.t >= load_end * 3 / 4) last.push_back(s);
    }
    ASSERT_FALSE(first.empty());
    ASSERT_FALSE(last.empty());
    auto max_of = [](const std::vector<Sample>& v, long Sample::*f) {
        long m = 0;
        for (const auto& s : v) m = std::max(m, s.*f);
        return m;
    };
    const long rss_first = max_of(first, &Sample::rss_kb), rss_last = max_of(last, &Sample::rss_kb);
    const long fds_first = max_of(first, &Sample::fds), fds_last = max_of(last, &Sample::fds);
    std::printf("[ figures  ] soak: RSS max first quarter %ld kB, last quarter %ld kB (%+.1f%%); open fds %ld -> %ld; "
                "%zu samples\n",
                rss_first, rss_last, 100.0 * (rss_last - rss_first) / std::max(1L, rss_first), fds_first, fds_last,
                samples_.size());
    // The bound: a leak of a few kB per message shows over thousands of messages; the SQLite page
    // cache and allocator arenas growing with the database do not exceed it.
    EXPECT_LE(rss_last, rss_first + std::max(16L * 1024, rss_first / 4)) << "RSS grew";
    EXPECT_LE(fds_last, fds_first + 8) << "open fds grew";
}

}  // namespace

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    if (const char* m = std::getenv("TICKETD_SOAK_MINUTES")) g_options.minutes = std::atof(m);
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto value = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
        if (a == "--minutes") g_options.minutes = std::atof(value().c_str());
        else if (a == "--rate") g_options.rate = std::atof(value().c_str());
        else if (a == "--samples") g_options.samples_file = value();
        else {
            std::fprintf(stderr, "usage: %s [--minutes M] [--rate MAILS_PER_S] [--samples FILE.csv]\n", argv[0]);
            return 2;
        }
    }
    if (g_options.minutes <= 0 || g_options.rate <= 0) return std::fprintf(stderr, "--minutes and --rate must be > 0\n"), 2;
    return RUN_ALL_TESTS();
}
