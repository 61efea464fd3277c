#include "daemon/poller.h"

// GCC 12 flags Boost 1.74's coroutine frame allocator (operator new/delete pairs it cannot see
// through) with a false -Wmismatched-new-delete; the frames are allocated and freed by Asio.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <ctime>
#include <map>
#include <tuple>
#include <optional>
#include <random>

#include "config/values.h"
#include "daemon/crash_points.h"
#include "mail/imap.h"
#include "mail/imap_fetch_stream.h"
#include "store/database.h"
#include "store/inbox.h"

namespace ticketd::daemon {

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;
using Clock = std::chrono::steady_clock;

namespace {

std::int64_t ms_since(Clock::time_point t0) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
}

const char* after_ingest_name(config::ImapAccount::AfterIngest a) {
    switch (a) {
        case config::ImapAccount::AfterIngest::seen: return "seen";
        case config::ImapAccount::AfterIngest::move: return "move";
        case config::ImapAccount::AfterIngest::remove: return "remove";
    }
    return "seen";
}

const char* start_from_name(config::ImapAccount::StartFrom f) {
    switch (f) {
        case config::ImapAccount::StartFrom::all: return "all";
        case config::ImapAccount::StartFrom::now: return "new";
        case config::ImapAccount::StartFrom::since: return "since";
    }
    return "all";
}

/// The UTC calendar day of a unix time.
config::Date day_of(std::int64_t unix_seconds) {
    std::time_t t = static_cast<std::time_t>(std::max<std::int64_t>(0, unix_seconds));
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    return {tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday};
}

/// A server command line stays well below dovecot's 64 KB limit even for scattered UIDs.
constexpr std::size_t kUidsPerCommand = 500;

struct Reply {
    mail::ImapResult result;
    std::string body;
};

}  // namespace

struct Poller::Mailbox {
    Mailbox(asio::io_context& io, config::ImapAccount a) : account(std::move(a)), timer(io) {}
    config::ImapAccount account;
    std::optional<mail::ServerUrl> url;
    int failures = 0;
    asio::steady_timer timer;
    std::minstd_rand rng{std::random_device{}()};
    bool no_esearch = false;  ///< the server rejected ESEARCH once: plain UID SEARCH
};

Poller::Poller(asio::io_context& io, store::Database& db, std::vector<config::ImapAccount> accounts,
               OnStored on_stored, PollerOptions options)
    : io_(io),
      db_(db),
      inbox_(std::make_unique<store::Inbox>(db)),
      on_stored_(std::move(on_stored)),
      options_(options) {
    for (auto& a : accounts) {
        auto mb = std::make_unique<Mailbox>(io, std::move(a));
        mb->url = mail::parse_server_url(mb->account.url);
        mb->no_esearch = !options_.use_esearch;
        mailboxes_.push_back(std::move(mb));
    }
}

Poller::~Poller() {
    *alive_ = false;
    for (auto& mb : mailboxes_) mb->timer.cancel();
}

// ---------------------------------------------------------------------------------------------
// One cycle

namespace {

/// Everything a cycle needs to talk to one mailbox.
struct Session {
    CurlMulti& multi;
    const config::ImapAccount& account;
    const mail::ServerUrl& url;
    mail::ImapOptions options;

    awaitable<Reply> run(mail::ImapRequest req) {
        CURLcode code = co_await multi.async_perform(req.handle(), use_awaitable);
        Reply r{req.result(code), req.take_body()};
        co_return r;
    }
    awaitable<Reply> command(std::string url_, std::string cmd) {
        co_return co_await run(mail::ImapRequest::command(url_, cmd, options));
    }
};

/// The UID a new cursor starts after, for `start_from: new|DATE`: every message that arrived
/// before `since` (or, without a date, everything now in the mailbox) counts as already seen.
/// nullopt with `error` when the server's answers do not allow a safe answer.
awaitable<std::optional<std::uint64_t>> start_point(Session& s, const std::string& url,
                                                    const mail::MailboxStatus& status,
                                                    std::optional<config::Date> since,
                                                    bool& no_esearch, std::string& error) {
    // The highest UID in use: UIDNEXT - 1, or asked for when the server did not say.
    auto highest = [&]() -> awaitable<std::optional<std::uint64_t>> {
        if (status.uidnext > 0) co_return status.uidnext - 1;
        Reply r = co_await s.command(url, "UID SEARCH UID *");
        auto uids = r.result.ok() ? mail::parse_search(r.body) : std::nullopt;
        if (!uids) {
            error = "UID SEARCH UID *: " + (r.result.ok() ? mail::log_safe(r.body, 120) : r.result.error);
            co_return std::nullopt;
        }
        co_return uids->empty() ? 0 : uids->back();
    };
    if (!since) co_return co_await highest();
    Reply r = co_await s.command(url, mail::search_since_command(since->year, since->month,
                                                                 since->day, !no_esearch));
    if (!no_esearch && r.result.status == mail::ImapStatus::rejected) {
        no_esearch = true;
        r = co_await s.command(url, mail::search_since_command(since->year, since->month,
                                                               since->day, false));
    }
    if (!r.result.ok()) {
        error = "UID SEARCH SINCE: " + r.result.error;
        co_return std::nullopt;
    }
    auto uids = mail::parse_search(r.body);
    if (!uids) {
        error = "UID SEARCH SINCE answer not understood: " + mail::log_safe(r.body, 120);
        co_return std::nullopt;
    }
    if (uids->empty()) co_return co_await highest();  // all of it is older
    co_return uids->front() - 1;
}

/// How one UID of a batch was fetched.
struct FetchSlot {
    std::unique_ptr<mail::ImapRequest> req;
    mail::ImapResult result;
    std::string body;
    std::int64_t ms = 0;
    bool done = false;
};

/// What one range request may carry. Debian's libcurl 7.88 counts a custom command's answer
/// against its 300 KB cap on response headers ("Too large response headers"), and counts again,
/// per message, what is left of its 16 KB read buffer (see ImapRequest::fetch_range): 96 KB +
/// 10 x 16 KB stays below. A message over kRangeBytes is fetched alone, where libcurl reads the
/// literal as a body.
constexpr std::uint64_t kRangeBytes = 96 * 1024;
constexpr std::size_t kRangeMessages = 10;
/// UIDs per `UID FETCH ... (UID RFC822.SIZE)`: about 40 bytes of answer each.
constexpr std::size_t kSizesPerCommand = 1000;

/// Runs a list of transfers with at most `width()` in flight, and completes once when none is in
/// flight and none is left to start. The list may grow while it runs (a range that fails part way
/// appends the rest as a new range). Derived provides `width()`, `items()` and `start(i)`, and
/// calls finished() when a transfer ends (then pump() to go on).
template <class Derived>
class BoundedTransfers : public std::enable_shared_from_this<Derived> {
public:
    template <class Token>
    auto async_run_all(Token&& token) {
        return asio::async_initiate<Token, void()>(
            [self = this->shared_from_this()](auto handler) {
                auto h = std::make_shared<decltype(handler)>(std::move(handler));
                self->done_ = [h] { (*h)(); };
                self->pump();
            },
            token);
    }

protected:
    void pump() {
        auto& d = static_cast<Derived&>(*this);
        while (in_flight_ < d.width() && next_ < d.items()) {
            ++in_flight_;
            d.start(next_++);
        }
        if (in_flight_ == 0 && next_ >= d.items() && done_) {
            auto done = std::move(done_);
            done_ = nullptr;
            done();
        }
    }
    void finished() { --in_flight_; }
    /// What is in flight completes; nothing more starts.
    void start_no_more() { next_ = static_cast<Derived&>(*this).items(); }

private:
    std::size_t next_ = 0, in_flight_ = 0;
    std::function<void()> done_;
};

/// Fetches the bodies of a batch in UID ranges over up to `connections` transfers at once. It
/// only ever settles a slot with a success (the whole literal of the UID asked for, of the size
/// the server announced) or with too_large (announced over the limit: never downloaded). Every
/// other UID, and every failure, is left to the single fetches behind it, so attempts keep
/// counting per UID exactly as before.
class RangeBatch : public BoundedTransfers<RangeBatch> {
public:
    RangeBatch(Session& s, std::uint64_t uidvalidity, const std::vector<std::uint64_t>& uids,
               std::vector<FetchSlot>& slots)
        : s_(s), uidvalidity_(uidvalidity), uids_(uids), slots_(slots) {}

    awaitable<void> run() {
        const std::string url = mail::mailbox_url(s_.url, s_.url.mailbox, uidvalidity_);
        // 1. Sizes, one round trip per kSizesPerCommand UIDs.
        std::map<std::uint64_t, std::uint64_t> size_of;
        for (std::size_t off = 0; off < uids_.size(); off += kSizesPerCommand) {
            std::vector<std::uint64_t> part(uids_.begin() + off,
                                            uids_.begin() + std::min(uids_.size(), off + kSizesPerCommand));
            Reply r = co_await s_.command(url, mail::fetch_sizes_command(part));
            mail::FetchStreamParser sizes(0);
            if (!r.result.ok() || !sizes.feed(r.body)) {
                // Left to the single fetches, which know how to blame one message.
                spdlog::info("event=imap.range_sizes_failed account={} detail=\"{}\"",
                             s_.account.name,
                             mail::log_safe(r.result.ok() ? sizes.error() : r.result.error));
                co_return;
            }
            for (const auto& it : sizes.items())
                if (it.size) size_of.emplace(it.uid, *it.size);
        }
        // 2. What is over the limit is given up unread; what fits a range goes in one.
        std::vector<std::uint64_t> ranged, sizes;
        for (std::size_t i = 0; i < uids_.size(); ++i) {
            auto it = size_of.find(uids_[i]);
            if (it == size_of.end()) continue;  // gone, or not answered: the single fetch decides
            if (it->second > s_.options.max_bytes) {
                auto& slot = slots_[i];
                slot.done = true;
                slot.result = {mail::ImapStatus::too_large, CURLE_OK,
                               "message of " + std::to_string(it->second) +
                                   " bytes (RFC822.SIZE) larger than " +
                                   std::to_string(s_.options.max_bytes) + " bytes"};
                continue;
            }
            if (it->second > kRangeBytes) continue;
            ranged.push_back(uids_[i]);
            sizes.push_back(it->second);
        }
        for (std::size_t i = 0; i < uids_.size(); ++i) index_.emplace(uids_[i], i);
        size_of_ = std::move(size_of);
        groups_ = mail::pack_ranges(ranged, sizes, kRangeBytes, kRangeMessages);
        co_await async_run_all(use_awaitable);
    }

    std::size_t ranges() const { return groups_.size(); }
    std::size_t delivered() const { return delivered_; }

private:
    friend class BoundedTransfers<RangeBatch>;
    std::size_t width() const { return static_cast<std::size_t>(std::max(1, s_.account.connections)); }
    std::size_t items() const { return groups_.size(); }

    void start(std::size_t g) {
        auto req = std::make_shared<mail::ImapRequest>(mail::ImapRequest::fetch_range(
            mail::mailbox_url(s_.url, s_.url.mailbox, uidvalidity_), groups_[g],
            s_.options.max_bytes, s_.options));
        auto t0 = Clock::now();
        s_.multi.add(req->handle(), [self = shared_from_this(), req, g, t0](CURLcode code) {
            self->finish(*req, g, code, ms_since(t0));
        });
    }

    void finish(mail::ImapRequest& req, std::size_t g, CURLcode code, std::int64_t ms) {
        finished();
        auto result = req.result(code);
        auto items = req.stream()->take_items();
        std::size_t got = 0;
        for (auto& it : items) {
            auto idx = index_.find(it.uid);
            auto size = size_of_.find(it.uid);
            // Only what was asked for, whole, and as big as announced; the rest goes alone.
            if (!it.has_body || idx == index_.end() || size == size_of_.end() ||
                size->second != it.body.size())
                continue;
            auto& slot = slots_[idx->second];
            if (slot.done) continue;
            slot.done = true;
            slot.result = {mail::ImapStatus::ok, CURLE_OK, {}};
            slot.body = std::move(it.body);
            slot.ms = ms;
            ++got;
        }
        delivered_ += got;
        if (!result.ok()) {
            // The first UID not delivered stopped the range (a hostile line, a cut line, the
            // server failing on it): it goes alone. The ones after it get another range, so one
            // such message does not send ten alone. Each retry is one UID shorter: it ends.
            std::vector<std::uint64_t> rest;
            bool first = true;
            for (auto u : groups_[g]) {
                if (slots_[index_.at(u)].done) continue;
                if (first) {
                    first = false;
                    continue;
                }
                rest.push_back(u);
            }
            if (!rest.empty()) groups_.push_back(std::move(rest));
        }
        if (!result.ok() || got != groups_[g].size())
            spdlog::info("event=imap.range_partial account={} uids={} delivered={} of={} result={} "
                         "detail=\"{}\"",
                         s_.account.name, mail::format_uid_set(groups_[g]), got, groups_[g].size(),
                         mail::to_string(result.status), mail::log_safe(result.error));
        pump();
    }

    Session& s_;
    std::uint64_t uidvalidity_;
    const std::vector<std::uint64_t>& uids_;
    std::vector<FetchSlot>& slots_;
    std::map<std::uint64_t, std::size_t> index_;
    std::map<std::uint64_t, std::uint64_t> size_of_;
    std::vector<std::vector<std::uint64_t>> groups_;
    std::size_t delivered_ = 0;
};

/// Fetches a list of UIDs over up to `connections` transfers at once (one connection each;
/// libcurl's pool keeps them logged in with the mailbox selected between messages).
class FetchBatch : public BoundedTransfers<FetchBatch> {
public:
    using Slot = FetchSlot;

    FetchBatch(Session& s, std::uint64_t uidvalidity, std::vector<std::uint64_t> uids)
        : s_(s), uidvalidity_(uidvalidity), uids_(std::move(uids)), slots_(uids_.size()) {}

    const std::vector<std::uint64_t>& uids() const { return uids_; }
    std::vector<Slot>& slots() { return slots_; }

private:
    friend class BoundedTransfers<FetchBatch>;
    std::size_t width() const { return static_cast<std::size_t>(std::max(1, s_.account.connections)); }
    std::size_t items() const { return uids_.size(); }

    void start(std::size_t i) {
        auto& slot = slots_[i];
        slot.req = std::make_unique<mail::ImapRequest>(mail::ImapRequest::fetch(
            mail::fetch_url(s_.url, s_.url.mailbox, uidvalidity_, uids_[i]), s_.options));
        auto t0 = Clock::now();
        s_.multi.add(slot.req->handle(), [self = shared_from_this(), i, t0](CURLcode code) {
            self->finish(i, code, ms_since(t0));
        });
    }

    void finish(std::size_t i, CURLcode code, std::int64_t ms) {
        auto& slot = slots_[i];
        slot.result = slot.req->result(code);
        slot.body = slot.req->take_body();
        slot.ms = ms;
        slot.done = true;
        slot.req.reset();
        finished();
        auto st = slot.result.status;
        // A failure other than "gone" ends the batch: what is already in flight completes, the
        // rest waits for the next cycle. "Gone" is normal (deleted by someone else).
        if (st != mail::ImapStatus::ok && st != mail::ImapStatus::not_found &&
            st != mail::ImapStatus::too_large)
            start_no_more();
        pump();
    }

    Session& s_;
    std::uint64_t uidvalidity_;
    std::vector<std::uint64_t> uids_;
    std::vector<Slot> slots_;
};

/// Flag, move or delete `uids` on the server, as the account says. Safe to repeat: a UID that is
/// already flagged, moved or gone is not an error for UID STORE / UID MOVE / UID EXPUNGE.
awaitable<mail::ImapResult> acknowledge(Session& s, std::uint64_t uidvalidity,
                                        const std::vector<std::uint64_t>& all) {
    using After = config::ImapAccount::AfterIngest;
    // The UIDVALIDITY in the URL makes libcurl refuse when the mailbox was recreated: old UIDs
    // would name other messages there.
    const std::string url = mail::mailbox_url(s.url, s.url.mailbox, uidvalidity);
    for (std::size_t off = 0; off < all.size(); off += kUidsPerCommand) {
        std::vector<std::uint64_t> uids(all.begin() + off,
                                        all.begin() + std::min(all.size(), off + kUidsPerCommand));
        Reply r;
        switch (s.account.after_ingest) {
            case After::seen:
                r = co_await s.command(url, mail::store_flags_command(uids, "\\Seen"));
                break;
            case After::move:
                r = co_await s.command(url, mail::move_command(uids, s.account.processed_folder));
                if (r.result.status == mail::ImapStatus::rejected) {
                    // Most likely the folder does not exist yet: create it, then try once more.
                    auto c = co_await s.command(mail::server_url(s.url),
                                                mail::create_command(s.account.processed_folder));
                    spdlog::info("event=imap.create_folder account={} folder=\"{}\" result={}",
                                 s.account.name, mail::log_safe(s.account.processed_folder),
                                 mail::to_string(c.result.status));
                    r = co_await s.command(url, mail::move_command(uids, s.account.processed_folder));
                }
                break;
            case After::remove:
                r = co_await s.command(url, mail::store_flags_command(uids, "\\Deleted"));
                // UID EXPUNGE (UIDPLUS) removes only ours, not other \Deleted messages.
                if (r.result.ok()) r = co_await s.command(url, mail::uid_expunge_command(uids));
                break;
        }
        if (!r.result.ok()) co_return r.result;
    }
    co_return mail::ImapResult{mail::ImapStatus::ok, CURLE_OK, {}};
}

}  // namespace

awaitable<PollResult> Poller::guarded_cycle(Mailbox& mb) {
    auto t0 = Clock::now();
    PollResult r;
    try {
        r = co_await cycle(mb);
    } catch (const std::exception& e) {
        // Store errors (disk full, busy) and the unexpected: the cycle is retried with backoff;
        // nothing was acknowledged that was not committed.
        r.account = mb.account.name;
        r.ok = false;
        r.status = mail::ImapStatus::other;
        r.error = std::string("internal: ") + e.what();
    }
    r.ms = ms_since(t0);
    if (r.ok) {
        mb.failures = 0;
        spdlog::info(
            "event=imap.cycle account={} ok=true uidvalidity={} found={} stored={} acknowledged={} "
            "reacknowledged={} unacknowledged={} skipped={} given_up={} refetched={} ms={}",
            r.account, r.uidvalidity, r.found, r.stored, r.acknowledged, r.reacknowledged,
            r.unacknowledged, r.skipped, r.given_up, r.refetched, r.ms);
    } else {
        ++mb.failures;
        spdlog::warn("event=imap.cycle account={} ok=false status={} stored={} failures={} ms={} "
                     "error=\"{}\"",
                     r.account, mail::to_string(r.status), r.stored, mb.failures, r.ms,
                     mail::log_safe(r.error, 300));
    }
    if (on_cycle_) {
        try {
            on_cycle_(r);
        } catch (const std::exception& e) {
            spdlog::error("event=imap.on_cycle_failed error=\"{}\"", mail::log_safe(e.what()));
        }
    }
    co_return r;
}

awaitable<PollResult> Poller::cycle(Mailbox& mb) {
    const auto& acc = mb.account;
    PollResult r;
    r.account = acc.name;
    auto fail = [&r](mail::ImapStatus st, std::string what) {
        r.ok = false;
        r.status = st;
        r.error = std::move(what);
        return r;
    };
    if (!mb.url) co_return fail(mail::ImapStatus::other, "url is not imap:// or imaps://host[:port]/MAILBOX");

    // Secrets are read at use (a rotated password file needs no reload) and never logged.
    mail::ImapOptions opts;
    opts.username = acc.username;
    std::string err;
    if (!acc.xoauth2_token_command.empty()) {
        auto token = mail::run_token_command(acc.xoauth2_token_command, err);
        if (!token) co_return fail(mail::ImapStatus::auth_failed, err);
        opts.oauth2_token = *token;
    } else {
        auto pw = mail::load_secret_file(acc.password_file, err);
        if (!pw) co_return fail(mail::ImapStatus::auth_failed, err);
        opts.password = *pw;
    }
    opts.tls_verify = acc.tls_verify;
    opts.ca_file = acc.ca_file;
    opts.require_starttls = acc.require_starttls && !mb.url->tls;
    opts.connect_timeout = acc.connect_timeout;
    opts.transfer_timeout = acc.transfer_timeout;
    opts.verbose = options_.curl_verbose;
    opts.max_bytes = options_.max_fetch_bytes;
    // A multi handle (and so a connection pool) per cycle. Dovecot shows a SELECTed session new
    // mail only at its next sync point, so a connection pooled from the last cycle answers
    // UID SEARCH without the newest messages and UID FETCH on them with "no such message".
    // Fresh connections each cycle see everything the search saw; within the cycle they are
    // reused across batches. The cost is two or three logins per cycle.
    CurlMulti multi(io_);
    Session s{multi, acc, *mb.url, opts};
    const std::string& mailbox = mb.url->mailbox;

    // 1. Where does the server stand? EXAMINE is read-only, and the connection is closed after
    //    it: libcurl does not know it happened and would think the mailbox still SELECTed.
    auto examine = mail::ImapRequest::command(mail::server_url(*mb.url), mail::examine_command(mailbox), opts);
    examine.forbid_reuse();
    Reply ex = co_await s.run(std::move(examine));
    if (!ex.result.ok()) co_return fail(ex.result.status, "EXAMINE " + mailbox + ": " + ex.result.error);
    auto status = mail::parse_mailbox_status(ex.body);
    if (!status)
        co_return fail(mail::ImapStatus::other,
                       "EXAMINE answer not understood: " + mail::log_safe(ex.body, 120));
    const std::uint64_t validity = status->uidvalidity;
    r.uidvalidity = validity;

    // 2. Our cursor, reset when the mailbox was recreated.
    auto cur = inbox_->cursor(acc.name, mailbox);
    if (cur.uidvalidity != validity) {
        const bool first_poll = cur.uidvalidity == 0;
        if (!first_poll) {
            r.uidvalidity_changed = true;
            spdlog::warn("event=imap.uidvalidity_changed account={} mailbox=\"{}\" old={} new={} "
                         "action=refetch",
                         acc.name, mail::log_safe(mailbox), cur.uidvalidity, validity);
        }
        std::uint64_t start_after = 0;
        if (acc.start_from != config::ImapAccount::StartFrom::all) {
            // Which day's mail counts: the configured one at a first poll; after a UIDVALIDITY
            // change (UIDs mean nothing any more) from a day before the cursor last moved, so
            // nothing that came in meanwhile is missed and dedupe absorbs the overlap.
            std::optional<config::Date> since;
            if (acc.start_from == config::ImapAccount::StartFrom::since)
                since = config::Date{acc.since_year, acc.since_month, acc.since_day};
            if (!first_poll) {
                auto day = day_of(cur.updated_at - 86400);
                if (!since || std::tie(day.year, day.month, day.day) >
                                  std::tie(since->year, since->month, since->day))
                    since = day;
            }
            std::string err;
            auto from = co_await start_point(s, mail::mailbox_url(*mb.url, mailbox, validity),
                                             *status, since, mb.no_esearch, err);
            if (!from) co_return fail(mail::ImapStatus::other, err);
            start_after = *from;
            spdlog::info("event=imap.start_from account={} mode={} since={} first_poll={} "
                         "skipped_up_to_uid={}",
                         acc.name, first_poll ? start_from_name(acc.start_from) : "uidvalidity_change",
                         since ? fmt::format("{:04}-{:02}-{:02}", since->year, since->month, since->day)
                               : std::string("-"),
                         first_poll, start_after);
        }
        inbox_->reset_cursor(acc.name, mailbox, validity, start_after);
        cur.uidvalidity = validity;
        cur.last_uid = start_after;
    }

    // 3. Rows committed by an earlier cycle whose acknowledge never happened (crash, error).
    if (auto pending = inbox_->unacknowledged(acc.name, mailbox); !pending.empty()) {
        std::vector<std::uint64_t> uids;
        std::vector<std::int64_t> ids;
        for (const auto& e : pending) {
            if (!e.uid) continue;
            uids.push_back(*e.uid);
            ids.push_back(e.id);
        }
        auto ack = co_await acknowledge(s, validity, uids);
        if (ack.ok()) {
            inbox_->mark_acknowledged(ids);
            r.reacknowledged = ids.size();
            spdlog::info("event=imap.reacknowledge account={} count={} after_ingest={}", acc.name,
                         ids.size(), after_ingest_name(acc.after_ingest));
        } else {
            // New mail still comes in: an acknowledge the server keeps refusing (a folder we
            // may not create, a read-only mailbox) must not stop the desk. Retried every cycle.
            r.unacknowledged += ids.size();
            r.warning = "acknowledge: " + ack.error;
            spdlog::warn("event=imap.acknowledge_failed account={} count={} earlier=true error=\"{}\"",
                         acc.name, ids.size(), mail::log_safe(ack.error));
        }
    }

    // 4. What is new. Bounded from the cursor, ESEARCH for a compact answer.
    const std::string search_url = mail::mailbox_url(*mb.url, mailbox, validity);
    std::optional<std::vector<std::uint64_t>> all;
    if (!mb.no_esearch) {
        Reply sr = co_await s.command(search_url, mail::search_command(cur.last_uid + 1));
        if (sr.result.status == mail::ImapStatus::rejected) {
            // Servers without ESEARCH (RFC 4731) answer BAD; plain SEARCH from now on.
            mb.no_esearch = true;
            spdlog::info("event=imap.no_esearch account={} detail=\"{}\"", acc.name,
                         mail::log_safe(sr.result.error));
        } else if (!sr.result.ok()) {
            co_return fail(sr.result.status, "UID SEARCH: " + sr.result.error);
        } else if (!(all = mail::parse_search(sr.body))) {
            co_return fail(mail::ImapStatus::other,
                           "UID SEARCH answer not understood: " + mail::log_safe(sr.body, 120));
        }
    }
    if (mb.no_esearch) {
        // A plain SEARCH answer is one line per command: windows keep it far below the 512 KB
        // receive buffer (beyond it libcurl cuts the line silently).
        all.emplace();
        for (const auto& range : mail::search_windows(cur.last_uid + 1, status->uidnext)) {
            Reply sr = co_await s.command(search_url, "UID SEARCH UID " + range);
            if (!sr.result.ok()) co_return fail(sr.result.status, "UID SEARCH: " + sr.result.error);
            auto part = mail::parse_search(sr.body);
            if (!part)
                co_return fail(mail::ImapStatus::other,
                               "UID SEARCH answer not understood: " + mail::log_safe(sr.body, 120));
            all->insert(all->end(), part->begin(), part->end());
        }
    }
    // Released placeholders (behind the cursor) are fetched again first, then what is new.
    auto fresh = inbox_->released_uids(acc.name, mailbox, validity);
    r.refetched = fresh.size();
    {
        auto fresh_new = mail::uids_after(*all, cur.last_uid);
        r.found = fresh_new.size();
        fresh.insert(fresh.end(), fresh_new.begin(), fresh_new.end());
    }

    // 5. Batches: fetch, commit, then acknowledge.
    const std::size_t batch_size = static_cast<std::size_t>(std::max(1, acc.batch_size));
    for (std::size_t off = 0; off < fresh.size(); off += batch_size) {
        if (stopping_ && off > 0) break;  // stop(): the batch in hand is done, no new one
        std::vector<std::uint64_t> chunk(fresh.begin() + off,
                                         fresh.begin() + std::min(fresh.size(), off + batch_size));
        auto t0 = Clock::now();
        std::vector<FetchSlot> slots(chunk.size());
        std::size_t ranges = 0, ranged = 0;
        if (options_.range_fetch) {
            auto rb = std::make_shared<RangeBatch>(s, validity, chunk, slots);
            co_await rb->run();
            ranges = rb->ranges();
            ranged = rb->delivered();
        }
        // What the ranges did not settle, one message per request, as before.
        std::vector<std::size_t> alone;
        for (std::size_t i = 0; i < chunk.size(); ++i)
            if (!slots[i].done) alone.push_back(i);
        if (!alone.empty()) {
            std::vector<std::uint64_t> uids;
            for (auto i : alone) uids.push_back(chunk[i]);
            auto batch = std::make_shared<FetchBatch>(s, validity, std::move(uids));
            co_await batch->async_run_all(use_awaitable);
            for (std::size_t k = 0; k < alone.size(); ++k)
                slots[alone[k]] = std::move(batch->slots()[k]);
        }

        // Keep messages in UID order up to the first real failure: the cursor moves to the
        // highest UID committed, so nothing after a gap may be committed.
        std::vector<store::FetchedMessage> msgs;
        std::optional<mail::ImapResult> failure;
        std::size_t bytes = 0;
        bool cut_short = false;  // the batch ended early: what follows waits for the next cycle
        for (std::size_t i = 0; i < chunk.size(); ++i) {
            auto& slot = slots[i];
            if (!slot.done) {
                cut_short = true;
                break;
            }
            // An expunged message can come back as an empty BODY[] instead of a NO: gone too.
            if (slot.result.ok() && slot.body.empty()) slot.result.status = mail::ImapStatus::not_found;
            if (slot.result.status == mail::ImapStatus::not_found) {
                ++r.skipped;
                spdlog::info("event=imap.fetch_gone account={} uid={} detail=\"{}\"", acc.name,
                             chunk[i], mail::log_safe(slot.result.error));
                continue;
            }
            if (slot.result.status == mail::ImapStatus::too_large) {
                // No point in trying again: left on the server, kept visible as a placeholder.
                ++r.given_up;
                spdlog::error("event=imap.fetch_given_up account={} uid={} reason=too_large "
                              "action=left_on_server detail=\"{}\"",
                              acc.name, chunk[i], mail::log_safe(slot.result.error));
                msgs.push_back(store::FetchedMessage::given_up(chunk[i], "too_large", slot.result.error));
                continue;
            }
            if (!slot.result.ok()) {
                std::string what =
                    "fetch uid " + std::to_string(chunk[i]) + ": " + slot.result.error;
                int attempts = inbox_->record_fetch_failure(acc.name, mailbox, validity,
                                                            chunk[i], slot.result.error);
                if (attempts >= acc.max_fetch_attempts) {
                    ++r.given_up;
                    spdlog::error("event=imap.fetch_given_up account={} uid={} reason=fetch_failed "
                                  "attempts={} action=left_on_server detail=\"{}\"",
                                  acc.name, chunk[i], attempts, mail::log_safe(slot.result.error));
                    msgs.push_back(store::FetchedMessage::given_up(
                        chunk[i], "fetch_failed",
                        "fetch failed " + std::to_string(attempts) + " times: " +
                            slot.result.error));
                    failure = slot.result;
                    failure->error = what;
                    continue;  // the slots after it that completed are still good
                }
                failure = slot.result;
                failure->error = what + " (attempt " + std::to_string(attempts) + " of " +
                                 std::to_string(acc.max_fetch_attempts) + ")";
                cut_short = true;
                break;
            }
            spdlog::debug("event=imap.fetch account={} uid={} bytes={} ms={}", acc.name, chunk[i],
                          slot.body.size(), slot.ms);
            bytes += slot.body.size();
            msgs.emplace_back(chunk[i], std::move(slot.body));
        }
        std::int64_t fetch_ms = ms_since(t0);

        if (!msgs.empty()) {
            crash_point("imap.fetched");
            auto ids = inbox_->add_imap_batch(acc.name, mailbox, validity, msgs);
            crash_point("imap.committed");
            // Placeholders need no acknowledge (the message stays on the server as it is) and
            // no processing.
            std::vector<std::uint64_t> uids;
            std::vector<std::int64_t> stored;
            for (std::size_t i = 0; i < msgs.size(); ++i) {
                if (!msgs[i].unfetchable.empty()) continue;
                uids.push_back(msgs[i].uid);
                stored.push_back(ids[i]);
            }
            r.stored += stored.size();
            if (!uids.empty()) {
                auto ack = co_await acknowledge(s, validity, uids);
                if (ack.ok()) {
                    crash_point("imap.acknowledged");  // moved on the server, not yet recorded
                    inbox_->mark_acknowledged(stored);
                    r.acknowledged += stored.size();
                } else {
                    // Committed but not acknowledged: the next cycle acknowledges them (step 3);
                    // they are never fetched as new again because the cursor moved with them.
                    // A lost connection shows again at the next fetch and fails the cycle there.
                    r.unacknowledged += stored.size();
                    r.warning = "acknowledge: " + ack.error;
                    spdlog::warn("event=imap.acknowledge_failed account={} count={} error=\"{}\"",
                                 acc.name, stored.size(), mail::log_safe(ack.error));
                }
            }
            spdlog::info("event=imap.batch account={} count={} given_up={} bytes={} first_uid={} "
                         "last_uid={} ranges={} ranged={} alone={} fetch_ms={} total_ms={}",
                         acc.name, stored.size(), msgs.size() - stored.size(), bytes,
                         msgs.front().uid, msgs.back().uid, ranges, ranged, alone.size(), fetch_ms,
                         ms_since(t0));
            if (on_stored_ && !stored.empty()) {
                try {
                    on_stored_(stored);
                } catch (const std::exception& e) {
                    spdlog::error("event=imap.on_stored_failed account={} error=\"{}\"", acc.name,
                                  mail::log_safe(e.what()));
                }
            }
        }
        // A failure ends the cycle (retried with backoff), also when the failing message was
        // just given up: the fetches behind it were never started.
        if (failure) co_return fail(failure->status, failure->error);
        if (cut_short) co_return fail(mail::ImapStatus::other, "batch ended early");
    }
    r.ok = true;
    co_return r;
}

// ---------------------------------------------------------------------------------------------
// Scheduling

std::chrono::milliseconds Poller::backoff(Mailbox& mb) {
    auto base = options_.backoff_initial;
    for (int i = 1; i < mb.failures && base < options_.backoff_max; ++i) base *= 2;
    base = std::min(base, options_.backoff_max);
    // +-50% jitter: many daemons restarted together must not retry in lockstep.
    std::uniform_real_distribution<double> jitter(0.5, 1.5);
    auto ms = static_cast<std::int64_t>(static_cast<double>(base.count()) * jitter(mb.rng));
    return std::chrono::milliseconds(std::max<std::int64_t>(1, ms));
}

void Poller::run_once(std::function<void(std::vector<PollResult>)> done) {
    struct Gather {
        std::vector<PollResult> results;
        std::size_t left = 0;
        std::function<void(std::vector<PollResult>)> done;
    };
    auto g = std::make_shared<Gather>();
    g->results.resize(mailboxes_.size());
    g->left = mailboxes_.size();
    g->done = std::move(done);
    if (g->left == 0) {
        asio::post(io_, [g] {
            if (g->done) g->done({});
        });
        return;
    }
    for (std::size_t i = 0; i < mailboxes_.size(); ++i) {
        ++loops_;
        std::weak_ptr<bool> alive = alive_;
        asio::co_spawn(io_, guarded_cycle(*mailboxes_[i]),
                       [this, alive, g, i](std::exception_ptr, PollResult r) {
                           g->results[i] = std::move(r);
                           if (--g->left == 0 && g->done) g->done(std::move(g->results));
                           if (!alive.expired()) loop_finished();
                       });
    }
}

awaitable<void> Poller::loop(Mailbox& mb) {
    while (!stopping_) {
        PollResult r = co_await guarded_cycle(mb);
        if (stopping_) break;
        std::chrono::milliseconds delay =
            r.ok ? std::chrono::duration_cast<std::chrono::milliseconds>(mb.account.poll_interval)
                 : backoff(mb);
        if (!r.ok)
            spdlog::info("event=imap.retry account={} in_ms={} failures={}", mb.account.name,
                         delay.count(), mb.failures);
        mb.timer.expires_after(delay);
        boost::system::error_code ec;
        co_await mb.timer.async_wait(asio::redirect_error(use_awaitable, ec));
    }
}

void Poller::start() {
    stopping_ = false;
    for (auto& mb : mailboxes_) {
        ++loops_;
        std::weak_ptr<bool> alive = alive_;
        asio::co_spawn(io_, loop(*mb), [this, alive](std::exception_ptr e) {
            if (alive.expired()) return;
            if (e) {
                try {
                    std::rethrow_exception(e);
                } catch (const std::exception& ex) {
                    spdlog::error("event=imap.loop_failed error=\"{}\"", mail::log_safe(ex.what()));
                }
            }
            loop_finished();
        });
    }
}

void Poller::stop(std::function<void()> done) {
    stopping_ = true;
    for (auto& mb : mailboxes_) mb->timer.cancel();
    if (done) stopped_.push_back(std::move(done));
    if (loops_ == 0) {
        auto waiting = std::move(stopped_);
        stopped_.clear();
        for (auto& f : waiting) asio::post(io_, f);
    }
}

void Poller::loop_finished() {
    if (loops_ > 0 && --loops_ == 0 && stopping_) {
        auto waiting = std::move(stopped_);
        stopped_.clear();
        for (auto& f : waiting) f();
    }
}

}  // namespace ticketd::daemon
