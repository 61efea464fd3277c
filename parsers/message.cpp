#include "parsers/message.h"

#include <string_view>

namespace ticketd::parsers {

namespace {

bool iequal(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z') x = static_cast<char>(x + 32);
        if (y >= 'A' && y <= 'Z') y = static_cast<char>(y + 32);
        if (x != y) return false;
    }
    return true;
}

}  // namespace

const char* to_string(Classification c) {
    switch (c) {
        case Classification::requester: return "requester";
        case Classification::auto_reply: return "auto_reply";
        case Classification::bounce: return "bounce";
        case Classification::list: return "list";
    }
    return "requester";
}

const Header* Message::header(std::string_view name) const {
    for (const auto& h : headers)
        if (iequal(h.name, name)) return &h;
    return nullptr;
}

std::vector<const Header*> Message::headers_named(std::string_view name) const {
    std::vector<const Header*> out;
    for (const auto& h : headers)
        if (iequal(h.name, name)) out.push_back(&h);
    return out;
}

}  // namespace ticketd::parsers
