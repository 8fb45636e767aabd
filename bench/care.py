"""Care figures (issue 7): recomputing every worklist, one community's worklist page, recording a contact.

At full scale, on PostgreSQL, the targets are: all worklists ≤ 10 s; a community's worklist page p95 ≤ 300 ms;
recording p95 ≤ 100 ms (the issue names recording an attendance at a check day, which is not built yet: a home
visit's contact is the same write — a record, its audit row and the person's worklist rows).
"""

import time as _clock

from django.db import connection, transaction
from django.test import Client
from django.urls import reverse

from hearth.care import schedule, services
from hearth.care.models import Due, Outcome, ServiceType
from hearth.registry.models import Person, PersonStatus

from .figures import Figure, Stopwatch, sample
from .scenarios import Subject, check


class _Rollback(Exception):
    pass


def care_figures(subs: list[Subject], *, repeat: int, db: str, log) -> list[Figure]:
    figures: list[Figure] = []
    persons = Person.objects.for_system().count()
    scale = f"{persons:,} persons"
    with Stopwatch() as sw:
        done = schedule.recompute_all()
    rows = sum(r.rows for r in done)
    log(f"worklists recomputed in {sw.seconds:.1f} s: " + ", ".join(f"{r.service} {r.rows:,}" for r in done))
    check(rows == Due.objects.for_system().count(), "worklist rows written and counted differ")
    figures.append(Figure("care: recompute every worklist (all services)", sw.seconds, "s",
                          f"{scale}; {rows:,} rows, {len(done)} services", db))  # fmt: skip
    for r in done:
        if r.rows:
            figures.append(Figure(f"care: worklist rows: {r.service}", r.rows, "rows", scale, db))

    community = subs[0]
    service = ServiceType.objects.get(code="health_check")
    client = Client()
    client.force_login(community.user)
    session = client.session
    session["grant_id"] = community.grant.pk
    session.save()
    in_scope = Due.objects.visible_to(community.actor).filter(service=service).count()
    for status in ("", "not_offered"):
        url = reverse("care:worklist", kwargs={"code": service.code}) + (
            f"?status={status}" if status else ""
        )

        def get(url=url):
            response = client.get(url)
            check(response.status_code == 200, f"care worklist returned {response.status_code}")
            return response

        res = sample(get, repeat=repeat)
        label = f"community officer: GET worklist page ({service.code}{', ' + status if status else ''})"
        figures.append(Figure(label, res.median, "ms", f"{in_scope:,} rows in scope of {scale}", db, res.p95))

    # Recording: one contact each for different persons of the community, undone afterwards.
    targets = list(
        Due.objects.visible_to(community.actor)
        .filter(service=service)
        .values_list("person_id", flat=True)[: repeat + 2]
    )
    check(len(targets) >= 3, "no persons due in the community")
    people = iter(Person.objects.for_system().filter(pk__in=targets, status=PersonStatus.ACTIVE))

    def record():
        p = next(people)
        _rec, created = services.record_contact(
            actor=community.actor, person=p, service=service, outcome=Outcome.DONE, consent=True,
            data={"result": "未见异常"},
        )  # fmt: skip
        check(created, "a new contact was not created")

    role = community.actor.role
    if role not in service.roles:
        raise SystemExit(f"bench: {role} does not deliver {service.code}")
    try:
        with transaction.atomic():
            started = _clock.perf_counter()
            res = sample(record, repeat=min(repeat, len(targets) - 2))
            log(f"recorded {len(res.times_ms) + 2} contacts in {_clock.perf_counter() - started:.2f} s")
            raise _Rollback
    except _Rollback:
        pass
    figures.append(Figure("community officer: record a contact (record, audit, worklist rows)", res.median,
                          "ms", scale, db, res.p95))  # fmt: skip
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("ANALYZE care_due")
    return figures
