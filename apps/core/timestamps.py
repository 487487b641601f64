"""Timestamps in the wire format the seed documents print."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_timestamp(moment: datetime | None = None) -> str:
    """UTC time as the seed prints it: seven fractional digits and a Z."""
    moment = (moment or datetime.now(UTC)).astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond:06d}0Z"


def utc_timestamp_ms(moment: datetime | None = None) -> str:
    """UTC time with millisecond precision, as the Identity Verification document (004) prints it:
    ``2024-01-15T10:30:00.000Z``."""
    moment = (moment or datetime.now(UTC)).astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
