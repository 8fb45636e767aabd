from django_tasks import task


@task()
def seal_audit_log() -> int:
    """Seal every committed, unsealed audit row into the chain (idempotent: nothing pending, nothing done)."""
    from .services import seal_pending

    return seal_pending()
