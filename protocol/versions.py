"""What made a version of a configuration: the words the history shows, the API returns and SQLite keeps."""

from __future__ import annotations

from enum import StrEnum


class VersionAction(StrEnum):
    BASELINE = "baseline"  # the configuration as it was when ModelDeck began keeping its history
    CREATE = "create"
    DUPLICATE = "duplicate"
    EDIT = "edit"
    RENAME = "rename"  # an edit that changed the name (and perhaps more)
    IMPORT = "import"
    RESTORE = "restore"  # a restored older version: a new version with that one's settings
