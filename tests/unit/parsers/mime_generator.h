#pragma once
// Random MIME structures for the parser's fast-path tests (prescan skipping body lines, mimetic
// reading a skeleton): bodies full of dashes, delimiters, stray boundaries, bare CRs and
// cut-off endings. Deterministic for a seed.

#include <cstdint>
#include <string>
#include <vector>

namespace ticketd::testing {

struct Rng {
    std::uint32_t x = 2463534242u;
    std::uint32_t next() {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        return x;
    }
    std::size_t below(std::size_t n) { return next() % n; }
    template <typename T>
    const T& pick(const std::vector<T>& v) {
        return v[below(v.size())];
    }
};

// A random MIME structure whose bodies hold every kind of line with dashes in it.
class Generator {
public:
    /// `rich`: also long bodies (base64, quoted-printable, 8-bit), odd blank lines between
    /// header and body, bodies starting with CR or LF, digests, encoded and fake messages.
    explicit Generator(std::uint32_t seed, bool rich = false) : rich_(rich) { rng_.x = seed * 2654435761u + 1; }

    std::string message() {
        std::string out = "From: a@example.com\r\nSubject: generated\r\n";
        entity(out, 0);
        // Cut the end off now and then: an unclosed multipart, a header without a body.
        if (rng_.below(4) == 0 && out.size() > 10) out.resize(out.size() - rng_.below(out.size() / 2));
        return out;
    }

private:
    std::string eol() { return rng_.below(5) == 0 ? "\n" : "\r\n"; }

    std::string boundary() {
        // Few names, so that boundaries repeat and prefix one another across levels.
        static const char* names[] = {"b", "b1", "bb", "x-y", "=_part", "--", "b--"};
        return names[rng_.below(sizeof names / sizeof *names)];
    }

    // Lines long enough for the body to be blanked out of mimetic's skeleton (mime.cpp).
    void rich_lines(std::string& out) {
        for (std::size_t n = 1 + rng_.below(6); n > 0; --n) {
            switch (rng_.below(7)) {
                case 0: out += "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0"; break;
                case 1: out += "caf=C3=A9 soft break at the end of this line, and an equals sign =3D ="; break;
                case 2: out += "8-bit text \xc3\xa9\xe9\xff and a NUL \0 inside a line of some length"; break;
                case 3: out += "\x01\x02ticketd-leaf:0\x02"; break;  // what mime.cpp writes as a marker
                case 4: out += std::string(40 + rng_.below(200), 'a' + static_cast<char>(rng_.below(26))); break;
                case 5: out += "\r"; break;
                default: out += "begin 644 file.txt\r\nM86)C9&5F9VAI:FML;6YO<'%R<W1U=G=X>7H*\r\n`\r\nend"; break;
            }
            out += eol();
        }
    }

    // The blank line ending a header block, in the spellings mimetic and the pre-scan may read
    // differently, and sometimes a body starting with a line end.
    std::string header_end() {
        if (!rich_) return eol();
        switch (rng_.below(10)) {
            case 0: return "\n\r\n";
            case 1: return "\r\r\n";
            case 2: return eol() + "\r";
            case 3: return eol() + "\n";
            case 4: return eol() + "\r\n";
            case 5: return "\n\r";
            default: return eol();
        }
    }

    // Rich only: more fields in a part's header (folded, long, with bare CRs, a marker, named
    // like the fields the walk reads).
    void extra_fields(std::string& out) {
        if (!rich_) return;
        for (std::size_t n = rng_.below(4); n > 0; --n) {
            switch (rng_.below(23)) {
                case 0: out += "Received: from a.example (a.example [192.0.2.1])" + eol() + "\tby b.example; Sun, 6 Dec 2026"; break;
                case 1: out += "X-Note: with a bare\rCR inside"; break;
                case 2: out += "MIME-Version: 1.0 (and a comment long enough for the field to be left out)"; break;
                case 3: out += "Content-Typo: text/html"; break;
                case 4: out += "X-Long:" + eol() + " " + eol() + "  folded twice"; break;
                case 5: out += "Content-Description: a part \x01\x02ticketd-leaf:1\x02"; break;
                case 6: out += "X-Cr-End: value\r\r"; break;
                case 7: out += "Subject: a part's subject"; break;
                case 8: out += std::string("X-Nul: a\0b, a NUL the pre-scan turns into a blank", 48); break;
                case 9: out += "X-Stray: a boundary in a header --" + (open_.empty() ? std::string("zz") : open_.back()); break;
                case 11: out += "CONTENT-type: text/x-second; charset=latin1"; break;  // a second one
                case 12: out += "Content-Type \t : text/x-blanks; name=\"a b\""; break;
                case 13: out += "Content-Type: application/x-folded;" + eol() + "\tname=\"f.bin\""; break;
                // Not in the plain form: mimetic's tokenizer reads these (in the skeleton too).
                case 14: out += "Content-Type: text/plain (a comment)"; break;
                case 15: out += "Content-Type: text/plain; x=\"a;b\""; break;
                case 16: out += "Content-Type:"; break;
                case 17: out += "Content-Type: text/plain ;charset=x"; break;
                // One field to the pre-scan, two to mimetic (a bare CR ends a line for it).
                case 18: out += "X-Cr: a\rContent-Type: message/rfc822"; break;
                case 10: out += "X-Dashes: " + std::string(rng_.below(40), 'a') + "-" + std::string(rng_.below(3), '-') + "x"; break;
                default:
                    out += "DKIM-Signature: v=1; a=rsa-sha256; d=example.com;" + eol() + "\tb=" +
                           std::string(20 + rng_.below(100), 'Q');
                    break;
            }
            out += eol();
        }
    }

    void body_lines(std::string& out, const std::vector<std::string>& open) {
        if (rich_ && rng_.below(3) == 0) rich_lines(out);
        const std::size_t n = rng_.below(8);
        for (std::size_t i = 0; i < n; ++i) {
            const std::string b = open.empty() ? "zz" : open[rng_.below(open.size())];
            switch (rng_.below(12)) {
                case 0: out += "plain words without any dash"; break;
                case 1: out += "-- "; break;
                case 2: out += "--"; break;
                case 3: out += "text with -- inside and --" + b + " after it"; break;  // stray boundary
                case 4: out += "--" + b + "x"; break;                                  // a delimiter prefix
                case 5: out += "-"; break;
                case 6: out += "a-b-c-"; break;
                case 7: out += "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo="; break;
                case 8: out += "--" + b + "--"; break;                                 // a closing delimiter
                case 9: out += std::string(rng_.below(300), '-'); break;
                case 10: out += "\r"; break;
                default: {
                    for (std::size_t k = rng_.below(60); k > 0; --k) {
                        const char c = "ab-\r: \t=\x80"[rng_.below(9)];
                        out.push_back(c);
                    }
                }
            }
            out += eol();
        }
    }

    void entity(std::string& out, int depth) {
        const std::size_t kind = depth > 4 ? 0 : rng_.below(rich_ ? 6 : 4);
        if (kind == 4) {  // rich only: a digest, whose parts default to message/rfc822
            const std::string b = boundary();
            out += "Content-Type: multipart/digest; boundary=" + b + eol() + eol();
            open_.push_back(b);
            for (std::size_t parts = 1 + rng_.below(3); parts > 0; --parts) {
                out += "--" + b + eol();
                if (rng_.below(2)) {
                    out += eol() + "Subject: in a digest" + eol();
                    entity(out, depth + 1);
                } else {
                    entity(out, depth + 1);  // with or without a Content-Type
                }
            }
            if (rng_.below(4) != 0) out += "--" + b + "--" + eol();
            open_.pop_back();
            return;
        }
        if (kind == 5) {  // rich only: a message that is not one, or an encoded one
            out += "Content-Type: message/rfc822" + eol();
            if (rng_.below(2)) {
                out += "Content-Transfer-Encoding: base64" + eol() + header_end();
                out += "U3ViamVjdDogZW5jb2RlZA0KDQpoZWxsbyB0aGVyZSwgdGhpcyBpcyBhbiBlbmNvZGVkIG1lc3NhZ2UNCg==" + eol();
            } else {
                out += header_end() + "no header field on this first line of the attached message" + eol();
                body_lines(out, open_);
            }
            return;
        }
        if (kind == 1) {  // multipart
            const std::string b = boundary();
            out += "Content-Type: multipart/mixed; boundary=\"" + b + "\"" + eol();
            extra_fields(out);
            out += header_end();
            open_.push_back(b);
            body_lines(out, open_);  // preamble
            for (std::size_t parts = 1 + rng_.below(3); parts > 0; --parts) {
                out += "--" + b + eol();
                if (rng_.below(6) == 0) continue;  // a delimiter straight after a delimiter
                entity(out, depth + 1);
            }
            if (rng_.below(5) != 0) out += "--" + b + "--" + eol();
            open_.pop_back();
            body_lines(out, open_);  // epilogue
        } else if (kind == 2) {  // message/rfc822
            out += "Content-Type: message/rfc822" + eol();
            if (rng_.below(4) == 0) out += "Content-Transfer-Encoding: base64" + eol();
            extra_fields(out);
            out += eol() + "Subject: inner" + eol();
            extra_fields(out);
            entity(out, depth + 1);
        } else {
            if (rng_.below(2)) out += "Content-Type: text/plain" + eol();
            if (rich_) {
                switch (rng_.below(5)) {
                    case 0: out += "Content-Transfer-Encoding: base64" + eol(); break;
                    case 1: out += "Content-Transfer-Encoding: quoted-printable" + eol(); break;
                    case 2: out += "Content-Transfer-Encoding: x-uuencode" + eol(); break;
                    default: break;
                }
            }
            extra_fields(out);
            if (rng_.below(8) == 0) out += "--" + boundary() + eol();  // a delimiter among the fields
            extra_fields(out);
            out += header_end();
            body_lines(out, open_);
        }
    }

    Rng rng_;
    bool rich_ = false;
    std::vector<std::string> open_;
};

}  // namespace ticketd::testing
