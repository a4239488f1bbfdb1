"""The gateway: one OpenAI-compatible endpoint on the UI's own port for every configured model
(docs/gateway.md). `Gateway` is the ASGI app; `serve_first` puts it in front of NiceGUI."""

from gateway.app import Gateway, serve_first
from gateway.proxy import LocalServers, ThroughRunner

__all__ = ["Gateway", "LocalServers", "ThroughRunner", "serve_first"]
