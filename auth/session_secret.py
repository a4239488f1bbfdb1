"""The secret that signs session cookies: generated once, kept in data/ readable by its owner only (mode 600)."""

from __future__ import annotations

import logging
import os
import secrets
import stat
from pathlib import Path

log = logging.getLogger(__name__)

FILE_NAME = "session_secret"


def load_or_create_secret(data_dir: Path) -> str:
    """The secret in data_dir/session_secret; created (O_EXCL, mode 600) when missing or empty."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / FILE_NAME
    try:
        secret = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        secret = ""
    if secret:
        if stat.S_IMODE(path.stat().st_mode) & 0o077:
            log.warning("%s was readable by others; restricting it to its owner", path)
            path.chmod(0o600)
        return secret
    path.unlink(missing_ok=True)
    secret = secrets.token_urlsafe(48)
    # O_EXCL with mode 600: the file never exists with wider permissions, not even for a moment.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(secret + "\n")
    return secret
