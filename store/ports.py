"""Whether a port is free on the machine the models run on, asked the way llama-server will use it."""

from __future__ import annotations

import socket


class HostPorts:
    """Ports on this machine (the embedded runner's): a port is in use when a bind to it fails, as llama-server's
    own bind would (loopback, address reuse on, so a port left in TIME_WAIT by a stopped server counts as free)."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host

    def in_use(self, port: int) -> bool:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((self.host, port))
            except OSError:
                return True
        return False
