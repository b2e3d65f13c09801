"""Unique, valid Kubernetes names for the objects a session creates.

Sandbox names end up as the value of the pod label arl.infra.io/sandbox, so
they must be valid label values: at most 63 characters, lowercase
alphanumerics and '-', starting and ending with an alphanumeric. The random
suffix (48 bits from uuid4) makes collisions between sessions started in the
same instant negligible, without any coordination.
"""

from __future__ import annotations

import re
import uuid

MAX_NAME_LENGTH = 63
SUFFIX_LENGTH = 12
_INVALID = re.compile(r"[^a-z0-9-]+")


def random_suffix() -> str:
    return uuid.uuid4().hex[:SUFFIX_LENGTH]


def unique_name(prefix: str) -> str:
    """Returns ``<prefix>-<12 random hex>`` as a valid DNS label (<= 63 chars)."""
    cleaned = _INVALID.sub("-", prefix.lower()).strip("-")
    room = MAX_NAME_LENGTH - SUFFIX_LENGTH - 1
    cleaned = cleaned[:room].rstrip("-") or "arl"
    return f"{cleaned}-{random_suffix()}"
