"""Go-style duration strings ("30s", "1m30s", "500ms"), as Task.spec.timeout uses."""

from __future__ import annotations

import re

_UNIT_SECONDS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}
_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")

Duration = str | int | float


def parse_duration(value: Duration) -> float:
    """Returns the seconds in a Go duration string, or in a number of seconds.

    Raises ValueError for anything else (negative values included).
    """
    if isinstance(value, bool):
        raise ValueError(f"invalid duration {value!r}: want a string like '30s' or seconds")
    if isinstance(value, (int, float)):
        if value < 0:
            raise ValueError(f"invalid duration {value!r}: negative")
        return float(value)
    if not isinstance(value, str):
        raise ValueError(f"invalid duration {value!r}: want a string like '30s' or seconds")
    text = value.strip()
    if text == "0":
        return 0.0
    total = 0.0
    position = 0
    for match in _PART.finditer(text):
        if match.start() != position:
            break
        total += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        position = match.end()
    if position == 0 or position != len(text):
        raise ValueError(
            f"invalid duration {value!r}: want a Go duration like '30s', '1m30s' or '500ms'"
        )
    return total


def format_duration(value: Duration) -> str:
    """Returns a Go duration string for a duration string or a number of seconds."""
    seconds = parse_duration(value)
    if isinstance(value, str):
        return value.strip()
    if seconds == int(seconds):
        return f"{int(seconds)}s"
    return f"{round(seconds * 1000)}ms"
