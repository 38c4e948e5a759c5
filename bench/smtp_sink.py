"""A minimal SMTP sink on loopback (Python 3.12 has no ``smtpd``): it accepts every message and
keeps it in memory. Enough SMTP for Django's backend: greeting, EHLO/HELO, MAIL, RCPT, DATA,
RSET, NOOP, QUIT.

A message counts as delivered only once the sink has answered its DATA with 250, as a real
server's acceptance would. :meth:`SmtpSink.hold_next` makes the sink read the next message whole
and then hold its answer until the client goes away (the reliability tests kill the worker
there): that message is not delivered. :meth:`SmtpSink.refuse` answers RCPT for an address with
550, as a server refusing a mailbox would; :attr:`SmtpSink.sessions` counts connections."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message

# How long a held message waits for its client to go away before the sink gives up on it.
HOLD_LIMIT = 300


class SmtpSink:
    def __init__(self) -> None:
        self.port = 0
        self._received: list[bytes] = []
        self._lock = threading.Lock()
        self._hold = False
        self._refused: set[str] = set()
        self.sessions = 0
        self.holding = threading.Event()  # set while a held message waits for its answer

    def hold_next(self) -> None:
        """Hold the answer to the next message's DATA (see the module docstring)."""
        with self._lock:
            self._hold = True
        self.holding.clear()

    def refuse(self, *addresses: str) -> None:
        """Answer RCPT TO for these addresses with 550 (and accept them again after
        ``refuse()`` with none)."""
        with self._lock:
            self._refused = {address.lower() for address in addresses}

    def _refuses(self, line: bytes) -> bool:
        address = line.decode("ascii", "replace").partition(":")[2].strip().strip("<>").lower()
        with self._lock:
            return address in self._refused

    def _take_hold(self) -> bool:
        with self._lock:
            hold, self._hold = self._hold, False
        return hold

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async def say(line: str) -> None:
            writer.write(line.encode() + b"\r\n")
            await writer.drain()

        with self._lock:
            self.sessions += 1
        await say("220 bench-sink ESMTP")
        try:
            while True:
                line = await asyncio.wait_for(reader.readline(), timeout=30)
                if not line:
                    break
                verb = line[:4].decode("ascii", "replace").upper()
                if verb in ("EHLO", "HELO"):
                    await say("250 bench-sink")
                elif verb == "RCPT" and self._refuses(line):
                    await say("550 No such mailbox here")
                elif verb in ("MAIL", "RCPT", "RSET", "NOOP"):
                    await say("250 OK")
                elif verb == "DATA":
                    await say("354 End data with <CR><LF>.<CR><LF>")
                    lines = []
                    while True:
                        data = await asyncio.wait_for(reader.readline(), timeout=30)
                        if not data:  # the client went away mid-message: nothing delivered
                            return
                        if data == b".\r\n":
                            break
                        lines.append(data[1:] if data.startswith(b"..") else data)
                    if self._take_hold():
                        self.holding.set()
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(reader.read(), timeout=HOLD_LIMIT)
                        return  # never answered: not delivered
                    with self._lock:
                        self._received.append(b"".join(lines))
                    await say("250 OK queued")
                elif verb == "QUIT":
                    await say("221 Bye")
                    break
                else:
                    await say("502 Command not implemented")
        except (TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()

    def count(self) -> int:
        """How many messages were delivered (answered 250)."""
        with self._lock:
            return len(self._received)

    def messages(self) -> list[Message]:
        """The delivered messages, parsed, in the order they arrived."""
        with self._lock:
            received = list(self._received)
        return [message_from_bytes(raw) for raw in received]


@contextlib.contextmanager
def running_sink() -> Iterator[SmtpSink]:
    """Serve a sink on 127.0.0.1 (a free port) in a thread of its own; stop it on exit."""
    sink = SmtpSink()
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    holder: dict = {}

    async def serve() -> None:
        server = await asyncio.start_server(sink._session, "127.0.0.1", 0)
        sink.port = server.sockets[0].getsockname()[1]
        holder["server"] = server
        ready.set()

    def main() -> None:
        loop.run_until_complete(serve())
        loop.run_forever()

    thread = threading.Thread(target=main, name="smtp-sink", daemon=True)
    thread.start()
    if not ready.wait(10):
        raise RuntimeError("the SMTP sink did not start")
    try:
        yield sink
    finally:

        def stop() -> None:
            holder["server"].close()
            loop.stop()

        loop.call_soon_threadsafe(stop)
        thread.join(10)
