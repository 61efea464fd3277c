#!/usr/bin/env python3
"""Peer for bench_parse: Python's email (policy=default) over the same files, bodies and parts
decoded. Prints one JSON line: {"messages": N, "bytes": B, "seconds": S, "cpu_seconds": C, "errors": E,
"round_cpu_seconds": [per round]} (seconds: wall clock; cpu_seconds: this process's CPU time,
steadier on a loaded machine; the per-round CPU times give bench_parse its median round).

usage: py_email_parse.py [--rounds R] FILE_LIST   (one path per line)
"""
import email
import email.policy
import json
import sys
import time


def main(argv):
    rounds = 1
    if len(argv) >= 2 and argv[0] == "--rounds":
        rounds = int(argv[1])
        argv = argv[2:]
    paths = [p.strip() for p in open(argv[0], encoding="utf-8") if p.strip()]
    blobs = [open(p, "rb").read() for p in paths]
    errors = 0
    t0 = time.perf_counter()
    c0 = time.process_time()
    round_cpu = []
    for _ in range(rounds):
        r0 = time.process_time()
        for raw in blobs:
            try:
                msg = email.message_from_bytes(raw, policy=email.policy.default)
                _ = msg["subject"], msg["from"], msg["to"], msg["cc"], msg["message-id"]
                for part in msg.walk():
                    if part.is_multipart():
                        continue
                    try:
                        part.get_content()  # transfer decoding + charset for text parts
                    except Exception:
                        part.get_payload(decode=True)
            except Exception:
                errors += 1
        round_cpu.append(time.process_time() - r0)
    seconds = time.perf_counter() - t0
    cpu_seconds = time.process_time() - c0
    print(json.dumps({"messages": len(blobs) * rounds, "bytes": sum(map(len, blobs)) * rounds,
                      "seconds": seconds, "cpu_seconds": cpu_seconds, "errors": errors,
                      "round_cpu_seconds": round_cpu}))


if __name__ == "__main__":
    main(sys.argv[1:])
