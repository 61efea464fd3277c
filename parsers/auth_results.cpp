#include "parsers/auth_results.h"

#include <set>

#include "parsers/textutil.h"

namespace ticketd::parsers {

namespace {

using text::lower;

// RFC 8601's grammar reduced to what a consumer needs: words, quoted strings, '=', '/', ';'.
// Comments (nested parentheses) are CFWS and vanish; so does whitespace, except as a separator.
struct Token {
    enum Kind { word, quoted, equals, slash, semicolon } kind;
    std::string text;
};

std::optional<std::vector<Token>> lex(std::string_view s) {
    std::vector<Token> out;
    std::size_t i = 0;
    while (i < s.size()) {
        const char c = s[i];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            ++i;
        } else if (c == '(') {
            int depth = 0;
            for (; i < s.size(); ++i) {
                if (s[i] == '\\') ++i;
                else if (s[i] == '(') ++depth;
                else if (s[i] == ')' && --depth == 0) break;
            }
            if (i >= s.size()) return std::nullopt;  // unclosed comment
            ++i;
        } else if (c == ')') {
            // A ')' without its '(' is malformed; the word branch below would stop on it without
            // moving and loop for ever, growing `out` (found by fuzz/fuzz_auth_results).
            return std::nullopt;
        } else if (c == '"') {
            std::string q;
            ++i;
            for (; i < s.size() && s[i] != '"'; ++i) {
                if (s[i] == '\\' && i + 1 < s.size()) ++i;
                q += s[i];
            }
            if (i >= s.size()) return std::nullopt;  // unclosed quote
            ++i;
            out.push_back({Token::quoted, std::move(q)});
        } else if (c == '=') {
            out.push_back({Token::equals, "="}), ++i;
        } else if (c == '/') {
            out.push_back({Token::slash, "/"}), ++i;
        } else if (c == ';') {
            out.push_back({Token::semicolon, ";"}), ++i;
        } else {
            std::string w;
            while (i < s.size() && std::string_view(" \t\r\n()\"=/;").find(s[i]) == std::string_view::npos)
                w += s[i++];
            out.push_back({Token::word, std::move(w)});
        }
    }
    return out;
}

std::string domain_of(std::string_view v) {
    auto at = v.rfind('@');
    std::string d(at == std::string_view::npos ? v : v.substr(at + 1));
    while (!d.empty() && d.back() == '.') d.pop_back();
    return lower(d);
}

}  // namespace

std::string AuthResult::property(std::string_view key) const {
    for (const auto& [k, v] : properties)
        if (text::iequals(k, key)) return v;
    return "";
}

std::optional<AuthResults> parse_authentication_results(std::string_view value) {
    auto tokens = lex(value);
    if (!tokens || tokens->empty()) return std::nullopt;
    const auto& t = *tokens;
    std::size_t i = 0;
    auto is = [&](Token::Kind k) { return i < t.size() && t[i].kind == k; };
    auto value_token = [&]() { return is(Token::word) || is(Token::quoted); };

    AuthResults out;
    if (!value_token()) return std::nullopt;
    out.authserv_id = lower(t[i++].text);
    if (out.authserv_id.empty()) return std::nullopt;
    if (is(Token::word)) ++i;  // the optional version after the authserv-id
    if (i >= t.size()) return out;  // RFC 8601 allows nothing after the id only as "; none"
    while (i < t.size()) {
        if (!is(Token::semicolon)) return std::nullopt;
        ++i;
        if (i >= t.size()) break;  // a trailing ';' is common and harmless
        if (!is(Token::word)) return std::nullopt;
        AuthResult r;
        r.method = lower(t[i++].text);
        if (r.method == "none" && (i >= t.size() || is(Token::semicolon))) continue;
        if (is(Token::slash)) {  // method/version
            ++i;
            if (!is(Token::word)) return std::nullopt;
            ++i;
        }
        if (!is(Token::equals)) return std::nullopt;
        ++i;
        if (!is(Token::word)) return std::nullopt;
        r.result = lower(t[i++].text);
        // reason= and ptype.property=value pairs up to the next ';'.
        while (i < t.size() && !is(Token::semicolon)) {
            if (!is(Token::word)) return std::nullopt;
            const std::string key = lower(t[i++].text);
            if (!is(Token::equals)) return std::nullopt;
            ++i;
            // A pvalue may be empty ("smtp.mailfrom=" for a null sender) or "local@domain",
            // which the lexer leaves whole; '/' appears in some vendors' values.
            std::string v;
            if (value_token()) {
                v = t[i++].text;
                while (is(Token::slash) && i + 1 < t.size() &&
                       (t[i + 1].kind == Token::word || t[i + 1].kind == Token::quoted)) {
                    v += "/" + t[i + 1].text;
                    i += 2;
                }
            }
            if (key == "reason") r.reason = v;
            else r.properties.emplace_back(key, v);
        }
        out.results.push_back(std::move(r));
    }
    return out;
}

std::vector<AuthResults> trusted_authentication_results(const std::vector<Header>& headers,
                                                        const std::vector<std::string>& trusted_ids) {
    std::set<std::string> trusted;
    for (const auto& id : trusted_ids) trusted.insert(lower(id));
    std::vector<AuthResults> out;
    std::set<std::string> seen;
    for (const auto& h : headers) {
        if (!text::iequals(h.name, "Authentication-Results")) continue;
        auto ar = parse_authentication_results(h.value);
        if (!ar || !trusted.count(ar->authserv_id)) break;
        if (!seen.insert(ar->authserv_id).second) continue;
        out.push_back(std::move(*ar));
    }
    return out;
}

bool domains_aligned(std::string_view signing_in, std::string_view from_in) {
    const std::string signing = domain_of(signing_in), from = domain_of(from_in);
    if (signing.empty() || from.empty()) return false;
    if (signing == from) return true;
    return signing.find('.') != std::string::npos && from.size() > signing.size() &&
           from.compare(from.size() - signing.size(), signing.size(), signing) == 0 &&
           from[from.size() - signing.size() - 1] == '.';
}

std::optional<std::string> sender_domain_forged(const std::vector<Header>& headers, std::string_view from_domain,
                                                const std::vector<std::string>& trusted_ids) {
    if (trusted_ids.empty()) return std::nullopt;
    const std::string from = domain_of(from_domain);
    if (from.empty()) return std::nullopt;
    std::optional<std::string> spf_fail;
    for (const auto& ar : trusted_authentication_results(headers, trusted_ids)) {
        for (const auto& r : ar.results) {
            if (r.method == "dmarc" && r.result == "fail") {
                const std::string hf = domain_of(r.property("header.from"));
                if (hf.empty() || hf == from) return ar.authserv_id + ": dmarc=fail header.from=" + from;
            } else if (r.method == "dkim" && r.result == "pass") {
                std::string d = r.property("header.d");
                if (d.empty()) d = domain_of(r.property("header.i"));
                if (domains_aligned(d, from)) return std::nullopt;  // the domain signed it
            } else if (r.method == "spf" && r.result == "fail") {
                const std::string mf = r.property("smtp.mailfrom");
                if (domains_aligned(domain_of(mf), from))
                    spf_fail = ar.authserv_id + ": spf=fail smtp.mailfrom=" + mf;
            }
        }
    }
    return spf_fail;
}

SenderVerdict verify_sender_domain(const std::vector<Header>& headers, std::string_view from_domain,
                                   const std::vector<std::string>& trusted_ids) {
    SenderVerdict v;
    if (trusted_ids.empty()) {
        v.evidence = "no trusted_authserv_ids configured";
        return v;
    }
    const std::string from = domain_of(from_domain);
    if (from.empty()) {
        v.evidence = "no sender domain";
        return v;
    }
    const auto trusted = trusted_authentication_results(headers, trusted_ids);
    if (trusted.empty()) {
        v.evidence = "no Authentication-Results from a trusted server (trusted_authserv_ids) at the top of the header";
        return v;
    }
    std::string seen;
    for (const auto& ar : trusted) {
        for (const auto& r : ar.results) {
            if (r.method == "dkim") {
                std::string d = r.property("header.d");
                if (d.empty()) d = domain_of(r.property("header.i"));
                if (r.result == "pass" && domains_aligned(d, from)) {
                    v.verified = true;
                    v.evidence = ar.authserv_id + ": dkim=pass header.d=" + d + " (aligned with " + from + ")";
                    return v;
                }
                seen += (seen.empty() ? "" : ", ") + ("dkim=" + r.result + " header.d=" + d);
            } else if (r.method == "spf") {
                const std::string mf = r.property("smtp.mailfrom");
                if (r.result == "pass" && domains_aligned(domain_of(mf), from)) {
                    v.verified = true;
                    v.evidence = ar.authserv_id + ": spf=pass smtp.mailfrom=" + mf + " (aligned with " + from + ")";
                    return v;
                }
                seen += (seen.empty() ? "" : ", ") + ("spf=" + r.result + " smtp.mailfrom=" + mf);
            }
        }
    }
    v.evidence = "no DKIM or SPF pass aligned with " + from + " from a trusted server" +
                 (seen.empty() ? std::string() : " (saw " + seen + ")");
    return v;
}

}  // namespace ticketd::parsers
