from django_tasks import task


@task()
def recompute_service(service_id: int) -> int:
    """One service's worklist after its definition changed; returns the rows written."""
    from .models import ServiceType
    from .schedule import recompute

    service = ServiceType.objects.filter(pk=service_id).first()
    return 0 if service is None else recompute(service)


@task()
def recompute_worklists() -> int:
    """Every service's worklist (nightly, and from `hearth care recompute`); returns the rows written."""
    from .schedule import recompute_all

    return sum(r.rows for r in recompute_all())
