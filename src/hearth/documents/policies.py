"""Who may see which documents, beyond the place scope: decided by the app that issues each kind.

The documents layer sits below the apps that issue documents (care now, benefits later) and cannot ask them
directly. Each such app registers, per kind, a function giving the Q over documents (by `topic`) that an actor
may see; `hearth.documents.apps` imports every app's `notices` module at start-up, where care registers its own.
A kind with no policy is seen by nobody (fail closed).
"""

from collections.abc import Callable

from django.db.models import Q

_policies: dict[str, Callable[[object], Q]] = {}


def register(kind: str, visible: Callable[[object], Q]) -> None:
    """`visible(actor)` returns the Q over documents of `kind` the actor may see (their place scope aside)."""
    _policies[kind] = visible


def visible_q(actor) -> Q:
    q = Q(pk__in=[])
    for kind, visible in _policies.items():
        q |= Q(kind=kind) & visible(actor)
    return q


def registered() -> set[str]:
    return set(_policies)
