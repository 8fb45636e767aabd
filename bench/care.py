"""Care figures (issue 7): recomputing every worklist, one community's worklist page, recording a contact.

At full scale, on PostgreSQL, the targets are: all worklists ≤ 10 s; a community's worklist page p95 ≤ 300 ms;
recording an attendance at a check day p95 ≤ 100 ms (the whole htmx request of one tap); one notice PDF ≤ 0.3 s;
1,000 notices for a community in one PDF ≤ 60 s. Everything written here is rolled back.
"""

import time as _clock
import uuid

from django.db import connection, transaction
from django.test import Client
from django.urls import reverse

from hearth.care import checkdays, notices, schedule, services
from hearth.care.models import Due, Invitation, InvitationStatus, Outcome, ServiceType
from hearth.core import time
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
    figures += _checkday_figures(community, service, client, scale=scale, repeat=repeat, db=db, log=log)
    figures += _notice_figures(community, service, scale=scale, repeat=repeat, db=db, log=log)
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("ANALYZE care_due")
    return figures


def _checkday_figures(
    community: Subject, service, client, *, scale: str, repeat: int, db: str, log
) -> list[Figure]:
    """Plan a check day for the community today, then tap attendance through the page (htmx) for one person
    after another: the whole request (scoping, the write, the audit row, the line and counters sent back)."""
    figures: list[Figure] = []
    try:
        with transaction.atomic():
            with Stopwatch() as sw:
                day = checkdays.checkday_plan(
                    actor=community.actor, service=service, place=community.place, held_on=time.today(),
                    location="社区卫生服务站",
                )  # fmt: skip
            invited = Invitation.objects.for_system().filter(check_day=day).count()
            figures.append(Figure("community officer: plan a check day (invite the eligible)", sw.seconds * 1000,
                                  "ms", f"{invited:,} invited of {scale}", db))  # fmt: skip
            public_ids = iter(
                Invitation.objects.for_system()
                .filter(check_day=day)
                .values_list("person__public_id", flat=True)
            )
            url = reverse("care:attendance", kwargs={"day_id": day.public_id})
            taps = min(repeat, invited)
            check(taps >= 3, "too few invited to time the taps")

            def tap():
                response = client.post(
                    url,
                    {"person_id": str(next(public_ids)), "status": InvitationStatus.ATTENDED,
                     "client_token": str(uuid.uuid4())},
                    HTTP_HX_REQUEST="true",
                )  # fmt: skip
                check(response.status_code == 200, f"attendance tap returned {response.status_code}")

            res = sample(tap, repeat=taps)
            attended = Invitation.objects.for_system().filter(check_day=day, status=InvitationStatus.ATTENDED)
            check(attended.count() == len(res.times_ms) + 2, "taps recorded and counted differ")
            figures.append(Figure("community officer: tap attendance at a check day (htmx request)", res.median,
                                  "ms", f"{invited:,} invited", db, res.p95))  # fmt: skip
            raise _Rollback
    except _Rollback:
        pass
    return figures


def _notice_figures(community: Subject, service, *, scale: str, repeat: int, db: str, log) -> list[Figure]:
    """One person's notice PDF (render, record as issued, audit), then one PDF of up to 1,000 notices for the
    community made as the worker makes it."""
    from hearth.documents.models import DocumentBatch

    figures: list[Figure] = []
    actor = community.actor
    today = time.today()
    try:
        with transaction.atomic():
            people = list(
                notices.candidates(actor, service, as_of=today, place=community.place)
                .values_list("person_id", flat=True)
                .distinct()[: max(repeat, 5) + 2]
            )
            check(len(people) >= 3, "nobody needs a notice in the community")
            persons = iter(Person.objects.for_system().filter(pk__in=people))

            def one():
                notice = notices.notice_pdf(actor, service, next(persons))
                check(notice.pdf.startswith(b"%PDF"), "the notice is not a PDF")

            res = sample(one, repeat=min(max(repeat // 4, 5), len(people) - 2))
            figures.append(Figure("community officer: one notice PDF (render, record, audit)", res.median, "ms",
                                  scale, db, res.p95))  # fmt: skip
            batch, started = notices.notices_batch_start(actor, service, place=community.place, limit=1000)
            check(started, "the batch did not start")
            with Stopwatch() as sw:
                outcome = notices.notices_batch_run(batch.pk)
            batch = DocumentBatch.objects.get(pk=batch.pk)
            check(outcome == "done", f"the batch ended {outcome}: {batch.message}")
            log(f"{batch.count:,} notices in one PDF in {sw.seconds:.1f} s")
            figures.append(Figure(f"worker: {batch.count:,} notices for a community in one PDF", sw.seconds, "s",
                                  f"{batch.count:,} persons of {scale}", db))  # fmt: skip
            raise _Rollback
    except _Rollback:
        pass
    return figures
