"""How the dashboard's connection to its runner stands: what the live feed reports and the header shows."""

from enum import StrEnum


class LinkState(StrEnum):
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    NOT_CONNECTED = "not connected"
