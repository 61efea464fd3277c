#include "tickets/json.h"

#include <ctime>
#include <sstream>

#include "tickets/ids.h"

namespace ticketd::tickets {

namespace {

using nlohmann::json;

/// Valid UTF-8 for nlohmann::json::dump (which throws on invalid bytes): a stored body from a
/// mislabelled charset must not make `tickets show --json` fail. Invalid bytes become U+FFFD.
std::string utf8(const std::string& s) {
    std::string out;
    out.reserve(s.size());
    std::size_t i = 0;
    while (i < s.size()) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        std::size_t len = c < 0x80          ? 1
                          : (c >> 5) == 0x6  ? 2
                          : (c >> 4) == 0xE  ? 3
                          : (c >> 3) == 0x1E ? 4
                                             : 0;
        bool ok = len > 0 && i + len <= s.size();
        for (std::size_t k = 1; ok && k < len; ++k)
            ok = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
        if (ok && len == 2) ok = c >= 0xC2;
        if (ok && len == 3) {
            unsigned char c1 = static_cast<unsigned char>(s[i + 1]);
            ok = !(c == 0xE0 && c1 < 0xA0) && !(c == 0xED && c1 >= 0xA0);
        }
        if (ok && len == 4) {
            unsigned char c1 = static_cast<unsigned char>(s[i + 1]);
            ok = c <= 0xF4 && !(c == 0xF0 && c1 < 0x90) && !(c == 0xF4 && c1 >= 0x90);
        }
        if (ok) {
            out.append(s, i, len);
            i += len;
        } else {
            out += "\xEF\xBF\xBD";
            ++i;
        }
    }
    return out;
}

json opt(const std::optional<std::int64_t>& v) { return v ? json(*v) : json(nullptr); }

json addresses_json(const std::vector<store::AddressRecord>& v) {
    json a = json::array();
    for (const auto& x : v) a.push_back({{"name", utf8(x.name)}, {"address", utf8(x.address)}});
    return a;
}

json tags_json(const std::vector<std::string>& tags) {
    json a = json::array();
    for (const auto& t : tags) a.push_back(utf8(t));
    return a;
}

std::string person(const std::string& name, const std::string& address) {
    if (name.empty()) return address;
    return name + " <" + address + ">";
}

/// Cut to at most `width` bytes without splitting a UTF-8 sequence.
std::string fit(const std::string& s, std::size_t width) {
    if (s.size() <= width) return s;
    std::size_t n = width > 3 ? width - 3 : width;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
    return s.substr(0, n) + "...";
}

std::string pad(const std::string& s, std::size_t width) {
    // Count code points, not bytes, so UTF-8 subjects line up.
    std::size_t cps = 0;
    for (unsigned char c : s)
        if ((c & 0xC0) != 0x80) ++cps;
    return cps >= width ? s : s + std::string(width - cps, ' ');
}

}  // namespace

std::string format_time(std::int64_t t) {
    if (t == 0) return "";
    std::time_t tt = static_cast<std::time_t>(t);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%SZ", &tm);
    return buf;
}

json ticket_json(const store::Ticket& t) {
    return json{
        {"number", t.number},
        {"status", store::to_string(t.status)},
        {"priority", store::to_string(t.priority)},
        {"tags", tags_json(t.tags)},
        {"queue", utf8(t.queue)},
        {"assignee", utf8(t.assignee)},
        {"requester", {{"address", utf8(t.requester_address)}, {"name", utf8(t.requester_name)}}},
        {"subject", utf8(t.subject)},
        {"created_at", t.created_at},
        {"updated_at", t.updated_at},
        {"closed_at", opt(t.closed_at)},
    };
}

json list_json(const std::vector<store::Ticket>& tickets) {
    json a = json::array();
    for (const auto& t : tickets) a.push_back(ticket_json(t));
    return a;
}

json show_json(const TicketView& v, const config::DeskConfig& desk) {
    json j = ticket_json(v.ticket);
    j["subject_tag"] = format_subject_tag(desk.subject_tag, v.ticket.number, v.ticket.token);
    j["linked_to"] = opt(v.linked_to_number);
    json people = json::array();
    for (const auto& p : v.participants)
        people.push_back({{"address", utf8(p.address)}, {"name", utf8(p.name)}, {"role", p.role}});
    j["participants"] = people;
    json msgs = json::array();
    for (const auto& mv : v.messages) {
        const auto& m = mv.message;
        json atts = json::array();
        for (const auto& a : mv.attachments)
            atts.push_back({{"filename", utf8(a.filename)},
                            {"content_type", utf8(a.content_type)},
                            {"size", a.size},
                            {"sha256", a.sha256},
                            {"content_id", utf8(a.content_id)},
                            {"inline", a.inline_}});
        msgs.push_back({
            {"id", m.id},
            {"kind", store::to_string(m.kind)},
            {"direction", store::to_string(m.direction)},
            {"from", utf8(m.from_address)},
            {"from_name", utf8(m.from_name)},
            {"to", addresses_json(m.to)},
            {"cc", addresses_json(m.cc)},
            {"subject", utf8(m.subject)},
            {"date", opt(m.date)},
            {"received_at", m.created_at},
            {"message_id", utf8(m.message_id)},
            {"body", utf8(m.body)},
            {"new_text", utf8(m.new_text)},
            {"thread_signal", m.thread_signal},
            {"attachments", atts},
        });
    }
    j["messages"] = msgs;
    json evs = json::array();
    for (const auto& e : v.events)
        evs.push_back({{"at", e.at},
                       {"kind", e.kind},
                       {"detail", utf8(e.detail)},
                       {"message", opt(e.message)}});
    j["events"] = evs;
    return j;
}

std::string terminal_safe(std::string_view text) {
    const std::string valid = utf8(std::string(text));
    std::string out;
    out.reserve(valid.size());
    for (std::size_t i = 0; i < valid.size(); ++i) {
        const auto c = static_cast<unsigned char>(valid[i]);
        if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7F) {
            out += "\xEF\xBF\xBD";
        } else if (c == 0xC2 && i + 1 < valid.size() && static_cast<unsigned char>(valid[i + 1]) >= 0x80 &&
                   static_cast<unsigned char>(valid[i + 1]) <= 0x9F) {
            out += "\xEF\xBF\xBD";  // a C1 control (U+0080-U+009F), e.g. CSI
            ++i;
        } else {
            out += valid[i];
        }
    }
    return out;
}

std::string render_list(const std::vector<store::Ticket>& tickets) {
    std::ostringstream out;
    out << pad("#", 8) << pad("STATUS", 10) << pad("PRIO", 8) << pad("UPDATED", 22)
        << pad("REQUESTER", 30) << "SUBJECT\n";
    for (const auto& t : tickets) {
        out << pad(std::to_string(t.number), 8) << pad(store::to_string(t.status), 10)
            << pad(store::to_string(t.priority), 8) << pad(format_time(t.updated_at), 22)
            << pad(fit(t.requester_address, 28), 30) << fit(t.subject, 60) << "\n";
    }
    if (tickets.empty()) out << "(no tickets)\n";
    return terminal_safe(out.str());
}

std::string render_show(const TicketView& v, const config::DeskConfig& desk) {
    const auto& t = v.ticket;
    std::ostringstream out;
    out << format_subject_tag(desk.subject_tag, t.number, t.token) << " " << t.subject << "\n";
    out << "status:    " << store::to_string(t.status) << "    priority: "
        << store::to_string(t.priority) << "\n";
    out << "requester: " << person(t.requester_name, t.requester_address) << "\n";
    if (!t.queue.empty()) out << "queue:     " << t.queue << "\n";
    if (!t.assignee.empty()) out << "assignee:  " << t.assignee << "\n";
    if (!t.tags.empty()) {
        out << "tags:     ";
        for (const auto& tag : t.tags) out << " " << tag;
        out << "\n";
    }
    out << "created:   " << format_time(t.created_at) << "    updated: "
        << format_time(t.updated_at) << "\n";
    if (t.closed_at) out << "closed:    " << format_time(*t.closed_at) << "\n";
    if (v.linked_to_number) out << "follows:   #" << *v.linked_to_number << "\n";
    if (!v.participants.empty()) {
        out << "people:\n";
        for (const auto& p : v.participants)
            out << "  " << person(p.name, p.address) << " (" << p.role << ")\n";
    }
    int n = 0;
    for (const auto& mv : v.messages) {
        const auto& m = mv.message;
        out << "\n--- message " << ++n << " [" << store::to_string(m.kind) << "] "
            << format_time(m.date.value_or(m.created_at)) << "\n";
        out << "From:    " << person(m.from_name, m.from_address) << "\n";
        out << "Subject: " << m.subject << "\n";
        if (!m.message_id.empty()) out << "Id:      <" << m.message_id << ">\n";
        out << "\n" << (m.new_text.empty() ? m.body : m.new_text) << "\n";
        for (const auto& a : mv.attachments)
            out << "  [attachment] " << (a.filename.empty() ? "(unnamed)" : a.filename) << " ("
                << a.content_type << ", " << a.size << " bytes)\n";
    }
    if (!v.events.empty()) {
        out << "\n--- trail\n";
        for (const auto& e : v.events) {
            out << format_time(e.at) << "  " << pad(e.kind, 24);
            // Point at the message the event is about, by the number shown above.
            for (std::size_t i = 0; e.message && i < v.messages.size(); ++i)
                if (v.messages[i].message.id == *e.message) out << "(message " << i + 1 << ") ";
            out << e.detail << "\n";
        }
    }
    return terminal_safe(out.str());
}

}  // namespace ticketd::tickets
