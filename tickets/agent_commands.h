#pragma once
// The commands an agent writes at the top of a reply (issue 5), and who counts as an agent.
// Pure: text and config in, values out; the pipeline applies what these return.
//
//   #note                      first line only: an internal note, never relayed
//   #status pending|resolved|closed
//   #priority low|normal|high|urgent
//   #tag +a -b c               add a and c, remove b
//   #assign NAME|me            an agent's name or address; me = the writer
//   #queue Q                   a queue the config knows
//
// Commands are the lines at the top of the text, before the first other line (blank lines
// between them are allowed). A line "#" followed by a letter is a command; "#123" or "# Title"
// is text. Anything after the first text line is left alone, so "#tag" in a quoted mail or in
// the middle of an answer does nothing.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"

namespace ticketd::tickets {

struct AgentCommands {
    bool note = false;
    std::optional<std::string> status, priority, assign, queue;  ///< assign: as written until resolved
    std::vector<std::string> add_tags, remove_tags;
    std::vector<std::string> lines;   ///< the command lines as written, for the trail
    std::vector<std::string> errors;  ///< "line 2: #stauts: unknown command ...": nothing may be applied
    std::string text;                 ///< the rest, commands and the blank lines after them removed
    bool any() const {
        return status || priority || assign || queue || !add_tags.empty() || !remove_tags.empty();
    }
};

/// Split the commands off the top of `text` and check their syntax.
AgentCommands parse_agent_commands(std::string_view text);

/// Check what needs the config: `#assign` names an agent (resolved to its address; `me` is
/// `writer`) and `#queue` a declared queue (or one an agent serves). Appends to `c.errors`.
void resolve_agent_commands(AgentCommands& c, const config::Config& cfg, const config::Agent& writer);

/// The configured agent with this address (case-insensitive), or nullptr.
const config::Agent* find_agent(const config::Config& cfg, std::string_view address);

}  // namespace ticketd::tickets
