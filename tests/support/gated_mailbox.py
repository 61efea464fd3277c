"""An aiosmtpd handler for tests: a Maildir sink that holds its answer to each mail's data.

A relay with content filters can take seconds to answer the end of a mail's data; this one waits
until the test opens the gate (creates GATE_DIR/open). Each mail it holds leaves a file
GATE_DIR/held-N, so the test knows the client is waiting for that answer.

    python3 -m aiosmtpd -n -l 127.0.0.1:PORT -c gated_mailbox.GatedMailbox MAILDIR GATE_DIR
(with this folder on PYTHONPATH).
"""
import asyncio
import itertools
import os

from aiosmtpd.handlers import Mailbox


class GatedMailbox(Mailbox):
    def __init__(self, mail_dir, gate_dir):
        super().__init__(mail_dir)
        self.gate_dir = gate_dir
        self.count = itertools.count(1)

    async def handle_DATA(self, server, session, envelope):
        with open(os.path.join(self.gate_dir, "held-%d" % next(self.count)), "w"):
            pass
        while not os.path.exists(os.path.join(self.gate_dir, "open")):
            await asyncio.sleep(0.05)
        return await super().handle_DATA(server, session, envelope)

    @classmethod
    def from_cli(cls, parser, *args):
        if len(args) != 2:
            parser.error("GatedMailbox takes MAILDIR GATE_DIR")
        return cls(args[0], args[1])
