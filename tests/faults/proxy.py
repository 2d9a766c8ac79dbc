"""A TCP proxy a test can cut: the database (or anything) really unreachable, then back.

Cut closes the listening sockets and every open connection, so clients get a refused or
reset connection at once, as when PostgreSQL's host is down or restarting; restore listens
again on the same port. Used by the database-outage fault test and the two-host test.
"""
from __future__ import annotations

import asyncio
import threading

from tests.support import free_port


class Proxy:
    """Forwards TCP from ``addresses``:``port`` to ``target`` until cut."""

    def __init__(self, addresses: list[str], target: tuple[str, int]) -> None:
        self.addresses, self.target, self.port = addresses, target, free_port()
        self.loop = asyncio.new_event_loop()
        self._servers: list[asyncio.AbstractServer] = []
        self._writers: set[asyncio.StreamWriter] = set()
        threading.Thread(target=self.loop.run_forever, daemon=True).start()
        self.restore()

    def _call(self, coro) -> None:
        asyncio.run_coroutine_threadsafe(coro, self.loop).result(10)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self._writers |= {writer, up_writer}
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
        self._writers -= {writer, up_writer}

    async def _listen(self) -> None:
        if self._servers:  # listening already
            return
        for address in self.addresses:
            self._servers.append(await asyncio.start_server(self._handle, address, self.port))

    async def _cut(self) -> None:
        for server in self._servers:
            server.close()
        self._servers.clear()
        for writer in list(self._writers):
            writer.transport.abort()  # a reset, not a polite close: the peer is gone
        self._writers.clear()

    def cut(self) -> None:
        """Refuse new connections and reset the open ones."""
        self._call(self._cut())

    def restore(self) -> None:
        """Listen again on the same port."""
        self._call(self._listen())

    def close(self) -> None:
        self.cut()
        self.loop.call_soon_threadsafe(self.loop.stop)
