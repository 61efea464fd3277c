#include "mail/request.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "mail/imap.h"

extern char** environ;

namespace ticketd::mail {

namespace {

std::string trim(std::string s) {
    auto ws = [](unsigned char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
    while (!s.empty() && ws(static_cast<unsigned char>(s.back()))) s.pop_back();
    std::size_t i = 0;
    while (i < s.size() && ws(static_cast<unsigned char>(s[i]))) ++i;
    return s.substr(i);
}

/// libcurl's global init is not thread-safe before 7.84; do it once, early, from one place.
void global_init() {
    static const bool done = [] {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        return true;
    }();
    (void)done;
}

}  // namespace

const char* to_string(ImapStatus s) {
    switch (s) {
        case ImapStatus::ok: return "ok";
        case ImapStatus::not_found: return "not_found";
        case ImapStatus::auth_failed: return "auth_failed";
        case ImapStatus::rejected: return "rejected";
        case ImapStatus::tls: return "tls";
        case ImapStatus::timeout: return "timeout";
        case ImapStatus::connection: return "connection";
        case ImapStatus::too_large: return "too_large";
        case ImapStatus::other: return "other";
    }
    return "other";
}

ImapStatus classify(CURLcode code) {
    switch (code) {
        case CURLE_OK: return ImapStatus::ok;
        case CURLE_REMOTE_FILE_NOT_FOUND: return ImapStatus::not_found;
        case CURLE_LOGIN_DENIED:
        case CURLE_AUTH_ERROR: return ImapStatus::auth_failed;
        case CURLE_QUOTE_ERROR: return ImapStatus::rejected;
        case CURLE_OPERATION_TIMEDOUT: return ImapStatus::timeout;
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CIPHER:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_USE_SSL_FAILED:
        case CURLE_SSL_ISSUER_ERROR:
        case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
        case CURLE_SSL_INVALIDCERTSTATUS: return ImapStatus::tls;
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_CONNECT:
        case CURLE_WEIRD_SERVER_REPLY:
        case CURLE_GOT_NOTHING:
        case CURLE_SEND_ERROR:
        case CURLE_RECV_ERROR:
        case CURLE_PARTIAL_FILE: return ImapStatus::connection;
        default: return ImapStatus::other;
    }
}

std::optional<std::string> load_secret_file(const std::string& path, std::string& error) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        error = "cannot read password file " + path;
        return std::nullopt;
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    std::string s = trim(ss.str());
    if (s.empty()) {
        error = "password file " + path + " is empty";
        return std::nullopt;
    }
    return s;
}

std::optional<std::string> run_token_command(const std::string& command, std::string& error,
                                             std::chrono::milliseconds timeout) {
    int out[2];
    if (::pipe2(out, O_CLOEXEC) != 0) {
        error = "cannot run xoauth2_token_command (pipe)";
        return std::nullopt;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    // Its own process group, so a timeout kills whatever the shell started too.
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&attr, 0);
    const char* argv[] = {"/bin/sh", "-c", command.c_str(), nullptr};
    pid_t pid = -1;
    int rc = ::posix_spawn(&pid, "/bin/sh", &fa, &attr, const_cast<char* const*>(argv), environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    ::close(out[1]);
    if (rc != 0) {
        ::close(out[0]);
        error = "cannot run xoauth2_token_command";
        return std::nullopt;
    }
    // Tokens are a few KB; more is a misconfigured command, not a token.
    std::string text;
    bool timed_out = false;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (text.size() < (1u << 16)) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            timed_out = true;
            break;
        }
        pollfd p{out[0], POLLIN, 0};
        int n = ::poll(&p, 1, static_cast<int>(left.count()));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            timed_out = n == 0;
            break;
        }
        char buf[4096];
        ssize_t got = ::read(out[0], buf, sizeof buf);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) break;
        text.append(buf, static_cast<std::size_t>(got));
    }
    ::close(out[0]);
    if (timed_out) ::kill(-pid, SIGKILL);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (timed_out) {
        error = "xoauth2_token_command timed out after " + std::to_string(timeout.count()) + " ms";
        return std::nullopt;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        error = "xoauth2_token_command failed (exit status " +
                std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) + ")";
        return std::nullopt;
    }
    std::string token = trim(text.substr(0, text.find('\n')));
    if (token.empty()) {
        error = "xoauth2_token_command printed no token";
        return std::nullopt;
    }
    return token;
}

size_t ImapRequest::on_write(char* data, size_t size, size_t n, void* user) {
    auto* st = static_cast<State*>(user);
    std::size_t len = size * n;
    // fetch_range: the "* " lines libcurl passes here are copies of what on_header parses (and
    // inside a message, any line that happens to start with "* "): not a body.
    if (st->stream) return len;
    if (st->body.size() + len > st->max_bytes) {
        st->overflow = true;
        return 0;  // makes libcurl abort with CURLE_WRITE_ERROR
    }
    st->body.append(data, len);
    return len;
}

size_t ImapRequest::on_header(char* data, size_t size, size_t n, void* user) {
    auto* st = static_cast<State*>(user);
    const std::size_t len = size * n;
    if (!st->stream || !st->streaming) return len;
    if (!st->aborted.empty()) return 0;
    // Returning less than len makes libcurl fail the transfer (CURLE_WRITE_ERROR) before it looks
    // at this line itself, and close the connection: nothing left unread can reach a later command.
    if (st->clipped) {
        st->aborted = "libcurl cut an over-long line of the answer";
        return 0;
    }
    st->stream->feed(std::string_view(data, len));
    if (st->stream->tag_like_line_in_literal())
        st->aborted = "a line inside a message starts like the command tag";
    else if (st->stream->failed())
        st->aborted = "answer not understood: " + st->stream->error();
    return st->aborted.empty() ? len : 0;
}

int ImapRequest::on_debug(CURL*, curl_infotype type, char* data, size_t size, void* user) {
    auto* st = static_cast<State*>(user);
    if (st->verbose) {
        // CURLOPT_VERBOSE's own trace, which this callback replaces.
        static constexpr const char* kPrefix[] = {"* ", "< ", "> ", "{ ", "} ", "<= ", "=> "};
        if (type <= CURLINFO_HEADER_OUT) {
            std::fputs(kPrefix[type], stderr);
            std::fwrite(data, 1, size, stderr);
        }
    }
    if (st->stream) {
        // fetch_range: stream from the moment our UID FETCH goes out ("A005 UID FETCH ..."; only
        // its first bytes are looked at: other commands we send carry the credentials).
        if (type == CURLINFO_HEADER_OUT) {
            std::string_view out(data, std::min<size_t>(size, 32));
            auto sp = out.find(' ');
            if (sp != std::string_view::npos && out.substr(sp + 1).substr(0, 10) == "UID FETCH ")
                st->streaming = true;
        } else if (type == CURLINFO_TEXT &&
                   std::string_view(data, size).rfind("Excessive server response line", 0) == 0) {
            // pingpong.c keeps 40 bytes of a line longer than half the buffer and drops the rest:
            // the literal's byte count no longer matches what we are given.
            st->clipped = true;
        }
    }
    // Only what the server says, and only its tagged status lines: the reason for a NO or BAD
    // (libcurl itself reports just "Quote command returned error"). What we send (HEADER_OUT)
    // would contain the credentials and is never kept.
    if (type != CURLINFO_HEADER_IN) return 0;
    std::string_view line(data, std::min<size_t>(size, 512));
    if (line.size() < 2 || line[0] == '*' || line[0] == '+') return 0;
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
    auto sp = line.find(' ');
    if (sp == std::string_view::npos) return 0;
    std::string_view status = line.substr(sp + 1, 4);
    if (status.substr(0, 3) == "NO " || status == "BAD ") st->server_line.assign(line);
    return 0;
}

ImapRequest ImapRequest::make(const std::string& url, const std::string& command,
                              const ImapOptions& o) {
    global_init();
    auto st = std::make_unique<State>();
    st->easy.reset(curl_easy_init());
    if (!st->easy) throw std::bad_alloc();
    st->url = url;
    st->custom = command;
    st->username = o.username;
    st->password = o.password;
    st->token = o.oauth2_token;
    st->ca_file = o.ca_file;
    st->max_bytes = o.max_bytes;
    st->secrets = {o.password, o.oauth2_token};
    st->description = redact(command.empty() ? "FETCH " + url : command + " @ " + url, st->secrets);
    CURL* c = st->easy.get();

    curl_easy_setopt(c, CURLOPT_URL, st->url.c_str());
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "imap,imaps");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, st->errbuf);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &ImapRequest::on_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, st.get());
    // The default 16 KB buffer silently cuts long untagged lines (TESTBED: a UID SEARCH over
    // 10,000 messages lost its middle and still returned CURLE_OK), so commands get a large one.
    // But Debian's libcurl 7.88 counts every read of the response phase against its 300 KB
    // header cap (the CVE-2023-38039 fix): with a 512 KB buffer, a FETCH whose literal had
    // piled up in the socket (parallel transfers, a busy loop) arrived as one 512 KB read and
    // failed with "Too large response headers: 524288 > 307200", stalling the mailbox behind
    // any message over 300 KB. Fetches deliver the literal as body data, so a smaller buffer
    // costs nothing there; commands stay below the cap too.
    const long buffer = command.empty() ? 128L * 1024L : 256L * 1024L;
    curl_easy_setopt(c, CURLOPT_BUFFERSIZE, buffer);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, static_cast<long>(o.connect_timeout.count()));
    curl_easy_setopt(c, CURLOPT_TIMEOUT, static_cast<long>(o.transfer_timeout.count()));
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME,
                     static_cast<long>(std::min<std::int64_t>(o.transfer_timeout.count(), 60)));
    curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, o.tls_verify ? 1L : 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, o.tls_verify ? 2L : 0L);
    if (!st->ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, st->ca_file.c_str());
    // For imaps:// TLS is implicit; for imap:// demand STARTTLS so a stripped capability list
    // cannot downgrade us to plain text.
    curl_easy_setopt(c, CURLOPT_USE_SSL, o.require_starttls ? static_cast<long>(CURLUSESSL_ALL)
                                                            : static_cast<long>(CURLUSESSL_NONE));
    curl_easy_setopt(c, CURLOPT_USERNAME, st->username.c_str());
    if (!st->token.empty()) {
        curl_easy_setopt(c, CURLOPT_XOAUTH2_BEARER, st->token.c_str());
        curl_easy_setopt(c, CURLOPT_LOGIN_OPTIONS, "AUTH=XOAUTH2");
    } else {
        curl_easy_setopt(c, CURLOPT_PASSWORD, st->password.c_str());
    }
    if (!st->custom.empty()) curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, st->custom.c_str());
    // The debug callback only runs in verbose mode; it keeps the server's status line, watches
    // fetch_range's transfer, and prints the trace when `verbose` asks for it.
    st->verbose = o.verbose;
    curl_easy_setopt(c, CURLOPT_DEBUGFUNCTION, &ImapRequest::on_debug);
    curl_easy_setopt(c, CURLOPT_DEBUGDATA, st.get());
    curl_easy_setopt(c, CURLOPT_VERBOSE, 1L);
    return ImapRequest(std::move(st));
}

ImapRequest ImapRequest::fetch(const std::string& url, const ImapOptions& options) {
    return make(url, "", options);
}

ImapRequest ImapRequest::fetch_range(const std::string& url, const std::vector<std::uint64_t>& uids,
                                     std::size_t max_literal, const ImapOptions& options) {
    ImapRequest r = make(url, fetch_bodies_command(uids), options);
    // libcurl 7.88's pingpong reader returns after every line it takes for a response ("* ..."),
    // keeps the rest of that read in its cache and counts it again, against the 300 KB cap on
    // response headers, when it reads the cache: a range costs about its bytes plus one buffer
    // per message. A 16 KB buffer keeps that within the cap for kRangeMessages; lines over half
    // of it (8 KB, 8 of the 1,025 corpus messages) are cut by libcurl and send the message alone.
    curl_easy_setopt(r.handle(), CURLOPT_BUFFERSIZE, 16L * 1024L);
    r.state_->max_literal = max_literal;
    r.state_->stream = std::make_unique<FetchStreamParser>(max_literal);
    curl_easy_setopt(r.handle(), CURLOPT_HEADERFUNCTION, &ImapRequest::on_header);
    curl_easy_setopt(r.handle(), CURLOPT_HEADERDATA, r.state_.get());
    return r;
}

ImapRequest ImapRequest::command(const std::string& url, const std::string& command,
                                 const ImapOptions& options) {
    return make(url, command, options);
}

void ImapRequest::forbid_reuse() { curl_easy_setopt(handle(), CURLOPT_FORBID_REUSE, 1L); }

ImapResult ImapRequest::perform() {
    state_->body.clear();
    state_->overflow = false;
    state_->errbuf[0] = '\0';
    state_->server_line.clear();
    if (state_->stream) {
        state_->stream = std::make_unique<FetchStreamParser>(state_->max_literal);
        state_->streaming = state_->clipped = false;
        state_->aborted.clear();
    }
    return result(curl_easy_perform(handle()));
}

ImapResult ImapRequest::result(CURLcode code) const {
    ImapResult r;
    r.code = code;
    r.status = classify(code);
    if (state_->overflow) {
        r.status = ImapStatus::too_large;
        r.error = "message larger than " + std::to_string(state_->max_bytes) + " bytes";
        return r;
    }
    if (!state_->aborted.empty()) {
        r.status = ImapStatus::other;
        r.error = "range fetch stopped: " + log_safe(state_->aborted, 200);
        return r;
    }
    if (code == CURLE_OK) return r;
    std::string detail = state_->errbuf[0] ? state_->errbuf : curl_easy_strerror(code);
    if (!state_->server_line.empty()) detail += " (server: " + state_->server_line + ")";
    if (r.status == ImapStatus::auth_failed)
        r.error = "login denied for user " + state_->username +
                  " (wrong password or token?): " + detail;
    else
        r.error = detail;
    r.error = log_safe(redact(r.error, state_->secrets), 300);
    return r;
}

}  // namespace ticketd::mail
