"""The first start on the LAN: a one-time setup token, printed with the LAN URL and a QR code for phones.

While no account exists, each start prints a fresh token; whoever opens the printed link (or types
the token on /setup) creates the first admin account, which uses the token up. Only a SHA-256
digest of the token is kept, in memory.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import socket
import sys
from typing import TextIO
from urllib.parse import quote

import qrcode


class SetupToken:
    def __init__(self, token: str | None = None) -> None:
        self.plain = token or secrets.token_urlsafe(24)  # shown once, then only its digest is compared
        self._digest = hashlib.sha256(self.plain.encode()).digest()

    def matches(self, given: str) -> bool:
        return hmac.compare_digest(hashlib.sha256(given.strip().encode()).digest(), self._digest)


def lan_address(host: str) -> str:
    """The address phones on the LAN can reach: the bind address, or for 0.0.0.0 / :: the outgoing one."""
    if host not in {"0.0.0.0", "::", ""}:
        return host
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # a UDP "connect" sends nothing; it only picks the route
            return str(probe.getsockname()[0])
        except OSError:
            return socket.gethostname()


def base_url(host: str, port: int) -> str:
    address = lan_address(host)
    return f"http://[{address}]:{port}" if ":" in address else f"http://{address}:{port}"


def announce(url: str, token: SetupToken | None, out: TextIO | None = None) -> None:
    """Print where to open ModelDeck (and the setup link while there is no account), with a QR code."""
    out = out or sys.stdout
    target = f"{url}/setup?token={quote(token.plain)}" if token else url
    print(f"\nModelDeck is on the LAN: {url}  (sign-in required)", file=out)
    if token:
        print("No account exists yet. Create the first admin account with this one-time link:", file=out)
        print(f"  {target}", file=out)
        print(f"  (or open {url}/setup and enter the token {token.plain})", file=out)
    code = qrcode.QRCode(border=1)
    code.add_data(target)
    code.print_ascii(out=out)
    out.flush()
