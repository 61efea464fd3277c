#include "tickets/agent_commands.h"

#include <algorithm>
#include <cctype>

#include "parsers/headers.h"
#include "store/tickets.h"

namespace ticketd::tickets {

namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
}

std::vector<std::string> words(std::string_view s) {
    std::vector<std::string> out;
    std::size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
        std::size_t j = i;
        while (j < s.size() && !std::isspace(static_cast<unsigned char>(s[j]))) ++j;
        if (j > i) out.emplace_back(s.substr(i, j - i));
        i = j;
    }
    return out;
}

bool is_command_line(std::string_view line) {
    line = trim(line);
    return line.size() >= 2 && line[0] == '#' && std::isalpha(static_cast<unsigned char>(line[1]));
}

bool valid_tag(std::string_view t) {
    if (t.empty() || t.size() > 64) return false;
    return std::all_of(t.begin(), t.end(), [](unsigned char c) {
        return std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == ':' || c >= 0x80;
    });
}

}  // namespace

AgentCommands parse_agent_commands(std::string_view text) {
    AgentCommands c;
    std::size_t pos = 0;
    int line_no = 0;
    bool seen_command = false;
    std::size_t rest = text.size();  // where the text after the commands starts
    while (pos < text.size()) {
        std::size_t end = text.find('\n', pos);
        const std::size_t next = end == std::string_view::npos ? text.size() : end + 1;
        std::string_view line = text.substr(pos, (end == std::string_view::npos ? text.size() : end) - pos);
        ++line_no;
        if (trim(line).empty()) {
            pos = next;
            continue;
        }
        if (!is_command_line(line)) {
            rest = pos;
            break;
        }
        const std::string where = "line " + std::to_string(line_no) + ": ";
        const std::string written(trim(line));
        c.lines.push_back(written);
        auto w = words(written);
        const std::string name = parsers::ascii_lower(w[0]);
        std::string arg(trim(std::string_view(written).substr(w[0].size())));
        auto once = [&](std::optional<std::string>& slot, std::string value) {
            if (slot && *slot != value) c.errors.push_back(where + name + " given twice");
            slot = std::move(value);
        };
        if (name == "#note") {
            if (seen_command) c.errors.push_back(where + "#note must be the first line");
            if (!arg.empty()) c.errors.push_back(where + "#note takes nothing after it (write the note below it)");
            c.note = true;
        } else if (name == "#status") {
            const std::string s = parsers::ascii_lower(arg);
            if (s == "pending" || s == "resolved" || s == "closed") once(c.status, s);
            else c.errors.push_back(where + "#status expects pending, resolved or closed, got '" + arg + "'");
        } else if (name == "#priority") {
            const std::string p = parsers::ascii_lower(arg);
            if (store::parse_priority(p)) once(c.priority, p);
            else c.errors.push_back(where + "#priority expects low, normal, high or urgent, got '" + arg + "'");
        } else if (name == "#tag") {
            if (w.size() < 2) c.errors.push_back(where + "#tag expects +tag or -tag");
            for (std::size_t i = 1; i < w.size(); ++i) {
                std::string t = w[i];
                const bool remove = t[0] == '-';
                if (t[0] == '+' || t[0] == '-') t.erase(0, 1);
                t = parsers::ascii_lower(t);
                if (!valid_tag(t)) {
                    c.errors.push_back(where + "#tag: '" + w[i] + "' is not a tag (letters, digits, - _ . :)");
                    continue;
                }
                auto& mine = remove ? c.remove_tags : c.add_tags;
                auto& other = remove ? c.add_tags : c.remove_tags;
                if (std::find(other.begin(), other.end(), t) != other.end())
                    c.errors.push_back(where + "#tag: '" + t + "' is both added and removed");
                else if (std::find(mine.begin(), mine.end(), t) == mine.end())
                    mine.push_back(t);
            }
        } else if (name == "#assign") {
            if (arg.empty()) c.errors.push_back(where + "#assign expects an agent's name or address, or me");
            else once(c.assign, arg);
        } else if (name == "#queue") {
            if (arg.empty() || w.size() != 2) c.errors.push_back(where + "#queue expects one queue name");
            else once(c.queue, arg);
        } else {
            c.errors.push_back(where + "unknown command " + w[0] +
                               " (known: #note, #status, #priority, #tag, #assign, #queue)");
        }
        seen_command = true;
        pos = next;
        rest = pos;
    }
    if (c.lines.empty()) {
        c.text = std::string(text);
        return c;
    }
    c.text = std::string(text.substr(std::min(rest, text.size())));
    {
        // The blank lines that separated the commands from the answer go too.
        std::size_t i = 0;
        while (i < c.text.size() && (c.text[i] == '\n' || c.text[i] == '\r')) ++i;
        c.text.erase(0, i);
    }
    return c;
}

const config::Agent* find_agent(const config::Config& cfg, std::string_view address) {
    const std::string a = parsers::ascii_lower(address);
    for (const auto& agent : cfg.agents)
        if (agent.address == a) return &agent;
    return nullptr;
}

void resolve_agent_commands(AgentCommands& c, const config::Config& cfg, const config::Agent& writer) {
    if (c.assign) {
        const std::string who = parsers::ascii_lower(*c.assign);
        const config::Agent* found = who == "me" ? &writer : nullptr;
        for (const auto& a : cfg.agents)
            if (!found && (a.address == who || parsers::ascii_lower(a.name) == who)) found = &a;
        if (found) c.assign = found->address;
        else c.errors.push_back("#assign: no agent named '" + *c.assign + "'");
    }
    if (c.queue) {
        bool known = std::find(cfg.queues.begin(), cfg.queues.end(), *c.queue) != cfg.queues.end();
        for (const auto& a : cfg.agents)
            known = known || std::find(a.queues.begin(), a.queues.end(), *c.queue) != a.queues.end();
        if (!known) c.errors.push_back("#queue: no queue '" + *c.queue + "' in the config");
    }
}

}  // namespace ticketd::tickets
