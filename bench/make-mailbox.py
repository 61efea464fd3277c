#!/usr/bin/env python3
"""Write N distinct messages of realistic size into a Maildir 'new' folder.

usage: make-mailbox.py OUT_DIR N [CORPUS_DIR]

With CORPUS_DIR (../shared/corpus), messages cycle through the real corpus files, each given a
fresh Message-ID (and a sequence number in the subject) so every one is a distinct message for
the desk. Without it, messages are generated: a mix of plain, HTML and attachment mail.
Deterministic: the same N gives the same bytes.
"""
import os, random, re, sys

def corpus_messages(root):
    out = []
    for d, _, files in os.walk(root):
        for f in sorted(files):
            p = os.path.join(d, f)
            if f.endswith(".json") or f.startswith("LICENSE") or f in ("README.md", "COPYING"):
                continue
            data = open(p, "rb").read()
            # Mail only: a header line first, no NUL bytes (mbox files and TNEF blobs are not).
            if (b"\n\n" not in data.replace(b"\r\n", b"\n") or len(data) > 2_000_000 or b"\0" in data
                    or not re.match(rb"[!-9;-~]+:", data) or data.startswith(b"From ")):
                continue
            out.append(data)
    return sorted(out)

def rewrite(data, i):
    nl = b"\r\n" if b"\r\n" in data[:2000] else b"\n"
    head, sep, body = data.partition(nl + nl)
    lines, keep, skip = head.split(nl), [], False
    for line in lines:
        if line[:1] in (b" ", b"\t") and skip:
            continue
        skip = line.lower().startswith((b"message-id:", b"in-reply-to:", b"references:"))
        if not skip:
            keep.append(line)
    keep.insert(0, b"Message-ID: <bench-%d@bench.example>" % i)
    return nl.join(keep) + sep + body

def generated(i, rnd):
    words = ["printer", "vpn", "password", "invoice", "laptop", "error", "please", "urgent",
             "server", "login", "mail", "thanks", "broken", "since", "monday", "update"]
    text = " ".join(rnd.choice(words) for _ in range(rnd.randint(40, 600)))
    kind = i % 3
    hdr = ("From: User %d <user%d@customer.example>\nTo: support@example.com\n"
           "Subject: Problem %d with %s\nDate: Mon, 16 Nov 2026 09:00:00 +0000\n"
           "Message-ID: <bench-%d@bench.example>\nMIME-Version: 1.0\n" % (i % 977, i % 977, i, rnd.choice(words), i))
    if kind == 0:
        return (hdr + "Content-Type: text/plain; charset=utf-8\n\n" + text + "\n").encode()
    if kind == 1:
        return (hdr + 'Content-Type: multipart/alternative; boundary="b"\n\n--b\nContent-Type: text/plain\n\n'
                + text + '\n--b\nContent-Type: text/html\n\n<p>' + text + '</p>\n--b--\n').encode()
    att = bytes(rnd.getrandbits(8) for _ in range(rnd.randint(2000, 20000)))
    import base64
    b64 = base64.encodebytes(att).decode()
    return (hdr + 'Content-Type: multipart/mixed; boundary="m"\n\n--m\nContent-Type: text/plain\n\n' + text
            + '\n--m\nContent-Type: application/octet-stream\nContent-Disposition: attachment; filename="log%d.bin"\n'
            'Content-Transfer-Encoding: base64\n\n' % i + b64 + '--m--\n').encode()

def main():
    out, n = sys.argv[1], int(sys.argv[2])
    corpus = sys.argv[3] if len(sys.argv) > 3 else None
    os.makedirs(out, exist_ok=True)
    rnd = random.Random(42)
    msgs = corpus_messages(corpus) if corpus and os.path.isdir(corpus) else []
    total = 0
    for i in range(n):
        data = rewrite(msgs[i % len(msgs)], i) if msgs else generated(i, rnd)
        total += len(data)
        with open(os.path.join(out, "%d.bench_%d.ticketd" % (1700000000 + i, i)), "wb") as f:
            f.write(data)
    print("%d messages, %.1f MB" % (n, total / 1e6))

main()
