#include "rules/literals.h"

#include <cstring>
#include <deque>

namespace ticketd::rules {

LiteralSet::LiteralSet(const std::vector<std::string>& literals) : literals_(literals) {
    // Byte classes keep the table small: only bytes some literal contains need their own column.
    for (const auto& l : literals_)
        for (unsigned char c : l)
            if (byte_class_[c] == 0) byte_class_[c] = static_cast<std::uint8_t>(classes_++);
    // When literals use all 256 byte values, the ids wrapped past 255: give every byte its own
    // class instead.
    if (classes_ > 256) {
        classes_ = 256;
        for (int c = 0; c < 256; ++c) byte_class_[c] = static_cast<std::uint8_t>(c);
    }
    const auto k = static_cast<std::size_t>(classes_);

    // The trie (-1: no edge yet), and each state's own outputs.
    std::vector<std::int32_t> go(k, -1);
    std::vector<std::vector<std::uint32_t>> out(1);
    for (std::uint32_t id = 0; id < literals_.size(); ++id) {
        const auto& l = literals_[id];
        if (l.empty()) {
            always_.push_back(id);
            continue;
        }
        std::size_t s = 0;
        for (unsigned char c : l) {
            const std::size_t at = s * k + byte_class_[c];
            if (go[at] < 0) {
                go[at] = static_cast<std::int32_t>(out.size());
                out.emplace_back();
                go.resize(go.size() + k, -1);  // (invalidates references into go)
            }
            s = static_cast<std::size_t>(go[at]);
        }
        out[s].push_back(id);
    }

    // Breadth first: failure links, folded into a complete transition table, outputs merged
    // along the failure chain so a state lists every literal ending there.
    const std::size_t states = out.size();
    std::vector<std::int32_t> fail(states, 0);
    std::deque<std::size_t> frontier;
    for (std::size_t c = 0; c < k; ++c) {
        auto& edge = go[c];
        if (edge < 0) {
            edge = 0;
        } else {
            fail[static_cast<std::size_t>(edge)] = 0;
            frontier.push_back(static_cast<std::size_t>(edge));
        }
    }
    while (!frontier.empty()) {
        const std::size_t s = frontier.front();
        frontier.pop_front();
        const auto& inherited = out[static_cast<std::size_t>(fail[s])];
        out[s].insert(out[s].end(), inherited.begin(), inherited.end());
        for (std::size_t c = 0; c < k; ++c) {
            auto& edge = go[s * k + c];
            const std::int32_t via_fail = go[static_cast<std::size_t>(fail[s]) * k + c];
            if (edge < 0) {
                edge = via_fail;
            } else {
                fail[static_cast<std::size_t>(edge)] = via_fail;
                frontier.push_back(static_cast<std::size_t>(edge));
            }
        }
    }
    next_ = std::move(go);
    out_begin_.reserve(states + 1);
    for (const auto& o : out) {
        out_begin_.push_back(static_cast<std::uint32_t>(out_.size()));
        out_.insert(out_.end(), o.begin(), o.end());
    }
    out_begin_.push_back(static_cast<std::uint32_t>(out_.size()));

    for (int c = 0; c < 256; ++c) {
        if (next_[byte_class_[c]] != 0) {
            starts_[c] = true;
            only_start_ = static_cast<unsigned char>(c);
            ++start_count_;
        }
    }
}

std::vector<char> LiteralSet::find_all(std::string_view text) const {
    std::vector<char> found(literals_.size(), 0);
    for (auto id : always_) found[id] = 1;
    if (start_count_ == 0) return found;
    const auto k = static_cast<std::size_t>(classes_);
    const auto* p = reinterpret_cast<const unsigned char*>(text.data());
    const auto* end = p + text.size();
    std::size_t s = 0;
    while (p < end) {
        if (s == 0) {
            // At the root most bytes lead nowhere: skip to the next byte that starts a literal
            // (memchr when only one byte can, which is vectorised).
            if (start_count_ == 1) {
                p = static_cast<const unsigned char*>(std::memchr(p, only_start_, static_cast<std::size_t>(end - p)));
                if (!p) break;
            } else {
                while (p < end && !starts_[*p]) ++p;
                if (p == end) break;
            }
        }
        s = static_cast<std::size_t>(next_[s * k + byte_class_[*p++]]);
        for (auto i = out_begin_[s]; i < out_begin_[s + 1]; ++i) found[out_[i]] = 1;
    }
    return found;
}

}  // namespace ticketd::rules
