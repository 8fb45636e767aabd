"""Worklists (工作清单): who is to be offered each service, and from when, recomputed from the catalogue.

A `Due` row per eligible person and service (and per window of an event-based service). Periodic and
one-off services are computed in the database, one INSERT … SELECT per service over the persons its
condition selects, so a million persons never pass through Python; event-based services read the few
recent events of their kind. A person's rows are recomputed at once when a service is recorded for them.

- periodic: due `interval_months` after the last contact that closed a cycle (given, or declined); a person
  whose cycle was never closed has no due date: due now (and "not offered" if never contacted at all);
- one-off: due now until a contact closes it;
- after an event: one row per window [start, end] days after each recent event, until a contact on or after
  the window's start (the first window's claim starts at the event) and before the next window's start
  closes it. Windows that ended more than `GRACE_DAYS` ago drop off;
- on request: no worklist (enrolment is the person's own step).
"""

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import connection, transaction
from django.db.models import Exists, OuterRef

from hearth.core import time
from hearth.registry import conditions
from hearth.registry.models import LifeEvent, Person

from .models import CLOSING, Due, Schedule, ServiceRecord, ServiceType

GRACE_DAYS = 90


def add_months_sql(column: str, months: int) -> str:
    """SQL for `column` + N calendar months, the day clamped to the month's end (31 Jan + 1 month = 28/29 Feb),
    as PostgreSQL's date + interval does; SQLite's own '+N months' would roll over into March instead."""
    months = int(months)
    if connection.vendor == "postgresql":
        return f"CAST({column} + make_interval(months => {months}) AS date)"
    naive = f"date({column}, '+{months} months')"
    month_end = f"date({column}, 'start of month', '+{months + 1} months', '-1 day')"
    return f"min({naive}, {month_end})"


def add_months(day: date, months: int) -> date:
    """The same in Python (tests, event windows)."""
    import calendar

    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass
class Recomputed:
    service: str
    rows: int


COLUMNS = ("service_id", "person_id", "place_path", "dwelling_id", "due_on", "window_end", "last_on",
           "last_outcome", "offered")  # fmt: skip


def _periodic_select(service: ServiceType, eligible) -> tuple[str, list]:
    """The SELECT of a periodic or one-off service's rows (named as COLUMNS): the eligible persons joined to
    their contacts grouped once per person (not subqueries per person: 280,000 persons took 9.6 s that way,
    measured). A person never given the service has no due date: due now, and not offered."""
    quote = connection.ops.quote_name
    persons_sql, persons_params = (
        eligible.order_by().values("id", "place_path", "dwelling_id").query.sql_with_params()
    )
    records = quote(ServiceRecord._meta.db_table)
    closing = ", ".join(["%s"] * len(CLOSING))
    if service.schedule == Schedule.ONCE:
        due, where = "CAST(NULL AS date)", "WHERE r.closed IS NULL"
    else:
        due, where = add_months_sql("r.closed", service.interval_months), ""
    sql = f"""
        SELECT %s AS service_id, p.id AS person_id, p.place_path AS place_path, p.dwelling_id AS dwelling_id,
               {due} AS due_on, CAST(NULL AS date) AS window_end, r.last_on AS last_on,
               CASE WHEN r.last_on IS NULL THEN '' ELSE (
                   SELECT s.outcome FROM {records} s WHERE s.person_id = p.id AND s.service_id = %s
                   ORDER BY s.occurred_on DESC, s.id DESC LIMIT 1) END AS last_outcome,
               r.last_on IS NOT NULL AS offered
        FROM ({persons_sql}) p
        LEFT JOIN (
            SELECT person_id, MAX(CASE WHEN outcome IN ({closing}) THEN occurred_on END) AS closed,
                   MAX(occurred_on) AS last_on
            FROM {records} WHERE service_id = %s GROUP BY person_id
        ) r ON r.person_id = p.id
        {where}
    """
    return sql, [service.pk, service.pk, *persons_params, *[str(c) for c in CLOSING], service.pk]


def _columns(prefix: str = "") -> str:
    quote = connection.ops.quote_name
    return ", ".join(prefix + quote(c) for c in COLUMNS)


def _same_row(a: str, b: str) -> str:
    return " AND ".join(f"{a}.{c} IS NOT DISTINCT FROM {b}.{c}" for c in COLUMNS)


def _replace_periodic(service: ServiceType, eligible) -> int:
    """Write only what changed: the new rows go to a temporary table, then the rows no longer true are deleted
    and the new ones inserted. Unchanged rows (most of them, day to day) are not rewritten with their indexes."""
    select, params = _periodic_select(service, eligible)
    due = connection.ops.quote_name(Due._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS care_due_new")
        cursor.execute(f"CREATE TEMPORARY TABLE care_due_new AS {select}", params)
        cursor.execute(
            f"DELETE FROM {due} WHERE service_id = %s AND NOT EXISTS "
            f"(SELECT 1 FROM care_due_new n WHERE n.person_id = {due}.person_id AND {_same_row('n', due)})",
            [service.pk],
        )
        cursor.execute(
            f"INSERT INTO {due} ({_columns()}) SELECT {_columns('n.')} FROM care_due_new n WHERE NOT EXISTS "
            f"(SELECT 1 FROM {due} d WHERE d.service_id = %s AND d.person_id = n.person_id AND {_same_row('n', 'd')})",
            [service.pk],
        )
        cursor.execute("SELECT COUNT(*) FROM care_due_new")
        (total,) = cursor.fetchone()
        cursor.execute("DROP TABLE care_due_new")
    return total


def recompute(
    service: ServiceType, *, as_of: date | None = None, persons: Iterable[int] | None = None
) -> int:
    """Bring the service's worklist rows (only those of `persons` when given) up to date; returns how many
    rows it has (of those persons)."""
    as_of = as_of or time.today()
    person_ids = list(persons) if persons is not None else None
    with transaction.atomic():
        if connection.vendor == "postgresql" and person_ids is None:
            with connection.cursor() as cursor:
                # The planner's cost of the per-person outcome subquery (rarely run) crosses jit_above_cost,
                # and compiling the plan took 0.5 s of a 0.9 s statement (EXPLAIN ANALYZE, 1,000,000 persons).
                cursor.execute("SET LOCAL jit = off")
                # The anti-joins hash a service's rows (280,000): in 4 MB they spill to 8 batches on disk.
                cursor.execute("SET LOCAL work_mem = '64MB'")
        old = Due.objects.for_system().filter(service=service)
        if person_ids is not None:
            old = old.filter(person_id__in=person_ids)
        if not service.active or service.schedule == Schedule.ON_REQUEST:
            old._raw_delete(old.db)
            return 0
        eligible = Person.objects.for_system().filter(conditions.compile_q(service.condition, as_of))
        if person_ids is not None:
            eligible = eligible.filter(pk__in=person_ids)
        if service.schedule == Schedule.EVENT:
            old._raw_delete(old.db)
            return _recompute_events(service, eligible, as_of)
        if person_ids is None and old.exists():
            return _replace_periodic(service, eligible)
        # A first computation, or a few persons (a contact was just recorded): delete theirs, insert afresh.
        old._raw_delete(old.db)
        select, params = _periodic_select(service, eligible)
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {connection.ops.quote_name(Due._meta.db_table)} ({_columns()}) {select}", params
            )
            return cursor.rowcount


def _recompute_events(service: ServiceType, eligible, as_of: date) -> int:
    windows = service.event_windows
    oldest = as_of - timedelta(days=windows[-1][1] + GRACE_DAYS)
    corrected = LifeEvent.objects.for_system().filter(corrects=OuterRef("pk"))
    events = list(
        LifeEvent.objects.for_system()
        .filter(kind=service.event_kind, occurred_on__gte=oldest, occurred_on__lte=as_of)
        .filter(person__in=eligible.values("pk"))
        .exclude(Exists(corrected))
        .values_list("person_id", "occurred_on", "person__place_path", "person__dwelling_id")
    )
    if not events:
        return 0
    contacts: dict[int, list[tuple[date, str]]] = {}
    for pid, on, outcome in (
        ServiceRecord.objects.for_system()
        .filter(service=service, person_id__in={e[0] for e in events}, occurred_on__gte=oldest)
        .order_by("occurred_on")
        .values_list("person_id", "occurred_on", "outcome")
    ):
        contacts.setdefault(pid, []).append((on, outcome))
    rows: dict[tuple[int, date], Due] = {}
    for pid, on, path, dwelling_id in events:
        mine = contacts.get(pid, [])
        for i, (start, end) in enumerate(windows):
            claim_from = on if i == 0 else on + timedelta(days=start)
            claim_to = on + timedelta(days=windows[i + 1][0]) if i + 1 < len(windows) else None
            due_on, window_end = on + timedelta(days=start), on + timedelta(days=end)
            if window_end < as_of - timedelta(days=GRACE_DAYS):
                continue
            inside = [(d, o) for d, o in mine if d >= claim_from and (claim_to is None or d < claim_to)]
            if any(o in CLOSING for _d, o in inside):
                continue
            last = inside[-1] if inside else None
            rows[(pid, due_on)] = Due(
                service=service, person_id=pid, place_path=path, dwelling_id=dwelling_id, due_on=due_on,
                window_end=window_end, last_on=last[0] if last else None, last_outcome=last[1] if last else "",
                offered=bool(mine),
            )  # fmt: skip
    Due.objects.bulk_create(rows.values(), batch_size=2000)
    return len(rows)


def recompute_all(*, as_of: date | None = None, workers: int | None = None) -> list[Recomputed]:
    """Every service's worklist, one transaction per service (the others stay readable meanwhile).

    On PostgreSQL two services at a time, each on its own connection: the work is the server's, and a second
    connection puts the second core to use. SQLite has one writer, so one at a time there.
    """
    as_of = as_of or time.today()
    services = list(ServiceType.objects.order_by("order", "code"))
    if workers is None:
        workers = 2 if connection.vendor == "postgresql" else 1
    if workers <= 1 or connection.in_atomic_block:
        return [Recomputed(s.code, recompute(s, as_of=as_of)) for s in services]

    def one(service: ServiceType) -> Recomputed:
        try:
            return Recomputed(service.code, recompute(service, as_of=as_of))
        finally:
            connection.close()  # this thread's own connection

    # The largest first, so the two connections finish together.
    by_size = sorted(services, key=lambda s: -Due.objects.for_system().filter(service=s).count())
    with ThreadPoolExecutor(max_workers=workers) as pool:
        done = {r.service: r for r in pool.map(one, by_size)}
    return [done[s.code] for s in services]


def recompute_person(person_id: int, *, as_of: date | None = None) -> None:
    """One person's rows of every service: after a contact is recorded, or the person changed."""
    for s in ServiceType.objects.all():
        recompute(s, as_of=as_of, persons=[person_id])
