// Parsing throughput over the shared corpus against Python's email (policy=default) in the same
// run, and peak memory parsing a generated message with a 50 MB base64 attachment.
//
// usage: bench_parse [--corpus DIR] [--rounds N] [--peer SCRIPT] [--python EXE] [--attachment-mb M]
//                    [--parse-only 1] [--dump FILE] [--top N] [--only SUBDIRS]
// --only parse,bounces restricts the run (and the peer) to those folders of the corpus (default:
// parse, robust, bounces): robust/ holds non-mail files (TNEF, JPEG, PDF) that weigh heavily.
// --mail-only 1 keeps (for both sides) only the files that start like a message: a header field
// line, after an optional mbox "From " line. The default run keeps every file.
// --parse-only 1 runs parse() over the corpus and nothing else: the run to profile
// (valgrind --tool=callgrind bench_parse --rounds 1 --parse-only 1), whose instruction count
// is stable on a loaded machine where wall-clock time is not.
// --dump FILE writes everything parse() produced for every corpus file (the `parse --json`
// summary plus quoted text, signature, HTML body, headers and forwards) and exits: diff two
// dumps to check that a performance change left the output byte-identical.
// --top N prints the N files that take most of parse()'s time (each parsed `rounds` times) and
// their share of the whole: where a profile of the corpus as a whole is dominated by a few files.

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "metrics/allocator.h"
#include "parsers/limits.h"
#include "parsers/mime.h"
#include "parsers/parse.h"
#include "parsers/summary.h"

namespace fs = std::filesystem;
namespace tp = ticketd::parsers;

namespace {

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

/// This process's CPU time: on a machine shared with builds, wall-clock time also counts the
/// time spent waiting for a core; CPU time does not (the peer reports both too).
double cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

long maxrss_kb() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

std::string run_capture(const std::string& cmd) {
    std::string out;
    FILE* p = popen(cmd.c_str(), "r");
    if (!p) return out;
    char buf[4096];
    std::size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    pclose(p);
    return out;
}

/// A number of the peer's one-line JSON report, or -1 when the peer did not report it.
double peer_number(const nlohmann::json& report, const char* key) {
    const auto it = report.find(key);
    return it != report.end() && it->is_number() ? it->get<double>() : -1;
}

/// A header field line first ("Name: ..."), after an optional mbox "From " line.
bool starts_like_a_message(std::string_view raw) {
    if (raw.substr(0, 5) == "From ") {
        const auto eol = raw.find('\n');
        raw = eol == std::string_view::npos ? std::string_view() : raw.substr(eol + 1);
    }
    std::size_t i = 0;
    while (i < raw.size() && static_cast<unsigned char>(raw[i]) > 32 && static_cast<unsigned char>(raw[i]) < 127 &&
           raw[i] != ':')
        ++i;
    return i > 0 && i < raw.size() && raw[i] == ':';
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/// A message with an attachment of `mb` MB of pseudo-random bytes, base64 in 76-column lines.
std::string big_message(std::size_t mb) {
    static const char* b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const std::size_t bytes = mb << 20;
    std::string raw =
        "From: Big Sender <big@example.com>\r\nTo: support@example.com\r\nSubject: large attachment\r\n"
        "Message-ID: <big@example.com>\r\nMIME-Version: 1.0\r\n"
        "Content-Type: multipart/mixed; boundary=\"BIG\"\r\n\r\n--BIG\r\nContent-Type: text/plain\r\n\r\n"
        "see attached\r\n--BIG\r\nContent-Type: application/octet-stream\r\n"
        "Content-Disposition: attachment; filename=\"data.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\n";
    raw.reserve(raw.size() + bytes / 3 * 4 + bytes / 57 * 2 + 64);
    unsigned x = 2463534242u;
    std::size_t col = 0;
    for (std::size_t i = 0; i < bytes / 3 * 4; ++i) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        raw.push_back(b64[x & 63]);
        if (++col == 76) {
            raw += "\r\n";
            col = 0;
        }
    }
    raw += "\r\n--BIG--\r\n";
    return raw;
}

}  // namespace

namespace {

constexpr const char* kUsage =
    "usage: bench_parse [--corpus DIR] [--rounds N] [--peer SCRIPT] [--python EXE] [--attachment-mb M]\n"
    "                   [--parse-only 1] [--mail-only 1] [--only SUBDIRS] [--dump FILE] [--top N]\n"
    "Parsing throughput over the corpus against Python's email in the same run, and peak memory on a\n"
    "generated message with a large attachment (docs/benchmarks.md, Parsing; options: this file's head).\n";

}  // namespace

int main(int argc, char** argv) {
    fs::path corpus = fs::path(TICKETD_SOURCE_DIR) / ".." / "shared" / "corpus";
    fs::path peer = fs::path(TICKETD_SOURCE_DIR) / "bench" / "py_email_parse.py";
    std::string python = "/usr/bin/python3";
    int rounds = 3;
    std::size_t attachment_mb = 50;
    bool parse_only = false;
    std::string dump;
    std::size_t top = 0;
    std::vector<std::string> subdirs{"parse", "robust", "bounces"};
    bool mail_only = false;
    // Every option takes a value; anything else (--help included) prints the usage, rather than
    // starting a run of several minutes.
    for (int i = 1; i < argc; i += 2) {
        const std::string a = argv[i];
        if (a == "--help" || a == "-h") {
            std::cout << kUsage;
            return 0;
        }
        if (i + 1 >= argc) {
            std::cerr << "bench_parse: no value for " << a << "\n" << kUsage;
            return 2;
        }
        if (a == "--corpus") corpus = argv[i + 1];
        else if (a == "--rounds") rounds = std::max(1, std::atoi(argv[i + 1]));
        else if (a == "--peer") peer = argv[i + 1];
        else if (a == "--python") python = argv[i + 1];
        else if (a == "--attachment-mb") attachment_mb = std::strtoul(argv[i + 1], nullptr, 10);
        else if (a == "--parse-only") parse_only = std::string_view(argv[i + 1]) != "0";
        else if (a == "--dump") dump = argv[i + 1];
        else if (a == "--top") top = std::strtoul(argv[i + 1], nullptr, 10);
        else if (a == "--mail-only") mail_only = std::string_view(argv[i + 1]) != "0";
        else if (a == "--only") {
            subdirs.clear();
            std::stringstream list(argv[i + 1]);
            for (std::string d; std::getline(list, d, ',');)
                if (!d.empty()) subdirs.push_back(d);
        } else {
            std::cerr << "bench_parse: unknown option " << a << "\n" << kUsage;
            return 2;
        }
    }
    if (!fs::exists(corpus)) {
        std::cerr << "bench_parse: no corpus at " << corpus << "\n";
        return 2;
    }

    // --- throughput: every message file of the corpus, in memory, parsed `rounds` times.
    std::vector<fs::path> paths;
    for (const auto& sub : subdirs)
        if (fs::exists(corpus / sub))
            for (const auto& e : fs::recursive_directory_iterator(corpus / sub)) {
                if (!e.is_regular_file()) continue;
                const auto ext = e.path().extension().string();
                if (ext == ".json" || ext == ".txt" || ext == ".md") continue;
                paths.push_back(e.path());
            }
    std::sort(paths.begin(), paths.end());
    std::vector<std::string> blobs;
    std::size_t total_bytes = 0;
    std::vector<fs::path> kept;
    for (const auto& p : paths) {
        std::string raw = slurp(p);
        if (mail_only && !starts_like_a_message(raw)) continue;
        kept.push_back(p);
        total_bytes += raw.size();
        blobs.push_back(std::move(raw));
    }
    paths = std::move(kept);
    if (!dump.empty()) {
        std::ofstream out(dump, std::ios::binary);
        for (std::size_t i = 0; i < blobs.size(); ++i) {
            out << "=== " << fs::relative(paths[i], corpus).string() << "\n";
            auto res = tp::parse(blobs[i]);
            if (auto* e = std::get_if<tp::ParseError>(&res)) {
                out << "error: " << e->message << "\n";
                continue;
            }
            const auto& m = std::get<tp::Message>(res);
            auto j = tp::to_summary_json(m);
            j["quoted_text"] = m.quoted_text;
            j["signature"] = m.signature;
            j["body_html"] = m.body_html;
            for (const auto& h : m.headers) j["headers"].push_back({h.name, h.value});
            for (const auto& f : m.forwarded) j["forwarded"].push_back({f.subject, f.message_id, f.raw.size()});
            out << j.dump(1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
        }
        return 0;
    }
    if (top > 0) {
        std::vector<std::pair<double, std::size_t>> times;
        double all = 0;
        for (std::size_t i = 0; i < blobs.size(); ++i) {
            const double c = cpu_seconds();
            for (int r = 0; r < rounds; ++r) (void)tp::parse(blobs[i]);
            times.emplace_back(cpu_seconds() - c, i);
            all += times.back().first;
        }
        std::sort(times.rbegin(), times.rend());
        std::printf("parse(): %.3f s CPU for %d rounds; the %zu costliest files:\n", all, rounds, top);
        for (std::size_t k = 0; k < std::min(top, times.size()); ++k)
            std::printf("  %5.1f%%  %8zu bytes  %s\n", 100 * times[k].first / all, blobs[times[k].second].size(),
                        fs::relative(paths[times[k].second], corpus).string().c_str());
        return 0;
    }
    std::size_t errors = 0, leaves = 0;
    // The allocator is a fifth of parse()'s time (cmake/Allocator.cmake): say which one ran.
    std::printf("allocator: %s\n", ticketd::metrics::describe(ticketd::metrics::allocator_in_use()).c_str());
    std::vector<double> round_cpu;  // per round: the median round is what a stray burst of load moves least
    const auto t0 = std::chrono::steady_clock::now();
    const double c0 = cpu_seconds();
    for (int r = 0; r < rounds; ++r) {
        const double r0 = cpu_seconds();
        for (const auto& raw : blobs) {
            auto res = tp::parse(raw);
            if (auto* m = std::get_if<tp::Message>(&res)) leaves += m->leaves.size();
            else ++errors;
        }
        round_cpu.push_back(cpu_seconds() - r0);
    }
    const double ours = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double ours_cpu = cpu_seconds() - c0;
    if (parse_only) {
        std::printf("parse(): %zu files, %.1f MB, %d rounds, %.3f s, %zu leaves, %zu rejected\n", blobs.size(),
                    total_bytes / 1e6, rounds, ours, leaves, errors);
        // For A/B runs of two builds on a busy machine: the fastest round moves least.
        std::printf("  rounds (CPU): fastest %.2f ms, median %.2f ms\n",
                    1e3 * *std::min_element(round_cpu.begin(), round_cpu.end()), 1e3 * median(round_cpu));
        return 0;
    }
    // The MIME layer alone (pre-scan, mimetic, headers, transfer decoding, charsets): what
    // Python's email does in the peer; parse() adds HTML-to-text, reply split, classification.
    const auto t_mime = std::chrono::steady_clock::now();
    const double c_mime = cpu_seconds();
    for (int r = 0; r < rounds; ++r)
        for (const auto& raw : blobs) {
            const tp::Limits limits;
            auto scanned = tp::prescan(raw, limits);
            if (auto* ps = std::get_if<tp::Prescan>(&scanned)) {
                tp::Message m;
                tp::build_message(ps->bytes(raw), *ps, limits, m);
            }
        }
    const double mime = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_mime).count();
    const double mime_cpu = cpu_seconds() - c_mime;
    const double n = static_cast<double>(blobs.size()) * rounds;
    const double mb = static_cast<double>(total_bytes) * rounds / 1e6;

    // --- the peer, on the same files and rounds, in this run
    const fs::path list = fs::temp_directory_path() / ("bench_parse_files_" + std::to_string(getpid()) + ".txt");
    {
        std::ofstream out(list);
        for (const auto& p : paths) out << p.string() << "\n";
    }
    const std::string py_json =
        run_capture(python + " '" + peer.string() + "' --rounds " + std::to_string(rounds) + " '" + list.string() + "'");
    fs::remove(list);
    // An empty or broken report (the peer did not run) parses as a discarded value: no keys.
    const auto report = nlohmann::json::parse(py_json, nullptr, false);
    const double py_seconds = peer_number(report, "seconds");
    const double py_cpu = peer_number(report, "cpu_seconds");

    std::printf("parse throughput (%zu files, %.1f MB, %d rounds)\n", blobs.size(), total_bytes / 1e6, rounds);
    std::printf("  ticketd parse():      %8.3f s  %9.0f msg/s  %7.1f MB/s  (%zu rejected by limits)\n", ours,
                n / ours, mb / ours, errors / static_cast<std::size_t>(rounds));
    std::printf("  ticketd MIME layer:   %8.3f s  %9.0f msg/s  %7.1f MB/s  (pre-scan + mimetic + decoding)\n", mime,
                n / mime, mb / mime);
    if (py_seconds > 0) {
        std::printf("  python email default: %8.3f s  %9.0f msg/s  %7.1f MB/s\n", py_seconds, n / py_seconds,
                    mb / py_seconds);
        std::printf("  ratio: parse() %.1fx, MIME layer %.1fx faster than Python's email\n", py_seconds / ours,
                    py_seconds / mime);
        if (py_cpu > 0)
            std::printf("  CPU time: parse() %.3f s, MIME layer %.3f s, python %.3f s: ratio parse() %.1fx, "
                        "MIME layer %.1fx\n",
                        ours_cpu, mime_cpu, py_cpu, py_cpu / ours_cpu, py_cpu / mime_cpu);
        std::vector<double> py_rounds;
        if (const auto it = report.find("round_cpu_seconds"); it != report.end() && it->is_array())
            for (const auto& v : *it)
                if (v.is_number()) py_rounds.push_back(v.get<double>());
        if (!py_rounds.empty() && !round_cpu.empty())
            std::printf("  median round (CPU): parse() %.1f ms, python %.1f ms: ratio parse() %.1fx "
                        "(rounds: parse() %.1f to %.1f ms, python %.1f to %.1f ms)\n",
                        1e3 * median(round_cpu), 1e3 * median(py_rounds), median(py_rounds) / median(round_cpu),
                        1e3 * *std::min_element(round_cpu.begin(), round_cpu.end()),
                        1e3 * *std::max_element(round_cpu.begin(), round_cpu.end()),
                        1e3 * *std::min_element(py_rounds.begin(), py_rounds.end()),
                        1e3 * *std::max_element(py_rounds.begin(), py_rounds.end()));
    } else {
        std::printf("  python peer did not run (%s)\n", py_json.c_str());
    }

    // --- peak memory, in a fresh process so the corpus above does not count
    int fds[2];
    if (pipe(fds) != 0) return 1;
    const pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        std::string raw = big_message(attachment_mb);
        const long before = maxrss_kb();
        const auto t1 = std::chrono::steady_clock::now();
        // The default cap (64 MB) is below a 50 MB attachment once base64-encoded.
        tp::Limits limits;
        limits.max_message_bytes = std::max<std::size_t>(limits.max_message_bytes, raw.size() + 1);
        auto res = tp::parse(raw, limits);
        const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
        const long after = maxrss_kb();
        std::size_t att = 0;
        if (auto* m = std::get_if<tp::Message>(&res))
            for (const auto& l : m->leaves) att = std::max(att, l.data.size());
        char line[256];
        const int len = std::snprintf(line, sizeof line, "%zu %ld %ld %.3f %zu\n", raw.size(), before, after, secs, att);
        if (write(fds[1], line, static_cast<std::size_t>(len)) < 0) _exit(1);
        _exit(0);
    }
    close(fds[1]);
    char buf[256] = {};
    const ssize_t got = read(fds[0], buf, sizeof buf - 1);
    close(fds[0]);
    waitpid(pid, nullptr, 0);
    std::size_t size = 0, att = 0;
    long before = 0, after = 0;
    double secs = 0;
    if (got > 0 && std::sscanf(buf, "%zu %ld %ld %lf %zu", &size, &before, &after, &secs, &att) == 5) {
        std::printf("peak memory, %zu MB attachment (message %.1f MB, decoded %.1f MB)\n", attachment_mb, size / 1e6,
                    att / 1e6);
        std::printf("  maxrss before parse %.1f MB (the message itself), after %.1f MB: %.2fx the message size; "
                    "parse took %.2f s\n",
                    before / 1024.0 * 1.048576, after / 1024.0 * 1.048576, after * 1024.0 / size, secs);
    }
    return 0;
}
