#include "tests/support/dovecot.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <regex>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace ticketd::testing {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

int free_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw std::runtime_error("socket failed");
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    socklen_t len = sizeof a;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
        ::close(fd);
        throw std::runtime_error("bind 127.0.0.1:0 failed");
    }
    ::close(fd);
    return ntohs(a.sin_port);
}

bool wait_for_greeting(int port, const std::string& prefix, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = htons(static_cast<uint16_t>(port));
        bool ok = false;
        if (fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
            pollfd p{fd, POLLIN, 0};
            std::string got;
            while (got.size() < prefix.size() && ::poll(&p, 1, 1000) > 0) {
                char buf[256];
                ssize_t n = ::read(fd, buf, sizeof buf);
                if (n <= 0) break;
                got.append(buf, static_cast<std::size_t>(n));
            }
            ok = got.compare(0, prefix.size(), prefix) == 0;
        }
        if (fd >= 0) ::close(fd);
        if (ok) return true;
        std::this_thread::sleep_for(50ms);
    }
    return false;
}

pid_t spawn_logged(const std::vector<std::string>& argv, const fs::path& log,
                   const std::vector<std::string>& extra_env) {
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) throw std::runtime_error("cannot open " + log.string());
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, fd, 1);
    posix_spawn_file_actions_adddup2(&fa, fd, 2);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    // Own process group: a hard kill reaches the server's children too, and they free the ports.
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&attr, 0);
    std::vector<char*> cargv;
    for (auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
    cargv.push_back(nullptr);
    // `extra_env` reaches only the child (no setenv in the test process, whose threads read it).
    std::vector<std::string> env;
    for (char** e = environ; *e; ++e) env.emplace_back(*e);
    env.insert(env.end(), extra_env.begin(), extra_env.end());
    std::vector<char*> cenv;
    for (auto& e : env) cenv.push_back(const_cast<char*>(e.c_str()));
    cenv.push_back(nullptr);
    pid_t pid = -1;
    int rc = ::posix_spawnp(&pid, cargv[0], &fa, &attr, cargv.data(), cenv.data());
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    ::close(fd);
    if (rc != 0) throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(rc));
    return pid;
}

void stop_process(pid_t pid, bool hard, std::chrono::milliseconds grace) {
    if (pid <= 0) return;
    ::kill(-pid, hard ? SIGKILL : SIGTERM);
    auto deadline = std::chrono::steady_clock::now() + grace;
    while (true) {
        int status = 0;
        pid_t r = ::waitpid(pid, &status, WNOHANG);
        if (r == pid || (r < 0 && errno == ECHILD)) break;
        if (std::chrono::steady_clock::now() > deadline) {
            ::kill(-pid, SIGKILL);
            ::waitpid(pid, &status, 0);
            break;
        }
        std::this_thread::sleep_for(10ms);
    }
    // Children of the group that outlived the leader (dovecot's imap/auth processes).
    if (hard) ::kill(-pid, SIGKILL);
}

namespace {

bool in_path(const std::string& name) {
    for (const char* dir : {"/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/local/sbin", "/usr/local/bin"})
        if (::access((fs::path(dir) / name).c_str(), X_OK) == 0) return true;
    return false;
}

size_t append_body(char* data, size_t size, size_t n, void* user) {
    static_cast<std::string*>(user)->append(data, size * n);
    return size * n;
}

struct ReadState {
    const std::string* data;
    std::size_t pos = 0;
};

size_t read_body(char* buf, size_t size, size_t n, void* user) {
    auto* st = static_cast<ReadState*>(user);
    std::size_t len = std::min(size * n, st->data->size() - st->pos);
    std::memcpy(buf, st->data->data() + st->pos, len);
    st->pos += len;
    return len;
}

std::string url_mailbox(const std::string& mailbox) {
    std::string out;
    char hex[4];
    for (unsigned char c : mailbox) {
        if (std::isalnum(c) || c == '.' || c == '-' || c == '_') {
            out += static_cast<char>(c);
        } else {
            std::snprintf(hex, sizeof hex, "%%%02X", c);
            out += hex;
        }
    }
    return out;
}

}  // namespace

bool DovecotServer::available() { return in_path("dovecot") && in_path("openssl"); }

std::string DovecotServer::why_unavailable() {
    return "dovecot or openssl is not installed (apt-get install dovecot-imapd openssl); "
           "integration test skipped";
}

DovecotServer::DovecotServer(std::vector<DovecotUser> users, DovecotOptions options)
    : users_(std::move(users)), options_(options) {
    fs::permissions(dir_.path(), fs::perms::owner_all | fs::perms::group_read |
                                     fs::perms::group_exec | fs::perms::others_read |
                                     fs::perms::others_exec);
    imap_port_ = free_port();
    imaps_port_ = free_port();
    while (imaps_port_ == imap_port_) imaps_port_ = free_port();
    fs::create_directories(dir_ / "run");
    std::string cmd = "openssl req -x509 -newkey rsa:2048 -nodes -keyout '" + (dir_ / "key.pem").string() +
                      "' -out '" + cert_file().string() +
                      "' -days 2 -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 "
                      ">/dev/null 2>&1";
    if (std::system(cmd.c_str()) != 0) throw std::runtime_error("openssl could not make a certificate");
    std::string passwd_text;
    for (const auto& u : users_) {
        passwd_text += u.name + ":{PLAIN}" + u.password + "::::\n";
        for (const char* sub : {"new", "cur", "tmp"})
            fs::create_directories(dir_ / "mail" / u.name / "Maildir" / sub);
    }
    write_file(dir_ / "passwd", passwd_text);
    // The HS256 key dovecot validates OAuth2 tokens with: dict fs, shared/<azp>/<alg>/<kid>.
    fs::create_directories(dir_ / "oauth2-keys" / "default" / "HS256");
    write_file(dir_ / "oauth2-keys" / "default" / "HS256" / "default",
               "dGlja2V0ZC10ZXN0LWtleS0wMTIzNDU2Nzg5YWJjZGVm");  // base64 of the test key
    write_file(dir_ / "oauth2.conf.ext",
               "introspection_mode = local\n"
               "local_validation_key_dict = fs:posix:prefix=" + (dir_ / "oauth2-keys").string() + "/\n"
               "username_attribute = sub\n");
    for (auto& e : fs::recursive_directory_iterator(dir_ / "oauth2-keys"))
        fs::permissions(e.path(), fs::perms::others_read | fs::perms::others_exec, fs::perm_options::add);
    fs::permissions(dir_ / "oauth2-keys", fs::perms::others_read | fs::perms::others_exec, fs::perm_options::add);
    fs::permissions(dir_ / "oauth2.conf.ext", fs::perms::others_read, fs::perm_options::add);
    if (::getuid() == 0) {
        if (struct passwd* pw = ::getpwnam("dovecot")) {
            for (auto& e : fs::recursive_directory_iterator(dir_ / "mail"))
                if (::chown(e.path().c_str(), pw->pw_uid, pw->pw_gid) != 0) {
                }
            if (::chown((dir_ / "mail").c_str(), pw->pw_uid, pw->pw_gid) != 0) {
            }
        }
    }
    write_config();
    start();
}

DovecotServer::~DovecotServer() {
    if (pid_ > 0) stop_process(pid_, true);
}

void DovecotServer::write_config() {
    const std::string d = dir_.path().string();
    std::string login_user = "dovenull", internal_user = "dovecot",
                userdb = "uid=dovecot gid=dovecot home=" + d + "/mail/%u";
    if (::getuid() != 0) {
        // As a normal user dovecot runs everything as that user (TESTBED.md).
        struct passwd* pw = ::getpwuid(::getuid());
        login_user = internal_user = pw ? pw->pw_name : "nobody";
        userdb = "home=" + d + "/mail/%u";
    }
    std::string conf =
        "base_dir = " + d + "/run\n"
        "state_dir = " + d + "/run/state\n"
        "instance_name = ticketd-test-" + std::to_string(imap_port_) + "\n"
        "log_path = " + d + "/dovecot.log\n"
        "protocols = imap\n"
        "listen = 127.0.0.1\n"
        + (options_.offer_tls ? "ssl = yes\n"
                                "ssl_cert = <" + d + "/cert.pem\n"
                                "ssl_key = <" + d + "/key.pem\n"
                              : std::string("ssl = no\n")) +
        "disable_plaintext_auth = no\n"
        "auth_mechanisms = plain login xoauth2 oauthbearer\n"
        // A failed login is answered at once (default: 2 s), so wrong-password tests are fast.
        "auth_failure_delay = 0\n"
        // Loopback is trusted: no growing auth penalty (anvil) after repeated failures.
        "login_trusted_networks = 127.0.0.1/8\n"
        "mail_location = maildir:~/Maildir\n"
        "mail_fsync = never\n"
        "first_valid_uid = 1\n"
        "first_valid_gid = 1\n"
        "default_internal_user = " + internal_user + "\n"
        "default_internal_group = " + internal_user + "\n"
        "default_login_user = " + login_user + "\n"
        "service imap-login {\n"
        "  inet_listener imap {\n    address = 127.0.0.1\n    port = " + std::to_string(imap_port_) + "\n  }\n"
        + (options_.offer_tls ? "  inet_listener imaps {\n    address = 127.0.0.1\n    port = " +
                                    std::to_string(imaps_port_) + "\n    ssl = yes\n  }\n"
                              : std::string()) +
        "  chroot =\n"
        "}\n"
        "service anvil {\n  chroot =\n}\n"
        "passdb {\n  driver = oauth2\n  mechanisms = xoauth2 oauthbearer\n  args = " + d +
        "/oauth2.conf.ext\n}\n"
        "passdb {\n  driver = passwd-file\n  args = scheme=PLAIN username_format=%u " + d + "/passwd\n}\n"
        "userdb {\n  driver = static\n  args = " + userdb + "\n}\n"
        "namespace inbox {\n  inbox = yes\n}\n";
    write_file(dir_ / "dovecot.conf", conf);
}

void DovecotServer::start() {
    if (pid_ > 0) return;
    // A master.pid left by a killed master makes the next start refuse (TESTBED.md).
    std::error_code ec;
    fs::remove(dir_ / "run" / "master.pid", ec);
    pid_ = spawn_logged({"dovecot", "-F", "-c", (dir_ / "dovecot.conf").string()}, dir_ / "dovecot.stdout");
    if (!wait_for_greeting(imap_port_, "* OK")) {
        stop_process(pid_, true);
        pid_ = -1;
        throw std::runtime_error("dovecot did not greet on 127.0.0.1:" + std::to_string(imap_port_) +
                                 "\n" + log());
    }
}

void DovecotServer::kill() {
    stop_process(pid_, true);
    pid_ = -1;
}

void DovecotServer::stop() {
    stop_process(pid_, false);
    pid_ = -1;
}

std::string DovecotServer::oauth2_token(const std::string& user, std::chrono::seconds ttl) const {
    // python3 is a test dependency already (the SMTP sink); its hmac makes the JWT signature.
    const std::string script =
        "import base64,hashlib,hmac,json,sys,time\n"
        "b=lambda x: base64.urlsafe_b64encode(x).rstrip(b'=').decode()\n"
        "now=int(time.time()); ttl=int(sys.argv[2])\n"
        "h=b(json.dumps({'alg':'HS256','typ':'JWT'}).encode())\n"
        "p=b(json.dumps({'sub':sys.argv[1],'iat':min(now,now+ttl)-60,'nbf':min(now,now+ttl)-60,"
        "'exp':now+ttl}).encode())\n"
        "k=base64.b64decode('dGlja2V0ZC10ZXN0LWtleS0wMTIzNDU2Nzg5YWJjZGVm')\n"
        "print(h+'.'+p+'.'+b(hmac.new(k,(h+'.'+p).encode(),hashlib.sha256).digest()))\n";
    write_file(dir_ / "mint_token.py", script);
    std::string cmd = "python3 '" + (dir_ / "mint_token.py").string() + "' '" + user + "' " +
                      std::to_string(ttl.count());
    FILE* f = ::popen(cmd.c_str(), "r");
    if (!f) throw std::runtime_error("cannot run python3 to make an OAuth2 token");
    std::string out;
    char buf[512];
    while (std::fgets(buf, sizeof buf, f)) out += buf;
    if (::pclose(f) != 0 || out.empty()) throw std::runtime_error("python3 could not make a token");
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
    return out;
}

std::string DovecotServer::log() const {
    std::string out;
    for (const char* f : {"dovecot.log", "dovecot.stdout"}) {
        try {
            out += read_file(dir_ / f);
        } catch (const std::exception&) {
        }
    }
    return out;
}

std::string DovecotServer::imap_url(const std::string& mailbox) const {
    return "imap://127.0.0.1:" + std::to_string(imap_port_) + "/" + url_mailbox(mailbox);
}

std::string DovecotServer::imaps_url(const std::string& mailbox) const {
    return "imaps://127.0.0.1:" + std::to_string(imaps_port_) + "/" + url_mailbox(mailbox);
}

std::string DovecotServer::password_of(const std::string& user) const {
    for (const auto& u : users_)
        if (u.name == user) return u.password;
    throw std::runtime_error("no dovecot user " + user);
}

fs::path DovecotServer::deliver(const std::string& raw, const std::string& user) {
    // dovecot gives UIDs to new/ files in name order: a zero-padded sequence keeps UID order
    // equal to delivery order ("_10" would otherwise sort before "_9"), which tests of
    // threading rely on (a reply must not arrive before its parent unless a test says so).
    char seq[32];
    std::snprintf(seq, sizeof seq, "%012llu", static_cast<unsigned long long>(++delivered_));
    fs::path tmp = dir_ / "mail" / user / "Maildir" / "tmp" /
                   ("t" + std::to_string(::getpid()) + "_" + seq + ".test");
    fs::path dst = dir_ / "mail" / user / "Maildir" / "new" / tmp.filename();
    write_file(tmp, raw);
    if (::getuid() == 0) {
        if (struct passwd* pw = ::getpwnam("dovecot"))
            if (::chown(tmp.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
            }
    }
    fs::rename(tmp, dst);  // Maildir delivery: never a half-written file in new/
    return dst;
}

namespace {

CURL* test_handle(const std::string& url, const std::string& user, const std::string& password,
                  std::string* body) {
    CURL* c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_USERNAME, user.c_str());
    curl_easy_setopt(c, CURLOPT_PASSWORD, password.c_str());
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_BUFFERSIZE, 512L * 1024L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &append_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
    return c;
}

}  // namespace

void DovecotServer::append(const std::string& raw, const std::string& mailbox, const std::string& user) {
    std::string body;
    CURL* c = test_handle(imap_url(mailbox), user, password_of(user), &body);
    ReadState rs{&raw};
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, &read_body);
    curl_easy_setopt(c, CURLOPT_READDATA, &rs);
    curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(raw.size()));
    CURLcode rc = curl_easy_perform(c);
    curl_easy_cleanup(c);
    if (rc != CURLE_OK) throw std::runtime_error(std::string("APPEND failed: ") + curl_easy_strerror(rc));
}

std::string DovecotServer::command(const std::string& cmd, const std::string& mailbox,
                                   const std::string& user) const {
    std::string body;
    std::string url = imap_url(mailbox);  // "" -> server URL, nothing SELECTed
    CURL* c = test_handle(url, user, password_of(user), &body);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, cmd.c_str());
    CURLcode rc = curl_easy_perform(c);
    curl_easy_cleanup(c);
    if (rc != CURLE_OK)
        throw std::runtime_error("IMAP " + cmd + " failed: " + curl_easy_strerror(rc));
    return body;
}

std::uint64_t DovecotServer::uidvalidity(const std::string& mailbox, const std::string& user) const {
    std::string r = command("EXAMINE \"" + mailbox + "\"", "", user);
    std::smatch m;
    if (!std::regex_search(r, m, std::regex(R"(\[UIDVALIDITY (\d+)\])")))
        throw std::runtime_error("no UIDVALIDITY in: " + r);
    return std::stoull(m[1]);
}

std::size_t DovecotServer::count(const std::string& mailbox, const std::string& user) const {
    std::string r = command("EXAMINE \"" + mailbox + "\"", "", user);
    std::smatch m;
    if (!std::regex_search(r, m, std::regex(R"(\* (\d+) EXISTS)")))
        throw std::runtime_error("no EXISTS in: " + r);
    return std::stoul(m[1]);
}

std::map<std::uint64_t, std::string> DovecotServer::flags(const std::string& mailbox,
                                                         const std::string& user) const {
    std::map<std::uint64_t, std::string> out;
    if (count(mailbox, user) == 0) return out;
    std::string r = command("UID FETCH 1:* (UID FLAGS)", mailbox, user);
    static const std::regex line(R"(\* \d+ FETCH \((.*)\))");
    static const std::regex uid(R"(UID (\d+))");
    static const std::regex fl(R"(FLAGS \(([^)]*)\))");
    for (std::sregex_iterator it(r.begin(), r.end(), line), end; it != end; ++it) {
        std::string inner = (*it)[1];
        std::smatch mu, mf;
        if (!std::regex_search(inner, mu, uid)) continue;
        std::string flags = std::regex_search(inner, mf, fl) ? std::string(mf[1]) : "";
        out[std::stoull(mu[1])] = flags;
    }
    return out;
}

std::vector<std::string> DovecotServer::folders(const std::string& user) const {
    std::string r = command("LIST \"\" *", "", user);
    std::vector<std::string> out;
    static const std::regex line(R"re(\* LIST \([^)]*\) (?:"[^"]*"|NIL) "?([^"\r\n]*)"?)re");
    for (std::sregex_iterator it(r.begin(), r.end(), line), end; it != end; ++it) out.push_back((*it)[1]);
    return out;
}

}  // namespace ticketd::testing
