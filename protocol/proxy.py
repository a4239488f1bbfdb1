"""What may pass from a client to a model's own server, on the gateway and on the runner's proxy route.

Both sides check: the gateway before it forwards, the runner again before it connects.
"""

from __future__ import annotations

PROXY_ROUTE = "/v1/models/{uid}/proxy/{path}"  # on the runner, behind its token
# Request headers a model's server may see; the client's own credentials and cookies never reach it.
FORWARDED_REQUEST_HEADERS = ("content-type", "accept", "anthropic-version", "anthropic-beta")


def safe_path(path: str) -> bool:
    """A path inside the server's own space: no '.', '..' or empty segments, no backslashes or control
    characters ('' is the server's root; a trailing '/' is allowed)."""
    if path.endswith("/"):
        path = path[:-1]
    if not path:
        return True
    return "\\" not in path and "%" not in path and all(
        segment not in {"", ".", ".."} and segment.isprintable() for segment in path.split("/"))
