"""What the users app needs of sessions, which sit above it: the sessions app hands it in when ready.

``SessionsConfig.ready`` registers an implementation; without one, no session is known and
deleting a user clears no session field.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Protocol

from apps.accounts.models import Account


@dataclass(frozen=True)
class SessionSummary:
    passed: bool
    minor: bool
    device_id: str  # hashed, "" when the session recorded none


class SessionsPort(Protocol):
    def summary(self, *, account: Account, session_id: uuid.UUID) -> SessionSummary | None: ...

    def enrolment_signals(self, *, account: Account, session_id: uuid.UUID, entry_user_id: uuid.UUID) -> list[str]:
        """Add the device risk signals of enrolling the user from this session to it (before the user changes)."""
        ...

    def forget_user(
        self, *, account: Account, entry_user_id: uuid.UUID, session_ids: list[uuid.UUID]
    ) -> list[uuid.UUID]:
        """Clear the personal fields of the user's sessions (and of ``session_ids``); returns their ids."""
        ...


_port: SessionsPort | None = None


def sessions_port_register(port: SessionsPort) -> None:
    global _port  # set once, when the sessions app is ready
    _port = port


def sessions_port() -> SessionsPort | None:
    return _port
