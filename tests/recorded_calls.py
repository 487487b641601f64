"""Recording which methods of a real object a piece of code calls (a spy: each call still reaches the object)."""

from __future__ import annotations

from typing import Any


def record_calls(monkeypatch: Any, target: Any, names: tuple[str, ...]) -> list[str]:
    """Wrap ``target``'s methods ``names``; returns the list each call's method name is appended to, in order.

    Only the outermost calls count: one that a recorded method makes itself (Django's local-memory cache
    answers ``get_many`` with a ``get`` per key) is part of it, as it is one round trip on Redis."""
    calls: list[str] = []
    depth = [0]

    def recorded(name: str) -> Any:
        original = getattr(target, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            if depth[0] == 0:
                calls.append(name)
            depth[0] += 1
            try:
                return original(*args, **kwargs)
            finally:
                depth[0] -= 1

        return call

    for name in names:
        monkeypatch.setattr(target, name, recorded(name))
    return calls
