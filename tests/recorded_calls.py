"""Recording which methods of a real object a piece of code calls (a spy: each call still reaches the object)."""

from __future__ import annotations

from typing import Any


def record_calls(monkeypatch: Any, target: Any, names: tuple[str, ...]) -> list[str]:
    """Wrap ``target``'s methods ``names``; returns the list each call's method name is appended to, in order."""
    calls: list[str] = []

    def recorded(name: str) -> Any:
        original = getattr(target, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            calls.append(name)
            return original(*args, **kwargs)

        return call

    for name in names:
        monkeypatch.setattr(target, name, recorded(name))
    return calls
