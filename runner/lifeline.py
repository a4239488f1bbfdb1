"""Tie a child's life to the runner's: when the runner dies, even by kill -9, the kernel kills the child.

Why prctl(PR_SET_PDEATHSIG): a SIGKILLed parent runs no cleanup (no atexit, no finally, no signal
handler), and llama-server runs in its own session (start_new_session=True, so a terminal's
Ctrl-C does not reach it directly), so nothing else would stop it. Linux lets a child ask the
kernel for a signal when its parent goes away; the child must ask itself, between fork and exec,
hence a preexec_fn calling libc's prctl through ctypes (Python has no binding). The setting
survives exec of a non-setuid binary.

Caveats, checked here: (1) "parent" means the thread that forked the child, so servers must be
spawned from a thread that lives as long as the runner (the event loop's thread: asyncio spawns
there); (2) if the parent already died between fork and prctl, the signal never comes, so the
child compares getppid() with the pid it was forked from and exits at once; (3) preexec_fn makes
subprocess fork instead of vfork and is unsafe with threads holding locks, so the function only
calls async-signal-safe things (prctl, getppid, _exit). Elsewhere than Linux it does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
from collections.abc import Callable

PR_SET_PDEATHSIG = 1


def _load_prctl() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    except OSError:
        return None
    prctl: Callable[..., int] = libc.prctl
    return prctl


_PRCTL = _load_prctl()  # loaded once in the parent: no dlopen between fork and exec


def die_with_parent() -> Callable[[], None] | None:
    """A preexec_fn that makes the child get SIGKILL when this process dies; None where unsupported."""
    if _PRCTL is None:
        return None
    prctl = _PRCTL
    parent = os.getpid()

    def _preexec() -> None:
        if prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) != 0:
            os._exit(126)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(126)

    return _preexec
