#pragma once
// A real, throwaway dovecot for integration tests (../shared/TESTBED.md): its own temp dir,
// base_dir and instance_name, free ports on 127.0.0.1 (plain imap with STARTTLS, and imaps),
// a self-signed certificate for 127.0.0.1, passwd-file users, mail_fsync = never. Started in its
// own process group and stopped by that PID in the destructor.
//
//   if (!DovecotServer::available()) GTEST_SKIP() << DovecotServer::why_unavailable();
//   DovecotServer imap;            // user "support", password "secret"
//   imap.deliver(raw);             // straight into Maildir/new, fast for thousands
//   auto flags = imap.flags();     // uid -> "\Seen \Deleted"

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/paths.h"

namespace ticketd::testing {

/// A TCP port on 127.0.0.1 nobody listens on right now.
int free_port();
/// Connect to 127.0.0.1:port until the server's first bytes start with `prefix` (a greeting,
/// which unlike an open port means the server is ready). False after `timeout`.
bool wait_for_greeting(int port, const std::string& prefix,
                       std::chrono::milliseconds timeout = std::chrono::seconds(15));
/// Spawn `argv` in a new process group with stdout and stderr appended to `log`.
pid_t spawn_logged(const std::vector<std::string>& argv, const std::filesystem::path& log,
                   const std::vector<std::string>& extra_env = {});
/// SIGTERM (or SIGKILL when `hard`) to the process group of `pid`, then reap it; SIGKILL after
/// `grace` if it is still there.
void stop_process(pid_t pid, bool hard = false,
                  std::chrono::milliseconds grace = std::chrono::seconds(5));

struct DovecotUser {
    std::string name = "support";
    std::string password = "secret";
};

struct DovecotOptions {
    /// false: `ssl = no`, so the plain listener offers no STARTTLS (a server stripping it, as a
    /// downgrading attacker would) and there is no imaps listener.
    bool offer_tls = true;
};

class DovecotServer {
public:
    /// dovecot and openssl are installed.
    static bool available();
    static std::string why_unavailable();

    /// Starts and waits for the greeting; throws std::runtime_error (with the log) on failure.
    explicit DovecotServer(std::vector<DovecotUser> users = {DovecotUser{}}, DovecotOptions options = {});
    ~DovecotServer();
    DovecotServer(const DovecotServer&) = delete;
    DovecotServer& operator=(const DovecotServer&) = delete;

    int imap_port() const { return imap_port_; }
    int imaps_port() const { return imaps_port_; }
    /// "imap://127.0.0.1:PORT/MAILBOX" (STARTTLS available) and "imaps://127.0.0.1:PORT/MAILBOX".
    std::string imap_url(const std::string& mailbox = "INBOX") const;
    std::string imaps_url(const std::string& mailbox = "INBOX") const;
    /// The self-signed certificate (PEM): the CA file a client must trust.
    std::filesystem::path cert_file() const { return dir_ / "cert.pem"; }
    const std::filesystem::path& dir() const { return dir_.path(); }
    std::string log() const;

    /// Stop with SIGKILL to the whole group (a crash), or SIGTERM (clean); start() again later.
    void kill();
    void stop();
    void start();
    bool running() const { return pid_ > 0; }

    /// Write a message into `user`'s INBOX Maildir (new/), owned by dovecot. Returns its path.
    std::filesystem::path deliver(const std::string& raw, const std::string& user = "support");
    /// APPEND through IMAP (any mailbox; creates nothing).
    void append(const std::string& raw, const std::string& mailbox = "INBOX",
                const std::string& user = "support");

    /// Run one command over plain IMAP as `user` and return the untagged lines; throws on error.
    /// With a mailbox, it is SELECTed first.
    std::string command(const std::string& cmd, const std::string& mailbox = "",
                        const std::string& user = "support") const;
    std::uint64_t uidvalidity(const std::string& mailbox = "INBOX",
                              const std::string& user = "support") const;
    std::size_t count(const std::string& mailbox = "INBOX", const std::string& user = "support") const;
    /// uid -> flags ("\Seen \Deleted"), for every message in the mailbox.
    std::map<std::uint64_t, std::string> flags(const std::string& mailbox = "INBOX",
                                              const std::string& user = "support") const;
    /// Folder names from LIST.
    std::vector<std::string> folders(const std::string& user = "support") const;

    /// An OAuth2 access token dovecot accepts for `user` (XOAUTH2 and OAUTHBEARER): a JWT signed
    /// with HS256 by the server's own key, which dovecot's oauth2 passdb validates locally
    /// (introspection_mode = local), as an identity provider's token would be. `ttl` < 0 gives
    /// one that has already expired.
    std::string oauth2_token(const std::string& user = "support",
                             std::chrono::seconds ttl = std::chrono::seconds(600)) const;

private:
    std::string password_of(const std::string& user) const;
    void write_config();

    TempDir dir_;
    std::vector<DovecotUser> users_;
    DovecotOptions options_;
    int imap_port_ = 0, imaps_port_ = 0;
    pid_t pid_ = -1;
    std::uint64_t delivered_ = 0;
};

}  // namespace ticketd::testing
