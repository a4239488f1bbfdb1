"""The management REST API under /api/ on the UI's port (docs/api.md): every action the pages have, for scripts.

`ManagementApi` is its ASGI app and a door of the front door (keyed requests); `SessionApi` the middleware that
hands it the requests of signed-in browsers.
"""

from api.app import ManagementApi, SessionApi

__all__ = ["ManagementApi", "SessionApi"]
