#!/usr/bin/python3
"""The peer of bench_outbox: Python's smtplib sending the same mails over one connection.

usage: py_smtplib_send.py HOST PORT FILE
FILE holds the messages as records: "<length>\n<bytes>" (envelope sender and recipient first,
one line each, then the raw message). Prints "sent N seconds S cpu C" on stdout (C: this
process's CPU time while sending).
"""
import smtplib
import sys
import time


def records(path):
    with open(path, "rb") as f:
        data = f.read()
    pos = 0
    while pos < len(data):
        nl = data.index(b"\n", pos)
        n = int(data[pos:nl])
        rec = data[nl + 1:nl + 1 + n]
        pos = nl + 1 + n
        mail_from, rcpt, raw = rec.split(b"\n", 2)
        yield mail_from.decode(), rcpt.decode(), raw


def main():
    host, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    mails = list(records(path))
    start = time.perf_counter()
    cpu = time.process_time()
    with smtplib.SMTP(host, port, local_hostname="client.example") as s:
        for mail_from, rcpt, raw in mails:
            s.sendmail(mail_from, [rcpt], raw)
    elapsed = time.perf_counter() - start
    print("sent %d seconds %.6f cpu %.6f" % (len(mails), elapsed, time.process_time() - cpu))


if __name__ == "__main__":
    main()
