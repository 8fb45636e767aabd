"""Public ids (公开编号): time-ordered UUIDs, version 7 (RFC 9562).

A version-7 UUID starts with its creation time in milliseconds and ends with 74 random bits, so it is as
hard to guess as a version 4 but new ids sort after old ones: a new row's public id lands at the right edge
of its unique index instead of on a random page of it. At a million persons and their events, random
version-4 ids cost every bulk write a random index page per row (measured in docs/performance.md).
The creation time it carries is no secret to anyone who may see the record (its created_at says as much).

Written here rather than taken from a package: it is eight lines, Python's own uuid.uuid7 arrives in 3.14,
and the bulk loader needs the raw bytes in blocks (`block`).
"""

import os
import time
import uuid

_VERSION = bytes((b & 0x0F) | 0x70 for b in range(256))
_VARIANT = bytes((b & 0x3F) | 0x80 for b in range(256))


def uuid7_bytes() -> bytes:
    raw = bytearray((time.time_ns() // 1_000_000).to_bytes(6, "big") + os.urandom(10))
    raw[6] = (raw[6] & 0x0F) | 0x70
    raw[8] = (raw[8] & 0x3F) | 0x80
    return bytes(raw)


def new_public_id() -> uuid.UUID:
    """A new public id: the default of every `public_id` field."""
    return uuid.UUID(bytes=uuid7_bytes())


def block(n: int) -> bytes:
    """`n` version-7 UUIDs as 16·n raw bytes, all of this millisecond (the random parts keep them unique)."""
    stamp = (time.time_ns() // 1_000_000).to_bytes(6, "big")
    raw = bytearray(os.urandom(16 * n))
    for k in range(6):
        raw[k::16] = stamp[k : k + 1] * n
    raw[6::16] = raw[6::16].translate(_VERSION)
    raw[8::16] = raw[8::16].translate(_VARIANT)
    return bytes(raw)
