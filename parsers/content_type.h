#pragma once
// A Content-Type value in the plain form nearly all mail uses ("type/subtype" and "; name=value"
// parameters, values plain or quoted), split exactly as mimetic's ContentType splits it, without
// its tokenizer (a few thousand instructions a field, once for each part in mimetic's load and
// again in the pre-scan). Anything outside that form (comments, backslashes, blanks inside the
// type, 8-bit bytes, an empty value) gives nullopt and is left to mimetic. The test
// (test_content_type.cpp) holds the two together on generated values.

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ticketd::parsers {

struct SimpleContentType {
    std::string_view type, subtype;  ///< as written (mimetic keeps the case too)

    /// Up to eight parameters held in place (no allocation per Content-Type: mail rarely has
    /// more than three; a value with more is left to mimetic).
    class Params {
    public:
        using Param = std::pair<std::string_view, std::string_view>;
        static constexpr std::size_t capacity = 8;
        bool add(std::string_view name, std::string_view value) {
            if (count_ == capacity) return false;
            items_[count_++] = {name, value};
            return true;
        }
        const Param* begin() const { return items_.data(); }
        const Param* end() const { return items_.data() + count_; }
        std::size_t size() const { return count_; }
        bool empty() const { return count_ == 0; }

    private:
        std::array<Param, capacity> items_{};
        std::size_t count_ = 0;
    };
    /// Names and values as mimetic's paramList() gives them: a quoted value without its quotes.
    Params params;

    /// What mimetic::ContentType::str() writes for it (the value the field then shows).
    std::string str() const;
    /// mimetic's reading of the structure: ContentType::isMultipart(), and message/rfc822
    /// (both compared without regard to case).
    bool is_multipart() const;
    bool is_message_rfc822() const;
    /// The first `boundary` parameter's value, as ContentType::param("boundary") gives it.
    std::string_view boundary() const;
};

/// `value`: the field's value as mimetic's header reading gives it (blanks after the colon gone).
std::optional<SimpleContentType> read_simple_content_type(std::string_view value);

}  // namespace ticketd::parsers
