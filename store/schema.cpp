// The schema, as an ordered list of migrations. Never edit a released step: add a new one.
#include <algorithm>

#include "store/database.h"

namespace ticketd::store {

namespace {

// Timestamps are UTC unix seconds. Every lookup on the ingest path has an index:
// message_ids(message_id) for threading, inbox(sha256) and the UID key for dedupe,
// messages(message_id) for the content-hash dedupe, participants(ticket, address).
constexpr const char* kSchema1 = R"sql(
CREATE TABLE tickets (
  id                INTEGER PRIMARY KEY,
  number            INTEGER NOT NULL UNIQUE,
  token             TEXT NOT NULL,
  subject           TEXT NOT NULL DEFAULT '',
  requester_address TEXT NOT NULL DEFAULT '',
  requester_name    TEXT NOT NULL DEFAULT '',
  status            TEXT NOT NULL DEFAULT 'open'
                    CHECK (status IN ('open','pending','resolved','closed')),
  priority          TEXT NOT NULL DEFAULT 'normal'
                    CHECK (priority IN ('low','normal','high','urgent')),
  queue             TEXT NOT NULL DEFAULT '',
  assignee          TEXT NOT NULL DEFAULT '',
  created_at        INTEGER NOT NULL,
  updated_at        INTEGER NOT NULL,
  closed_at         INTEGER,
  linked_to         INTEGER REFERENCES tickets(id)
);
CREATE INDEX tickets_status ON tickets(status, updated_at);
CREATE INDEX tickets_updated ON tickets(updated_at);
CREATE INDEX tickets_linked_to ON tickets(linked_to) WHERE linked_to IS NOT NULL;

CREATE TABLE ticket_tags (
  ticket INTEGER NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
  tag    TEXT NOT NULL,
  PRIMARY KEY (ticket, tag)
) WITHOUT ROWID;
CREATE INDEX ticket_tags_tag ON ticket_tags(tag);

CREATE TABLE participants (
  ticket   INTEGER NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
  address  TEXT NOT NULL COLLATE NOCASE,
  name     TEXT NOT NULL DEFAULT '',
  role     TEXT NOT NULL CHECK (role IN ('requester','cc','agent')),
  added_at INTEGER NOT NULL,
  PRIMARY KEY (ticket, address)
) WITHOUT ROWID;
CREATE INDEX participants_address ON participants(address);

CREATE TABLE inbox (
  id           INTEGER PRIMARY KEY,
  source       TEXT NOT NULL,
  account      TEXT,
  mailbox      TEXT,
  uidvalidity  INTEGER,
  uid          INTEGER,
  raw          BLOB NOT NULL,
  size         INTEGER NOT NULL,
  sha256       TEXT NOT NULL,
  state        TEXT NOT NULL DEFAULT 'pending'
               CHECK (state IN ('pending','done','quarantined')),
  error        TEXT NOT NULL DEFAULT '',
  attempts     INTEGER NOT NULL DEFAULT 0,
  acknowledged INTEGER NOT NULL DEFAULT 0,
  received_at  INTEGER NOT NULL,
  processed_at INTEGER,
  outcome      TEXT NOT NULL DEFAULT '',
  ticket       INTEGER REFERENCES tickets(id),
  UNIQUE (account, mailbox, uidvalidity, uid)
);
CREATE INDEX inbox_sha256 ON inbox(sha256);
CREATE INDEX inbox_pending ON inbox(id) WHERE state = 'pending';
CREATE INDEX inbox_quarantined ON inbox(id) WHERE state = 'quarantined';
CREATE INDEX inbox_unacknowledged ON inbox(account, mailbox, uidvalidity, uid)
  WHERE acknowledged = 0;
CREATE INDEX inbox_ticket ON inbox(ticket) WHERE ticket IS NOT NULL;
CREATE INDEX inbox_outcome ON inbox(outcome, id);

CREATE TABLE mailbox_cursors (
  account     TEXT NOT NULL,
  mailbox     TEXT NOT NULL,
  uidvalidity INTEGER NOT NULL DEFAULT 0,
  last_uid    INTEGER NOT NULL DEFAULT 0,
  updated_at  INTEGER NOT NULL,
  PRIMARY KEY (account, mailbox)
) WITHOUT ROWID;

CREATE TABLE messages (
  id            INTEGER PRIMARY KEY,
  ticket        INTEGER NOT NULL REFERENCES tickets(id),
  inbox_id      INTEGER REFERENCES inbox(id),
  direction     TEXT NOT NULL CHECK (direction IN ('in','out')),
  kind          TEXT NOT NULL
                CHECK (kind IN ('requester','agent','auto_reply','bounce','note','system')),
  message_id    TEXT NOT NULL DEFAULT '',
  from_address  TEXT NOT NULL DEFAULT '',
  from_name     TEXT NOT NULL DEFAULT '',
  to_addrs      TEXT NOT NULL DEFAULT '[]',   -- JSON array of {name, address}
  cc_addrs      TEXT NOT NULL DEFAULT '[]',
  subject       TEXT NOT NULL DEFAULT '',
  date          INTEGER,
  body          TEXT NOT NULL DEFAULT '',
  new_text      TEXT NOT NULL DEFAULT '',
  quoted_text   TEXT NOT NULL DEFAULT '',
  signature     TEXT NOT NULL DEFAULT '',
  headers       TEXT NOT NULL DEFAULT '[]',   -- JSON array of [name, value]
  content_hash  TEXT NOT NULL DEFAULT '',
  thread_signal TEXT NOT NULL DEFAULT '',
  created_at    INTEGER NOT NULL
);
CREATE INDEX messages_ticket ON messages(ticket, id);
CREATE INDEX messages_message_id ON messages(message_id) WHERE message_id <> '';
CREATE INDEX messages_inbox ON messages(inbox_id) WHERE inbox_id IS NOT NULL;

-- Every Message-ID we stored or sent, to its ticket: the first threading signal.
CREATE TABLE message_ids (
  message_id TEXT PRIMARY KEY,
  ticket     INTEGER NOT NULL REFERENCES tickets(id),
  message    INTEGER REFERENCES messages(id),
  direction  TEXT NOT NULL CHECK (direction IN ('in','out'))
) WITHOUT ROWID;
CREATE INDEX message_ids_ticket ON message_ids(ticket);
CREATE INDEX message_ids_message ON message_ids(message) WHERE message IS NOT NULL;

-- Content-addressed: an attachment sent ten times is stored once.
CREATE TABLE blobs (
  sha256 TEXT PRIMARY KEY,
  size   INTEGER NOT NULL,
  data   BLOB NOT NULL
);

CREATE TABLE attachments (
  id           INTEGER PRIMARY KEY,
  message      INTEGER NOT NULL REFERENCES messages(id),
  filename     TEXT NOT NULL DEFAULT '',
  content_type TEXT NOT NULL DEFAULT '',
  size         INTEGER NOT NULL,
  sha256       TEXT NOT NULL REFERENCES blobs(sha256),
  content_id   TEXT NOT NULL DEFAULT '',
  inline       INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX attachments_message ON attachments(message);
CREATE INDEX attachments_sha256 ON attachments(sha256);

-- The trail of each ticket: what happened and why (which threading signal matched, ...).
CREATE TABLE events (
  id       INTEGER PRIMARY KEY,
  ticket   INTEGER REFERENCES tickets(id),
  message  INTEGER REFERENCES messages(id),
  inbox_id INTEGER REFERENCES inbox(id),
  at       INTEGER NOT NULL,
  kind     TEXT NOT NULL,
  detail   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX events_ticket ON events(ticket, id) WHERE ticket IS NOT NULL;
CREATE INDEX events_message ON events(message) WHERE message IS NOT NULL;
CREATE INDEX events_inbox ON events(inbox_id) WHERE inbox_id IS NOT NULL;
)sql";

// IMAP messages the server would not hand over (an error answer, a dropped connection on that
// one message, every time). Counted per UID so one poison message cannot block the mailbox:
// after imap[].max_fetch_attempts the poller stops trying, leaves it on the server and keeps a
// quarantined placeholder row in the inbox (outcome fetch_failed or too_large, no raw bytes),
// which moves the cursor past it. `given_up` = 1 while that placeholder stands; releasing the
// placeholder sets it to 0 and the next cycle fetches the UID again.
constexpr const char* kSchema2 = R"sql(
CREATE TABLE fetch_failures (
  account     TEXT NOT NULL,
  mailbox     TEXT NOT NULL,
  uidvalidity INTEGER NOT NULL,
  uid         INTEGER NOT NULL,
  attempts    INTEGER NOT NULL DEFAULT 0,
  last_error  TEXT NOT NULL DEFAULT '',
  given_up    INTEGER NOT NULL DEFAULT 0,
  first_at    INTEGER NOT NULL,
  last_at     INTEGER NOT NULL,
  PRIMARY KEY (account, mailbox, uidvalidity, uid)
) WITHOUT ROWID;
)sql";

// The outbox (issue 5): every mail ticketd sends is a row written in the same transaction as the
// change that caused it (DESIGN.md #3, #5), with its final bytes and Message-ID from the start, so
// a resend after a crash is the same mail. `auto_to` is the address an automatic mail answers
// (lower-case; '' for mail a person wrote): the per-sender hourly limit counts on it.
constexpr const char* kSchema4 = R"sql(
CREATE TABLE outbox (
  id              INTEGER PRIMARY KEY,
  ticket          INTEGER REFERENCES tickets(id),
  message         INTEGER REFERENCES messages(id),
  kind            TEXT NOT NULL,
  mail_from       TEXT NOT NULL,
  recipients      TEXT NOT NULL DEFAULT '[]',   -- JSON array of envelope addresses
  auto_to         TEXT NOT NULL DEFAULT '' COLLATE NOCASE,
  message_id      TEXT NOT NULL UNIQUE,
  raw             BLOB NOT NULL,
  state           TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued','sent','failed')),
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  last_error      TEXT NOT NULL DEFAULT '',
  created_at      INTEGER NOT NULL,
  sent_at         INTEGER
);
CREATE INDEX outbox_due ON outbox(next_attempt_at, id) WHERE state = 'queued';
CREATE INDEX outbox_ticket ON outbox(ticket, id) WHERE ticket IS NOT NULL;
CREATE INDEX outbox_auto_to ON outbox(auto_to, created_at) WHERE auto_to <> '';
CREATE INDEX outbox_state ON outbox(state, id);
)sql";

// Each mailbox's last poll as the daemon saw it (issue 7): `ticketd status` and monitoring read it
// without asking the daemon. One row per imap[].name, rewritten after every cycle.
constexpr const char* kSchema5 = R"sql(
CREATE TABLE mailbox_polls (
  account       TEXT PRIMARY KEY,
  last_poll_at  INTEGER NOT NULL,
  last_ok_at    INTEGER,
  failing_since INTEGER,
  failures      INTEGER NOT NULL DEFAULT 0,
  last_error    TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;
)sql";

// SLA clocks (issue 6). sla_tickets: one row per ticket under a policy, with the ticket's facts as
// the SLA last saw them (a change is recorded in sla_history when seen) and the one moment the
// daemon's timer has to wake for it; NULL once there is nothing to wait for (resolved, closed).
// sla_clocks: each target's state, in UTC. sla_alarms_fired: every reminder and escalation carried
// out, written in the same transaction as its outbox row, so each happens exactly once.
constexpr const char* kSchema6 = R"sql(
CREATE TABLE sla_tickets (
  ticket       INTEGER PRIMARY KEY REFERENCES tickets(id),
  policy       TEXT NOT NULL,
  policy_since INTEGER NOT NULL,
  status       TEXT NOT NULL,
  priority     TEXT NOT NULL,
  queue        TEXT NOT NULL DEFAULT '',
  tags         TEXT NOT NULL DEFAULT '[]',   -- JSON array
  next_wakeup  INTEGER,
  updated_at   INTEGER NOT NULL
);
CREATE INDEX sla_tickets_wakeup ON sla_tickets(next_wakeup) WHERE next_wakeup IS NOT NULL;
CREATE TABLE sla_history (
  id     INTEGER PRIMARY KEY,
  ticket INTEGER NOT NULL REFERENCES tickets(id),
  at     INTEGER NOT NULL,
  kind   TEXT NOT NULL CHECK (kind IN ('created','status','priority','queue','tags')),
  value  TEXT NOT NULL DEFAULT '',
  queue  TEXT NOT NULL DEFAULT '',
  tags   TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX sla_history_ticket ON sla_history(ticket, id);
CREATE TABLE sla_clocks (
  ticket         INTEGER NOT NULL REFERENCES tickets(id),
  target         TEXT NOT NULL CHECK (target IN ('first_response','next_response','resolution')),
  policy         TEXT NOT NULL,
  state          TEXT NOT NULL CHECK (state IN ('running','paused','met','breached')),
  goal           INTEGER NOT NULL,            -- seconds of business time
  started_at     INTEGER NOT NULL,
  due_at         INTEGER,                     -- NULL while paused short of its goal
  paused_since   INTEGER,
  paused_total   INTEGER NOT NULL DEFAULT 0,  -- seconds the clock stood still (pending)
  satisfied_at   INTEGER,
  breached_at    INTEGER,
  stopped_at     INTEGER,
  elapsed        INTEGER NOT NULL DEFAULT 0,  -- business seconds counted
  reminders_sent INTEGER NOT NULL DEFAULT 0,
  updated_at     INTEGER NOT NULL,
  PRIMARY KEY (ticket, target)
) WITHOUT ROWID;
CREATE TABLE sla_alarms_fired (
  ticket   INTEGER NOT NULL REFERENCES tickets(id),
  key      TEXT NOT NULL,
  kind     TEXT NOT NULL CHECK (kind IN ('reminder','escalation')),
  fired_at INTEGER NOT NULL,
  PRIMARY KEY (ticket, key)
) WITHOUT ROWID;
)sql";

// Bounces of our own mail matched to the outbox row they report on (issue 5): the row stays
// `sent` (the relay took it), and each failed recipient is a row here, linked to the bounce
// message on the ticket. permanent = 0 for a delay warning (4.x.x).
constexpr const char* kSchema10 = R"sql(
CREATE TABLE outbox_bounces (
  id         INTEGER PRIMARY KEY,
  outbox     INTEGER NOT NULL REFERENCES outbox(id),
  ticket     INTEGER REFERENCES tickets(id),
  message    INTEGER REFERENCES messages(id),
  recipient  TEXT NOT NULL DEFAULT '' COLLATE NOCASE,
  status     TEXT NOT NULL DEFAULT '',
  diagnostic TEXT NOT NULL DEFAULT '',
  permanent  INTEGER NOT NULL DEFAULT 1,
  at         INTEGER NOT NULL
);
CREATE INDEX outbox_bounces_outbox ON outbox_bounces(outbox);
CREATE INDEX outbox_bounces_ticket ON outbox_bounces(ticket) WHERE ticket IS NOT NULL;
)sql";

// Reports (issue 9). Indexes that make a year's weekly report on a million tickets take seconds
// (docs/benchmarks.md, "Reports"): which tickets can count in a period (open ones, NULL closed_at,
// and those resolved in or after it), tickets opened in a period (tag trends), the status changes
// in a period, each ticket's people's
// messages from the index alone, and /metrics' oldest open ticket. report_digests: one row per
// scheduled digest and period, written in the same transaction as its outbox row, so each
// period's digest is mailed exactly once, also across restarts.
constexpr const char* kSchema8 = R"sql(
CREATE INDEX tickets_closed_created ON tickets(closed_at, created_at);
CREATE INDEX tickets_created ON tickets(created_at);
CREATE INDEX tickets_status_created ON tickets(status, created_at);
CREATE INDEX events_status_changes ON events(at)
  WHERE kind IN ('ticket.status','ticket.reopened','agent.command');
CREATE INDEX messages_ticket_kind ON messages(ticket, kind, created_at);
CREATE TABLE report_digests (
  digest       TEXT NOT NULL,     -- every|queue|tag|recipients: which configured digest
  period_start INTEGER NOT NULL,  -- UTC seconds; the period is [period_start, period_end)
  period_end   INTEGER NOT NULL,
  outbox       INTEGER REFERENCES outbox(id),
  created_at   INTEGER NOT NULL,
  PRIMARY KEY (digest, period_start)
) WITHOUT ROWID;
)sql";

// Satisfaction ratings by email (CSAT, issue 9). csat_requests: one row per resolution we asked
// about (resolved_at is the ticket's closed_at then), written with its outbox row; UNIQUE makes
// "once per resolution" hold whatever path resolved it. ratings: the requester's answer, one per
// request (a second answer replaces the first: the last word counts; both stay on the trail).
constexpr const char* kSchema11 = R"sql(
CREATE TABLE csat_requests (
  id          INTEGER PRIMARY KEY,
  ticket      INTEGER NOT NULL REFERENCES tickets(id),
  resolved_at INTEGER NOT NULL,
  outbox      INTEGER REFERENCES outbox(id),
  message_id  TEXT NOT NULL DEFAULT '',
  recipient   TEXT NOT NULL DEFAULT '' COLLATE NOCASE,
  agent       TEXT NOT NULL DEFAULT '',
  queue       TEXT NOT NULL DEFAULT '',
  asked_at    INTEGER NOT NULL,
  UNIQUE (ticket, resolved_at)
);
CREATE INDEX csat_requests_asked ON csat_requests(asked_at);
CREATE TABLE ratings (
  request    INTEGER PRIMARY KEY REFERENCES csat_requests(id),
  ticket     INTEGER NOT NULL REFERENCES tickets(id),
  score      INTEGER NOT NULL CHECK (score BETWEEN 1 AND 5),
  word       TEXT NOT NULL DEFAULT '',
  comment    TEXT NOT NULL DEFAULT '',
  rated_at   INTEGER NOT NULL,
  message    INTEGER REFERENCES messages(id),
  message_id TEXT NOT NULL DEFAULT ''
);
CREATE INDEX ratings_ticket ON ratings(ticket);
CREATE INDEX ratings_rated_at ON ratings(rated_at);
)sql";

// Guessed tokens (issue 8): one row per message that named an existing ticket with a wrong
// token and matched none, per sender, so "how many from this sender in the last 24 h" is one
// index range. The events trail holds the same facts as free text without a sender column, so
// it cannot answer that without scanning. token_guessers: when threading.token_guessing was
// last logged for a sender, so it is logged once per window, not once per attempt.
constexpr const char* kSchema12 = R"sql(
CREATE TABLE wrong_tokens (
  id       INTEGER PRIMARY KEY,
  sender   TEXT NOT NULL COLLATE NOCASE,
  at       INTEGER NOT NULL,
  inbox_id INTEGER,
  count    INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX wrong_tokens_sender ON wrong_tokens(sender, at);
CREATE TABLE token_guessers (
  sender     TEXT PRIMARY KEY COLLATE NOCASE,
  flagged_at INTEGER NOT NULL,
  attempts   INTEGER NOT NULL
) WITHOUT ROWID;
)sql";

}  // namespace

const std::vector<Migration>& schema_migrations() {
    // Sorted by version whatever the order below: steps added side by side in one change (or
    // merged from several) must still run in version order, and the last is the newest.
    static const std::vector<Migration> steps = [] {
        std::vector<Migration> all = {
        {1, "tickets, messages, inbox, attachments, events", kSchema1},
        {2, "fetch_failures: per-UID IMAP fetch failures (poison messages)", kSchema2},
        {4, "outbox: durable outgoing mail with retries", kSchema4},
        {5, "mailbox_polls: each mailbox's last poll, last success and current outage", kSchema5},
        {6, "sla: clock state per ticket and target, fired reminders, the earliest wake-up", kSchema6},
        {8, "reports: indexes for period queries, report_digests (one row per digest period)", kSchema8},
        {10, "outbox_bounces: delivery failures matched to the outbox row they report on", kSchema10},
        {11, "csat: csat_requests (one per resolution asked about) and ratings", kSchema11},
        {12, "wrong_tokens and token_guessers: wrong-token attempts per sender (guessed tokens)", kSchema12},
        };
        std::sort(all.begin(), all.end(),
                  [](const Migration& a, const Migration& b) { return a.version < b.version; });
        return all;
    }();
    return steps;
}

}  // namespace ticketd::store
