#pragma once
// Mail templates (mustache, through kainjow's header-only library): loading a templates
// directory into the config snapshot, and rendering one template over a context. Pure apart from
// reading the directory; a broken template is a config error at load, never a surprise at send.

#include <map>
#include <string>
#include <vector>

#include "config/config.h"

namespace ticketd::config {

/// Variables for a template, by dotted name: {"ticket.number", "1042"}, {"desk.name", "ACME"}.
/// `{{ticket.number}}` in a template reads the first; a missing name renders as nothing.
using TemplateContext = std::map<std::string, std::string>;

struct RenderedMail {
    std::string subject;  ///< one line: any CR/LF the context brought in is turned into spaces
    std::string text;
    std::string html;     ///< "" when the template has no HTML part
};

/// Render `t` over `context`. Text parts are not escaped; the HTML part HTML-escapes `{{x}}`
/// (use `{{{x}}}` only for trusted values). Never throws for a template that passed load.
RenderedMail render(const MailTemplate& t, const TemplateContext& context);

/// Load every `NAME.txt` (and its optional `NAME.html`) in `dir`. Problems are appended to
/// `errors` with the file name and, for syntax errors, the line and column in that file.
std::map<std::string, MailTemplate> load_templates(const std::string& dir,
                                                   std::vector<ConfigError>& errors);

/// Parse one template's text file: "Subject: ...", blank line, body. Errors point into `file`.
bool parse_template_text(const std::string& file, const std::string& content, MailTemplate& out,
                         std::vector<ConfigError>& errors);

}  // namespace ticketd::config
