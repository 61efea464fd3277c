#include "tests/support/paths.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <unistd.h>

namespace ticketd::testing {

namespace fs = std::filesystem;

fs::path shared_dir() {
    if (const char* env = std::getenv("TICKETD_SHARED_DIR"); env && *env) {
        return fs::is_directory(env) ? fs::path(env) : fs::path();
    }
    fs::path p = TICKETD_SHARED_DIR;
    return fs::is_directory(p) ? fs::canonical(p) : fs::path();
}

fs::path corpus_dir() {
    fs::path s = shared_dir();
    if (s.empty() || !fs::is_directory(s / "corpus")) return {};
    return s / "corpus";
}

std::vector<fs::path> corpus_message_files() {
    std::vector<fs::path> files;
    const fs::path corpus = corpus_dir();
    if (corpus.empty()) return files;
    for (const char* sub : {"parse", "robust", "bounces"}) {
        const auto dir = corpus / sub;
        if (!fs::exists(dir)) continue;
        for (const auto& e : fs::recursive_directory_iterator(dir)) {
            if (!e.is_regular_file()) continue;
            const auto ext = e.path().extension().string();
            if (ext == ".json" || ext == ".txt" || ext == ".md") continue;
            files.push_back(e.path());
        }
    }
    std::sort(files.begin(), files.end());
    return files;
}

fs::path data_dir() { return fs::path(TICKETD_SOURCE_DIR) / "tests" / "data"; }
fs::path source_dir() { return fs::path(TICKETD_SOURCE_DIR); }
fs::path binary_dir() { return fs::path(TICKETD_BINARY_DIR); }
fs::path ticketd_binary() { return binary_dir() / "daemon" / "ticketd"; }

std::string read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + p.string());
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

void write_file(const fs::path& p, const std::string& content) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    if (!out) throw std::runtime_error("cannot write " + p.string());
    out << content;
}

TempDir::TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "ticketd-test-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
}

TempDir::~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
}

}  // namespace ticketd::testing
