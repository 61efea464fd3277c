#pragma once
// Every field build_message fills, written out (binary bytes and all): what the skeleton test
// and the fuzz_skeleton target compare between the ways mimetic may read a message.

#include <string>
#include <vector>

#include "parsers/message.h"

namespace ticketd::testing {

inline std::string show_addresses(const std::vector<ticketd::parsers::Address>& as) {
    std::string s;
    for (const auto& a : as) s += "[" + a.name + "|" + a.address + "]";
    return s;
}

/// Every field build_message fills, written out (binary bytes and all).
inline std::string describe_message(const ticketd::parsers::Message& m) {
    std::string s;
    for (const auto& h : m.headers) s += "H " + h.name + ": " + h.value + "\n";
    s += "subject " + m.subject + "\nfrom " + show_addresses(m.from) + "\nsender " + show_addresses(m.sender) + "\nreply-to " +
         show_addresses(m.reply_to) + "\nto " + show_addresses(m.to) + "\ncc " + show_addresses(m.cc) + "\nbcc " + show_addresses(m.bcc) + "\n";
    s += "return-path " + std::to_string(m.has_return_path) + " " + m.return_path + "\nmessage-id " + m.message_id + "\n";
    for (const auto& id : m.in_reply_to) s += "irt " + id + "\n";
    for (const auto& id : m.references) s += "ref " + id + "\n";
    s += "date " + m.date_raw + " " + (m.date ? std::to_string(m.date->time_since_epoch().count()) : "-") + "\n";
    for (const auto& l : m.leaves) {
        s += "LEAF " + l.content_type + " cs=" + l.charset + " disp=" + l.disposition + " fn=" + l.filename +
             " cid=" + l.content_id + " text=" + std::to_string(l.is_text) + std::to_string(l.text_is_data) +
             " bin=" + std::to_string(l.binary) + " depth=" + std::to_string(l.depth) +
             " rfc822=" + std::to_string(l.in_rfc822) + " sha=" + l.sha256 + "\ndata " + l.data +
             "\nconverted " + l.converted + "\n";
    }
    for (const auto& f : m.forwarded)
        s += "FWD " + f.subject + " " + show_addresses(f.from) + " " + f.message_id + "\n" + f.raw + "\n";
    for (const auto& w : m.warnings) s += "W " + w.what + "\n";
    return s;
}

}  // namespace ticketd::testing
