"""Strangers cannot starve a runner: each connection has a deadline, and those without the token are capped.

aiohttp's keep-alive timer starts when a connection opens and again after each answer, and closes the
connection if no complete request has arrived by then: one timer is the deadline for a silent socket,
for headers sent slowly or never finished, and for an idle keep-alive connection (IDLE_TIMEOUT_S).
What no timer bounds is how many such connections are open at once. Each holds a file descriptor,
and once the runner runs out, its sampler and its own clients fail with it. So at most
STRANGERS_MAX connections may be open that have not passed the token check; a new one beyond that
pushes out the oldest stranger (a client about to send its token is the newest, not the oldest).
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterable

from aiohttp import web

IDLE_TIMEOUT_S = 5.0  # no complete request on a connection for this long: it is closed
LINGER_S = 1.0  # a refused request's unread body is read (and dropped) this long before closing
STRANGERS_MAX = 64


class ConnectionGuard:
    """Which connections have shown the token; makes room among the others when a new one comes."""

    def __init__(self, strangers_max: int = STRANGERS_MAX) -> None:
        self.strangers_max = strangers_max
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


class GuardedSite(web.BaseSite):
    """An aiohttp site on a bound socket whose every new connection first asks the guard for room."""

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
            return server()

        self._server = await asyncio.get_running_loop().create_server(accept, sock=self._sock,
                                                                       backlog=self._backlog)
