#include "config/templates.h"

#include "config/values.h"

#include <kainjow/mustache.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace ticketd::config {

namespace mus = kainjow::mustache;
namespace fs = std::filesystem;

namespace {

/// 1-based line and column of byte `offset` in `text`.
std::pair<int, int> position(const std::string& text, std::size_t offset) {
    offset = std::min(offset, text.size());
    int line = 1, col = 1;
    for (std::size_t i = 0; i < offset; ++i) {
        if (text[i] == '\n') ++line, col = 1;
        else ++col;
    }
    return {line, col};
}

/// kainjow reports "Unclosed section "x" at 12" with a byte offset; point at it in the file.
void check_syntax(const std::string& file, const std::string& source, int first_line,
                  std::vector<ConfigError>& errors) {
    mus::mustache m(source);
    if (m.is_valid()) return;
    std::string msg = m.error_message();
    int line = first_line, col = 1;
    if (auto at = msg.rfind(" at "); at != std::string::npos) {
        try {
            auto [l, c] = position(source, std::stoul(msg.substr(at + 4)));
            line = first_line + l - 1, col = c;
        } catch (const std::exception&) {
        }
    }
    errors.push_back({file, line, col, "template syntax: " + msg});
}

std::string read_all(const fs::path& p, bool& ok) {
    auto text = read_whole_file(p.string());
    ok = text.has_value();
    return text ? std::move(*text) : std::string();
}

/// Dotted names become nested objects, so `{{ticket.number}}` and `{{#ticket}}...{{/ticket}}`
/// both work the mustache way. `context` is sorted, so each prefix is one contiguous range.
mus::data to_data(TemplateContext::const_iterator begin, TemplateContext::const_iterator end,
                  std::size_t skip) {
    mus::data obj{mus::data::type::object};
    for (auto it = begin; it != end;) {
        const std::string rest = it->first.substr(skip);
        auto dot = rest.find('.');
        if (dot == std::string::npos) {
            obj.set(rest, mus::data{it->second});
            ++it;
            continue;
        }
        const std::string prefix = it->first.substr(0, skip + dot + 1);
        auto last = it;
        while (last != end && last->first.compare(0, prefix.size(), prefix) == 0) ++last;
        obj.set(rest.substr(0, dot), to_data(it, last, prefix.size()));
        it = last;
    }
    return obj;
}

std::string render_one(const std::string& source, const mus::data& data, bool html) {
    mus::mustache m(source);
    if (!html) m.set_custom_escape([](const std::string& s) { return s; });
    return m.render(data);
}

}  // namespace

bool parse_template_text(const std::string& file, const std::string& content, MailTemplate& out,
                         std::vector<ConfigError>& errors) {
    std::string text = content;
    text.erase(std::remove(text.begin(), text.end(), '\r'), text.end());
    auto eol = text.find('\n');
    std::string first = text.substr(0, eol);
    static const std::string kSubject = "Subject:";
    if (first.size() < kSubject.size() ||
        !std::equal(kSubject.begin(), kSubject.end(), first.begin(),
                    [](char a, char b) { return std::tolower((unsigned char)a) == std::tolower((unsigned char)b); })) {
        errors.push_back({file, 1, 1, "a template starts with a 'Subject:' line, then a blank line, then the text"});
        return false;
    }
    std::string subject = first.substr(kSubject.size());
    subject.erase(0, subject.find_first_not_of(" \t") == std::string::npos ? subject.size()
                                                                             : subject.find_first_not_of(" \t"));
    std::string body;
    if (eol != std::string::npos) {
        auto second_end = text.find('\n', eol + 1);
        std::string second = text.substr(eol + 1, second_end == std::string::npos ? std::string::npos
                                                                                  : second_end - eol - 1);
        if (!second.empty()) {
            errors.push_back({file, 2, 1, "expected a blank line after the Subject: line"});
            return false;
        }
        if (second_end != std::string::npos) body = text.substr(second_end + 1);
    }
    std::size_t before = errors.size();
    check_syntax(file, subject, 1, errors);
    check_syntax(file, body, 3, errors);
    out.text_file = file;
    out.subject = subject;
    out.text = body;
    return errors.size() == before;
}

std::map<std::string, MailTemplate> load_templates(const std::string& dir,
                                                   std::vector<ConfigError>& errors) {
    std::map<std::string, MailTemplate> out;
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) {
        errors.push_back({dir, 0, 0, "the templates directory does not exist or cannot be read"});
        return out;
    }
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(dir, ec))
        if (e.is_regular_file() && e.path().extension() == ".txt") files.push_back(e.path());
    if (ec) errors.push_back({dir, 0, 0, "cannot list the templates directory: " + ec.message()});
    std::sort(files.begin(), files.end());
    for (const auto& p : files) {
        bool ok = false;
        std::string content = read_all(p, ok);
        if (!ok) {
            errors.push_back({p.string(), 0, 0, "cannot read the template"});
            continue;
        }
        MailTemplate t;
        t.name = p.stem().string();
        if (!parse_template_text(p.string(), content, t, errors)) continue;
        fs::path html = p;
        html.replace_extension(".html");
        if (fs::exists(html, ec)) {
            std::string h = read_all(html, ok);
            if (!ok) {
                errors.push_back({html.string(), 0, 0, "cannot read the template"});
                continue;
            }
            std::size_t before = errors.size();
            check_syntax(html.string(), h, 1, errors);
            if (errors.size() != before) continue;
            t.html_file = html.string();
            t.html = std::move(h);
        }
        out.emplace(t.name, std::move(t));
    }
    return out;
}

RenderedMail render(const MailTemplate& t, const TemplateContext& context) {
    const mus::data data = to_data(context.begin(), context.end(), 0);
    RenderedMail r;
    r.subject = render_one(t.subject, data, false);
    // A subject is one line whatever a requester's name or subject brought in.
    for (char& c : r.subject)
        if (c == '\r' || c == '\n' || c == '\0') c = ' ';
    r.text = render_one(t.text, data, false);
    if (!t.html.empty()) r.html = render_one(t.html, data, true);
    return r;
}

}  // namespace ticketd::config
