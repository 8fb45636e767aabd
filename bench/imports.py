"""Import figures (issue 6): a realistically messy xlsx of residents committed into the loaded registry, stage
by stage, against django-import-export on the same model with a 10,000-row sample of the same people.

Everything runs inside a transaction that is rolled back, so the loaded registry stays as it was (--reuse).
A real commit also runs the deferred foreign-key checks of the rows written (the person's dwelling, the event's
person and recorder); a rollback skips them, so on PostgreSQL they are fired and timed on their own before it
(`SET CONSTRAINTS ALL IMMEDIATE`) and counted into the commit's rate.
"""

import random
import time

from django.db import connection, transaction

from hearth.accounts.roles import Role
from hearth.imports import messy, services
from hearth.imports.models import JobStatus
from hearth.places.models import Dwelling
from hearth.places.tree import subtree_q
from hearth.registry import identity
from hearth.registry.models import LifeEvent, Person

from . import floors, import_export_compare
from .figures import Figure, rate
from .scenarios import BenchError, Subject, check

EXISTING_SHARE = 0.10  # rows of people already registered (a tenth of them with a new phone)
NEW_AREA = "659001"  # an area code the population generator never uses, so new numbers are new


def _people(subject: Subject, rows: int, seed: int) -> tuple[list[messy.SheetPerson], list[int], list[str]]:
    """New people at the sub-district's dwellings, and a share of its registered residents as they are
    (with their blind indexes, which the commit's match looks up)."""
    rng = random.Random(seed)
    dwellings = list(
        Dwelling.objects.filter(subtree_q("place__path", subject.place.path)).values_list(
            "id", "full_address"
        )
    )
    existing_n = round(rows * EXISTING_SHARE)
    registered = list(
        Person.objects.for_system()
        .filter(subtree_q("place_path", subject.place.path), status="active", id_unverified=False)
        .select_related("dwelling")
        .order_by("id")[: existing_n * 3]
    )
    rng.shuffle(registered)
    people = []
    for p in registered[:existing_n]:
        phone = p.phone if rng.random() > 0.1 else f"139{rng.randrange(10**8):08d}"
        people.append(
            messy.SheetPerson(
                name=p.name, id_number=identity.reveal(p), sex=p.sex, birth_date=p.birth_date,
                address=p.dwelling.full_address, hukou=p.hukou_code or "410103", phone=phone,
            )
        )  # fmt: skip
    fresh = messy.sample_people(rows - len(people), seed=seed, area=NEW_AREA)
    for i, p in enumerate(fresh):
        p.address = dwellings[i % len(dwellings)][1]
    people += fresh
    rng.shuffle(people)
    return people, [d[0] for d in dwellings], [p.id_index for p in registered[:existing_n]]


def _deferred_checks() -> float:
    """Seconds for the foreign-key checks PostgreSQL defers to COMMIT (none to run elsewhere)."""
    if connection.vendor != "postgresql":
        return 0.0
    t = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    return time.perf_counter() - t


def _server() -> str:
    """The settings the write stage depends on most (index pages in memory, WAL between checkpoints)."""
    if connection.vendor != "postgresql":
        return ""
    with connection.cursor() as cursor:
        shown = []
        for name in ("shared_buffers", "max_wal_size", "checkpoint_timeout"):
            cursor.execute(f"SHOW {name}")
            shown.append(f"{name} {cursor.fetchone()[0]}")
    return ", ".join(shown)


def _last_id(qs) -> int:
    return qs.order_by("-id").values_list("id", flat=True).first() or 0


def import_figures(subject: Subject, *, rows: int, sample: int, db: str, log) -> list[Figure]:
    check(subject.grant.role == Role.SUBDISTRICT_OFFICER, "the import runs as a sub-district officer")
    people, dwelling_ids, existing_keys = _people(subject, rows, seed=6)
    t = time.perf_counter()
    sheet = messy.messy_workbook(people, seed=6, community=subject.place.name, mess=1.0, fmt="xlsx")
    make_s = time.perf_counter() - t
    scale = f"{rows:,} rows into {Person.objects.for_system().count():,} persons"
    figures = [Figure("import: generating the messy xlsx (not part of the import)", make_s, "s", scale, db)]
    log(f"import: {rows:,}-row xlsx ({len(sheet.data) / 1e6:.1f} MB) in {make_s:.1f} s")
    actor = subject.actor
    with transaction.atomic():
        t = time.perf_counter()
        job = services.import_upload(
            actor=actor, data=sheet.data, filename="bench.xlsx", source="bench", place=subject.place
        )
        upload_s = time.perf_counter() - t
        services.import_start(actor=actor, job=job, commit=False, enqueue=False)
        t = time.perf_counter()
        job = services.run_job(job.pk, commit=False)
        check_s = time.perf_counter() - t
        if job.status != JobStatus.CHECKED:
            raise BenchError(f"import dry run ended {job.status}: {job.message}")
        check_stages = dict(job.stage_seconds)
        services.import_start(actor=actor, job=job, commit=True, enqueue=False)
        person_after = _last_id(Person.objects.for_system())
        event_after = _last_id(LifeEvent.objects)
        cpu = floors.CpuMeter().start()
        t = time.perf_counter()
        job = services.run_job(job.pk, commit=True)
        commit_s = time.perf_counter() - t
        if job.status != JobStatus.COMMITTED:
            raise BenchError(f"import commit ended {job.status}: {job.message}")
        constraints_s = _deferred_checks()
        commit_s += constraints_s
        commit_cpu = cpu.stop()
        counts = job.counts
        expected_rejected = len(sheet.spreadsheet_numbers)
        check(counts["rejected"] >= expected_rejected, f"import: {counts} but {expected_rejected} float IDs")
        check(counts["new"] + counts["duplicate"] > rows * 0.8, f"import: too few new rows: {counts}")
        log(f"import: {counts}; commit {commit_s:.1f} s; stages {job.stage_seconds}; "
            f"deferred checks {constraints_s:.1f} s; {_server()}")  # fmt: skip
        written = floors.capture_import(person_after, event_after, existing_keys)
        transaction.set_rollback(True)
    detail = f"{scale}; " + ", ".join(f"{k} {v:,}" for k, v in counts.items())
    figures += [
        Figure("import: upload (read, find header, stage)", upload_s, "s", scale, db),
        Figure("import: dry run (read, validate, match)", rate(rows, check_s), "rows/s", detail, db),
        Figure("import: commit, whole (read, validate, match, write, audit)", rate(rows, commit_s), "rows/s", detail, db),
    ]  # fmt: skip
    figures += [Figure(f"import: dry run stage: {k}", v, "s", scale, db) for k, v in check_stages.items()]
    figures += [Figure(f"import: commit stage: {k}", v, "s", scale, db) for k, v in job.stage_seconds.items()]
    figures.append(Figure("import: commit stage: deferred foreign-key checks", constraints_s, "s", scale, db))
    figures += floors.cpu_figures("import: commit", commit_cpu, rows, "rows/s", scale, db)
    if connection.vendor == "postgresql":
        figures.append(Figure("import: PostgreSQL settings", _server(), "", scale, db))
    if written is not None:
        figures += floors.import_floor(written, rows, db=db, log=log)

    # django-import-export, same model, a sample of the same people as clean rows (its easy case).
    clean = import_export_compare.clean_rows(people[:sample], dwelling_ids)
    ours = rate(rows, commit_s)
    for bulk in (False, True):
        mode = "bulk mode (use_bulk, batch_size 1,000)" if bulk else "default mode"
        timing = import_export_compare.run(clean, bulk=bulk)
        theirs = timing.rows_per_second
        log(f"import: django-import-export {mode}: {theirs:,.0f} rows/s ({timing.created:,} created)")
        figures.append(
            Figure(f"import: django-import-export, {mode}", theirs, "rows/s", f"{sample:,} clean rows", db)
        )
        figures.append(Figure(f"import: ours ÷ django-import-export {mode}", ours / theirs, "×", scale, db))
    return figures
