"""Materialised paths for the place tree.

A place's path is its ancestors' row ids, each zero-padded to 10 digits, root first. A subtree is then one
range condition on an indexed column (`path >= P AND path < P+1`), which both SQLite and PostgreSQL answer
from a B-tree index whatever the collation, because paths contain digits only.
"""

from django.db.models import Q

SEGMENT = 10


def segment(pk: int) -> str:
    return f"{pk:0{SEGMENT}d}"


def upper_bound(path: str) -> str:
    return str(int(path) + 1).zfill(len(path))


def subtree_q(field: str, path: str) -> Q:
    """Rows whose `field` path lies in the subtree rooted at `path` (the root included)."""
    return Q(**{f"{field}__gte": path, f"{field}__lt": upper_bound(path)})


def ancestor_paths(path: str) -> list[str]:
    """Paths of the place itself and all its ancestors, root first."""
    return [path[:i] for i in range(SEGMENT, len(path) + 1, SEGMENT)]


def depth(path: str) -> int:
    return len(path) // SEGMENT
