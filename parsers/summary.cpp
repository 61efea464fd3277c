#include "parsers/summary.h"

#include "parsers/headers.h"
#include "parsers/mime.h"

namespace ticketd::parsers {

namespace {

nlohmann::json addresses(const std::vector<Address>& list) {
    auto arr = nlohmann::json::array();
    for (const auto& a : list) {
        nlohmann::json o;
        o["name"] = a.name.empty() ? nlohmann::json(nullptr) : nlohmann::json(a.name);
        o["address"] = a.address;
        arr.push_back(std::move(o));
    }
    return arr;
}

nlohmann::json str_or_null(const std::string& s) { return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s); }

}  // namespace

nlohmann::json to_summary_json(const Message& m) {
    nlohmann::json j;
    // The score-parse schema: subject, from/to/cc, message_id, leaves.
    j["subject"] = m.header("subject") ? nlohmann::json(m.subject) : nlohmann::json(nullptr);
    j["from"] = addresses(m.from);
    j["to"] = addresses(m.to);
    j["cc"] = addresses(m.cc);
    j["message_id"] = str_or_null(m.message_id);
    auto leaves = nlohmann::json::array();
    for (const auto& l : m.leaves) {
        nlohmann::json o;
        o["content_type"] = l.content_type;
        o["filename"] = str_or_null(l.filename);
        o["len"] = l.data.size();
        o["sha256"] = leaf_sha256(l);
        if (l.is_text) o["text"] = std::string(l.text());
        leaves.push_back(std::move(o));
    }
    j["leaves"] = std::move(leaves);
    // What ticketd adds.
    j["body"] = m.body;
    j["new_text"] = m.new_text;
    auto atts = nlohmann::json::array();
    for (const auto& a : m.attachments) {
        atts.push_back({{"filename", a.filename},
                        {"content_type", a.content_type},
                        {"size", a.size},
                        {"sha256", a.sha256},
                        {"inline", a.inline_image}});
    }
    j["attachments"] = std::move(atts);
    j["classification"] = to_string(m.classification);
    j["classification_reason"] = m.classification_reason;
    if (m.bounce) {
        const auto& b = *m.bounce;
        j["bounce"] = {{"original_message_id", b.original_message_id},
                       {"failed_recipients", b.failed_recipients},
                       {"status", b.status},
                       {"diagnostic", b.diagnostic},
                       {"permanent", b.permanent}};
    } else {
        j["bounce"] = nullptr;
    }
    j["in_reply_to"] = m.in_reply_to;
    j["references"] = m.references;
    j["date"] = m.date ? nlohmann::json(format_iso8601(*m.date)) : nlohmann::json(nullptr);
    auto warnings = nlohmann::json::array();
    for (const auto& w : m.warnings) warnings.push_back(w.what);
    j["warnings"] = std::move(warnings);
    return j;
}

}  // namespace ticketd::parsers
