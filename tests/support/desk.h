#pragma once
// The desk the end-to-end tests run `ticketd` against: the shipped templates, the IMAP password
// file and one config (ACME Support, support@acme.example, tag ACME, desk.db; one mailbox on the
// test's dovecot; SMTP to the test's sink), with each test's own lines added.

#include <filesystem>
#include <string>

namespace ticketd::testing {

class DovecotServer;
class SmtpSink;

struct DeskOptions {
    std::string mailbox_lines;  ///< more keys of the one imap: entry, each "    key: value\n"
    std::string extra;          ///< more top-level YAML (agents:, auto_reply:, ...)
};

/// Writes `dir`/templates (a copy of config/templates), `dir`/imap.password and
/// `dir`/ticketd.yaml; returns the config's path. Without `imap` the desk has no mailbox (mail
/// comes in through `ticketd ingest`) and `mailbox_lines` is ignored.
std::filesystem::path write_desk(const std::filesystem::path& dir, const DovecotServer* imap, const SmtpSink& sink,
                                 const DeskOptions& options = {});

}  // namespace ticketd::testing
