#pragma once
// Where test inputs live, and scratch space that cleans up after itself.

#include <filesystem>
#include <string>
#include <vector>

namespace ticketd::testing {

/// ../shared beside the checkout (corpus, tools), or "" when this clone has none.
std::filesystem::path shared_dir();
/// ../shared/corpus, or "" when absent. Tests that need it: GTEST_SKIP() when empty.
std::filesystem::path corpus_dir();
/// Every message file of the corpus's parse/, robust/ and bounces/ (expected-result files
/// aside), sorted; empty when the corpus is absent.
std::vector<std::filesystem::path> corpus_message_files();
/// tests/data in the source tree (messages we wrote ourselves).
std::filesystem::path data_dir();
std::filesystem::path source_dir();
/// The build tree (where the `ticketd` binary is: binary_dir() / "daemon" / "ticketd").
std::filesystem::path binary_dir();
std::filesystem::path ticketd_binary();

std::string read_file(const std::filesystem::path& p);
void write_file(const std::filesystem::path& p, const std::string& content);

/// A fresh directory under $TMPDIR, removed (recursively) on destruction.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return path_; }
    std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

private:
    std::filesystem::path path_;
};

}  // namespace ticketd::testing
