"""Key rotation for the encrypted ID numbers (ADR 0004): re-encrypt in batches under the current key.

Each batch is its own transaction and picks rows still under an old key, so an interrupted run resumes
where it stopped. Blind indexes do not change (their key does not rotate with the data keys).
"""

from collections.abc import Callable

from django.db import transaction
from django.db.models import Count

from hearth.audit import services as audit
from hearth.core import crypto

from . import identity
from .models import Person


def key_usage() -> dict[str, int]:
    rows = (
        Person.objects.for_system()
        .exclude(id_cipher__isnull=True)
        .values("id_key")
        .annotate(n=Count("id"))
        .order_by("id_key")
    )
    return {r["id_key"]: r["n"] for r in rows}


def rotate(*, actor, batch: int = 2000, progress: Callable[[int, int], None] | None = None) -> int:
    """Re-encrypt every number not under the current key; returns how many were re-encrypted."""
    current = crypto.keyring().current
    pending = Person.objects.for_system().exclude(id_cipher__isnull=True).exclude(id_key=current)
    total = pending.count()
    done = 0
    while True:
        with transaction.atomic():
            rows = list(
                pending.select_for_update()
                .order_by("id")
                .only("id", "public_id", "id_cipher", "id_key")[:batch]
            )
            if not rows:
                break
            for person in rows:
                person.id_key, person.id_cipher = identity.reencrypt(person)
            Person.objects.for_system().bulk_update(rows, ["id_key", "id_cipher"], batch_size=500)
        done += len(rows)
        if progress:
            progress(done, total)
    if done:
        audit.record(
            actor=actor,
            action="keys.rotate",
            object_type="registry.person",
            row_count=done,
            data={"to_key": current},
        )
    return done
