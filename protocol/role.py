"""What a signed-in person may do."""

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"  # everything
    VIEWER = "viewer"  # sees everything, changes nothing (a tablet on the wall)
