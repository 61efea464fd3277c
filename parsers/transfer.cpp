#include "parsers/transfer.h"

#include <array>
#include <bit>
#include <cstdint>
#include <cstring>

namespace ticketd::parsers {

namespace {

constexpr std::array<std::int8_t, 256> make_b64_table() {
    std::array<std::int8_t, 256> t{};
    for (auto& v : t) v = -1;
    const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(alphabet[i])] = static_cast<std::int8_t>(i);
    return t;
}
constexpr auto kB64 = make_b64_table();

/// modp_b64's tables: the sextet of each alphabet byte already shifted to where it lands in the
/// three output bytes of its quantum (as a little-endian word), so that a quantum is four loads
/// OR'ed together; any other byte is kBadQuad, which makes the OR at least kBadQuad.
constexpr std::uint32_t kBadQuad = 0x01FFFFFF;
struct QuadTables {
    std::array<std::uint32_t, 256> d0, d1, d2, d3;
};
constexpr QuadTables make_quad_tables() {
    QuadTables t{};
    for (int c = 0; c < 256; ++c) {
        const int v = kB64[c];
        if (v < 0) {
            t.d0[c] = t.d1[c] = t.d2[c] = t.d3[c] = kBadQuad;
            continue;
        }
        const auto u = static_cast<std::uint32_t>(v);
        t.d0[c] = u << 2;                                  // byte 0, high six bits
        t.d1[c] = (u >> 4) | ((u & 0x0F) << 12);           // byte 0 low two, byte 1 high four
        t.d2[c] = ((u >> 2) << 8) | ((u & 0x03) << 22);    // byte 1 low four, byte 2 high two
        t.d3[c] = u << 16;                                 // byte 2, low six bits
    }
    return t;
}
constexpr QuadTables kQuad = make_quad_tables();

/// The three bytes of the quantum at `p` in the low three bytes of the result (byte 0 lowest),
/// or a value of at least kBadQuad when one of the four is not an alphabet byte.
inline std::uint32_t quad(const unsigned char* p) {
    return kQuad.d0[p[0]] | kQuad.d1[p[1]] | kQuad.d2[p[2]] | kQuad.d3[p[3]];
}

/// Writes the quantum's three bytes at `w`. On little-endian machines one four-byte store: the
/// fourth byte is overwritten by the next quantum or cut off by the final resize (the buffer
/// has room: see decode_base64).
inline void put_quad(char* w, std::uint32_t q) {
    if constexpr (std::endian::native == std::endian::little) {
        std::memcpy(w, &q, 4);
    } else {
        w[0] = static_cast<char>(q & 0xff);
        w[1] = static_cast<char>((q >> 8) & 0xff);
        w[2] = static_cast<char>((q >> 16) & 0xff);
    }
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

bool is_blank(char c) { return c == ' ' || c == '\t'; }

}  // namespace

Decoded decode_base64(std::string_view in) {
    Decoded out;
    // Written through a pointer into a buffer sized for the worst case, trimmed at the end:
    // push_back per byte was a visible share of parse time on large attachments. Each output
    // byte takes at least 8 bits of sextets, so the output is at most 3/4 of the input, at most
    // in.size() / 4 * 3 + 2 bytes: the + 3 leaves the byte put_quad writes past a quantum.
    out.data.resize(in.size() / 4 * 3 + 3);
    char* w = out.data.data();
    std::uint32_t acc = 0;
    int n = 0;
    const auto* p = reinterpret_cast<const unsigned char*>(in.data());
    const std::size_t size = in.size();
    for (std::size_t i = 0; i < size; ++i) {
        if (n == 0) {
            // Whole quanta of four alphabet bytes (nearly all of a body: 19 per 76-byte line)
            // go four at a time, two per turn when they can; the line end between two lines is
            // skipped here too (a blank between quanta changes nothing). Anything else
            // (padding, blanks inside a quantum, junk) goes byte by byte below.
            while (i + 4 <= size) {
                const std::uint32_t q = quad(p + i);
                if (q < kBadQuad) {
                    put_quad(w, q);
                    if (i + 8 <= size) {
                        const std::uint32_t q2 = quad(p + i + 4);
                        if (q2 < kBadQuad) {
                            put_quad(w + 3, q2);
                            w += 6;
                            i += 8;
                            continue;
                        }
                    }
                    w += 3;
                    i += 4;
                    continue;
                }
                if (p[i] == '\n') {
                    ++i;
                } else if (p[i] == '\r' && p[i + 1] == '\n') {
                    i += 2;
                } else {
                    break;
                }
            }
            if (i >= size) break;
        }
        const unsigned char c = p[i];
        const int v = kB64[c];
        if (v >= 0) {
            acc = (acc << 6) | static_cast<std::uint32_t>(v);
            if (++n == 4) {
                *w++ = static_cast<char>((acc >> 16) & 0xff);
                *w++ = static_cast<char>((acc >> 8) & 0xff);
                *w++ = static_cast<char>(acc & 0xff);
                acc = 0;
                n = 0;
            }
            continue;
        }
        if (c == '=') {
            // Padding flushes a partial quantum; decoding goes on after it, which recovers
            // concatenated base64 blocks written by broken mailers. A lone sextet (n == 1)
            // carries no full byte.
            if (n == 2) {
                *w++ = static_cast<char>((acc >> 4) & 0xff);
            } else if (n == 3) {
                *w++ = static_cast<char>((acc >> 10) & 0xff);
                *w++ = static_cast<char>((acc >> 2) & 0xff);
            }
            acc = 0;
            n = 0;
            continue;
        }
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v') continue;
        out.ok = false;
        break;
    }
    // An unpadded tail (n == 2 or 3) is dropped: a truncated or junk-ended body leaves a
    // fragment that is more likely noise than data, and other parsers agree on dropping it.
    out.data.resize(static_cast<std::size_t>(w - out.data.data()));
    return out;
}

std::string decode_qp(std::string_view in) {
    std::string out(in.size(), '\0');  // decoding never grows the text
    char* w = out.data();
    const std::size_t n = in.size();
    std::size_t i = 0;
    while (i < n) {
        // Copy the run up to the next '=' in one go.
        const void* eq = std::memchr(in.data() + i, '=', n - i);
        const std::size_t stop = eq ? static_cast<std::size_t>(static_cast<const char*>(eq) - in.data()) : n;
        std::memcpy(w, in.data() + i, stop - i);
        w += stop - i;
        i = stop;
        if (i >= n) break;
        // Soft line break: "=" then optional blanks then a line end (or the end of input).
        std::size_t j = i + 1;
        while (j < n && is_blank(in[j])) ++j;
        if (j >= n) break;
        if (in[j] == '\r' || in[j] == '\n') {
            if (in[j] == '\r' && j + 1 < n && in[j + 1] == '\n') ++j;
            i = j + 1;
            continue;
        }
        if (i + 2 < n) {
            const int hi = hex_value(in[i + 1]);
            const int lo = hex_value(in[i + 2]);
            if (hi >= 0 && lo >= 0) {
                *w++ = static_cast<char>(hi * 16 + lo);
                i += 3;
                continue;
            }
        }
        *w++ = '=';  // not an escape: kept literally
        ++i;
    }
    out.resize(static_cast<std::size_t>(w - out.data()));
    return out;
}

std::string decode_q(std::string_view in) {
    std::string out;
    out.reserve(in.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
        const char c = in[i];
        if (c == '_') {
            out.push_back(' ');
        } else if (c == '=' && i + 2 < in.size() &&
                   hex_value(in[i + 1]) >= 0 && hex_value(in[i + 2]) >= 0) {
            out.push_back(static_cast<char>(hex_value(in[i + 1]) * 16 + hex_value(in[i + 2])));
            i += 2;
        } else {
            out.push_back(c);
        }
    }
    return out;
}

Decoded decode_uuencode(std::string_view in, std::string* filename) {
    Decoded out;
    std::size_t pos = 0;
    bool begun = false;
    auto next_line = [&](std::string_view& line) {
        if (pos >= in.size()) return false;
        std::size_t e = in.find('\n', pos);
        if (e == std::string_view::npos) e = in.size();
        line = in.substr(pos, e - pos);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        pos = e + 1;
        return true;
    };
    std::string_view line;
    while (next_line(line)) {
        if (!begun) {
            if (line.substr(0, 6) == "begin ") {
                begun = true;
                if (filename) {
                    // "begin 644 name with spaces"
                    std::string_view rest = line.substr(6);
                    const auto sp = rest.find(' ');
                    *filename = sp == std::string_view::npos ? std::string() : std::string(rest.substr(sp + 1));
                }
            }
            continue;
        }
        if (line == "end" || line.substr(0, 3) == "end") break;
        if (line.empty()) continue;
        const int len = (static_cast<unsigned char>(line[0]) - 32) & 63;
        if (len == 0) continue;
        int produced = 0;
        for (std::size_t i = 1; produced < len; i += 4) {
            auto sextet = [&](std::size_t k) -> unsigned {
                return k < line.size() ? ((static_cast<unsigned char>(line[k]) - 32) & 63) : 0;
            };
            const unsigned a = sextet(i), b = sextet(i + 1), c = sextet(i + 2), d = sextet(i + 3);
            const unsigned char bytes[3] = {static_cast<unsigned char>((a << 2) | (b >> 4)),
                                            static_cast<unsigned char>((b << 4) | (c >> 2)),
                                            static_cast<unsigned char>((c << 6) | d)};
            for (int k = 0; k < 3 && produced < len; ++k, ++produced) out.data.push_back(static_cast<char>(bytes[k]));
            if (i > line.size() + 4) break;
        }
    }
    out.ok = begun;
    return out;
}

}  // namespace ticketd::parsers
