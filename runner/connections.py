"""Strangers cannot starve a runner: a connection must show the token within seconds, and few may wait.

A stranger is a connection on which no request has passed the token check yet. One that is silent,
sends its headers slowly or never finishes them is closed STRANGER_DEADLINE_S after it opened (a
refused token closes the connection at once, see server.py). Each open connection holds a file
descriptor, and once the runner runs out, its sampler and its own clients fail with it, so at most
STRANGERS_MAX strangers are held: a new connection beyond that pushes out the oldest stranger (a
client about to send its token is the newest, not the oldest).

Connections that showed the token are closed when idle for TRUSTED_IDLE_S (aiohttp's keep-alive
timer): longer than a client's pool keeps an idle connection (aiohttp's: 15 s), so the client always
lets go first and never sends a command into a connection the runner is closing.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterable

from aiohttp import web

STRANGER_DEADLINE_S = 5.0
STRANGERS_MAX = 64
TRUSTED_IDLE_S = 60.0
LINGER_S = 1.0  # a refused request's unread body is read (and dropped) this long before closing


class ConnectionGuard:
    """Which connections have shown the token; closes the strangers that wait too long or are too many."""

    def __init__(self, strangers_max: int = STRANGERS_MAX, deadline_s: float = STRANGER_DEADLINE_S) -> None:
        self.strangers_max = strangers_max
        self.deadline_s = deadline_s
        self._trusted: set[web.RequestHandler] = set()  # (aiohttp's handlers cannot be weakly referenced)

    def trust(self, connection: web.RequestHandler) -> None:
        self._trusted.add(connection)

    def make_room(self, connections: Iterable[web.RequestHandler]) -> None:
        """Close the oldest strangers so that a new connection makes at most `strangers_max` of them."""
        connections = list(connections)
        self._trusted.intersection_update(connections)  # forget the closed ones
        strangers = [connection for connection in connections if connection not in self._trusted]
        for connection in strangers[:max(0, len(strangers) - self.strangers_max + 1)]:
            connection.force_close()

    def watch(self, connection: web.RequestHandler) -> None:
        """Close `connection` at the deadline unless it has shown the token by then."""
        asyncio.get_running_loop().call_later(self.deadline_s, self._expire, connection)

    def _expire(self, connection: web.RequestHandler) -> None:
        if connection not in self._trusted:
            connection.force_close()  # nothing happens if it closed already


class GuardedSite(web.BaseSite):
    """An aiohttp site on a bound socket whose every new connection is held to the guard's rules."""

    def __init__(self, runner: web.AppRunner, sock: socket.socket, guard: ConnectionGuard) -> None:
        super().__init__(runner)
        self._sock = sock
        self._guard = guard

    @property
    def name(self) -> str:
        host, port = self._sock.getsockname()[:2]
        return f"http://{host}:{port}"

    async def start(self) -> None:
        await super().start()
        server = self._runner.server
        assert server is not None

        def accept() -> web.RequestHandler:
            self._guard.make_room(server.connections)  # in the order they came: oldest first
            connection = server()
            self._guard.watch(connection)
            return connection

        self._server = await asyncio.get_running_loop().create_server(accept, sock=self._sock,
                                                                       backlog=self._backlog)
