"""Facts about processes that tests check: is one gone, which model servers run?"""

from __future__ import annotations

import psutil


def gone(pid: int) -> bool:
    """No such process, or only its zombie is left (dead, waiting for its parent to reap it)."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def llama_servers(parent: int | None = None) -> list[psutil.Process]:
    """The model servers below `parent` (this process by default): alive (not gone, not a zombie waiting to be
    reaped), and serving (a probe of the binary, such as the runner's `llama-server --help`, is no model server)."""
    found = []
    for process in psutil.Process(parent).children(recursive=True):
        try:
            if (process.name() == "llama-server" and process.status() != psutil.STATUS_ZOMBIE
                    and "--port" in process.cmdline()):
                found.append(process)
        except psutil.NoSuchProcess:
            pass  # it ended while we looked
    return found
