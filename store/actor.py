"""Who asks for an action: every store action that changes something is given one, and viewers are refused."""

from __future__ import annotations

from dataclasses import dataclass

from protocol.role import Role


@dataclass(frozen=True)
class Actor:
    name: str
    role: Role

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN


# Whoever uses ModelDeck on this machine while it listens on loopback only (the open-on-loopback mode).
LOCAL_ADMIN = Actor("local", Role.ADMIN)
# ModelDeck itself, for what it does on its own (autostart).
SYSTEM = Actor("modeldeck", Role.ADMIN)

__all__ = ["LOCAL_ADMIN", "SYSTEM", "Actor"]
