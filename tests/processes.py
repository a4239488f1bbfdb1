"""Facts about processes that tests check: is one gone?"""

from __future__ import annotations

import psutil


def gone(pid: int) -> bool:
    """No such process, or only its zombie is left (dead, waiting for its parent to reap it)."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True
