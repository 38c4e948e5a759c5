"""A minimal SMTP sink on loopback (Python 3.12 has no ``smtpd``): it accepts every message,
counts it and throws it away. Enough SMTP for Django's backend: greeting, EHLO/HELO, MAIL, RCPT,
DATA, RSET, NOOP, QUIT."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator


class SmtpSink:
    def __init__(self) -> None:
        self.port = 0
        self.messages = 0
        self._lock = threading.Lock()

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async def say(line: str) -> None:
            writer.write(line.encode() + b"\r\n")
            await writer.drain()

        await say("220 bench-sink ESMTP")
        try:
            while True:
                line = await asyncio.wait_for(reader.readline(), timeout=30)
                if not line:
                    break
                verb = line[:4].decode("ascii", "replace").upper()
                if verb in ("EHLO", "HELO"):
                    await say("250 bench-sink")
                elif verb in ("MAIL", "RCPT", "RSET", "NOOP"):
                    await say("250 OK")
                elif verb == "DATA":
                    await say("354 End data with <CR><LF>.<CR><LF>")
                    while True:
                        data = await asyncio.wait_for(reader.readline(), timeout=30)
                        if not data or data == b".\r\n":
                            break
                    with self._lock:
                        self.messages += 1
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
        with self._lock:
            return self.messages


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
