#pragma once
// Many literals searched in one pass over a text (Aho-Corasick): which of them occur anywhere in
// it. The rules' `body: { contains: ... }` leaves use it so that a large body is read once per
// message instead of once per literal (issue 4's p99: 100 such leaves over a 1 MB body were
// 100 scans). Pure; byte-exact, the same answers as std::string_view::find per literal.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ticketd::rules {

class LiteralSet {
public:
    LiteralSet() = default;
    explicit LiteralSet(const std::vector<std::string>& literals);

    std::size_t size() const { return literals_.size(); }
    const std::string& literal(std::size_t i) const { return literals_[i]; }

    /// found[i] != 0 when literal i occurs in `text` (an empty literal always does).
    std::vector<char> find_all(std::string_view text) const;

private:
    std::vector<std::string> literals_;
    std::uint8_t byte_class_[256] = {};  ///< bytes no literal uses share class 0
    int classes_ = 1;
    std::vector<std::int32_t> next_;          ///< state * classes_ + class -> state (a full DFA)
    std::vector<std::uint32_t> out_begin_;    ///< state -> range in out_ (state + 1 ends it)
    std::vector<std::uint32_t> out_;          ///< literal ids ending at a state, suffixes included
    std::vector<std::uint32_t> always_;       ///< empty literals
    bool starts_[256] = {};                   ///< bytes that leave the root
    int start_count_ = 0;
    unsigned char only_start_ = 0;            ///< the one such byte when start_count_ == 1
};

}  // namespace ticketd::rules
