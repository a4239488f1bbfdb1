"""Every error a gateway client can get, in OpenAI's shape: {"error": {"message", "type", "code"}}.

Clients written for OpenAI (the `openai` package, Open WebUI) show `message` to their user, so it
says in plain words what went wrong and what to do.
"""

from __future__ import annotations

import orjson

# OpenAI's error types by HTTP status; anything else is a server error.
TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
         404: "invalid_request_error", 405: "invalid_request_error", 413: "invalid_request_error",
         415: "invalid_request_error",
         429: "rate_limit_error"}


class GatewayError(Exception):
    """A request the gateway answers itself, with this status and message."""

    def __init__(self, status: int, message: str, code: str, headers: tuple[tuple[bytes, bytes], ...] = ()) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.headers = headers

    def body(self) -> bytes:
        return error_body(self.status, self.message, self.code)


def error_body(status: int, message: str, code: str) -> bytes:
    return orjson.dumps({"error": {"message": message, "type": TYPES.get(status, "server_error"), "code": code}})


def sse_error_event(status: int, message: str, code: str) -> bytes:
    """The same error as a server-sent event, for a stream whose 200 has already gone out."""
    return b"data: " + error_body(status, message, code) + b"\n\n"
