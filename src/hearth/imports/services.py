"""Importing residents from a spreadsheet (数据导入): upload, confirm the columns, dry run, commit.

One code path does the dry run and the commit (`run_job`): read the staged file, clean every row, match the
rows with the registry by the ID number's blind index, classify each row (new, changed, unchanged, duplicate,
rejected). The commit does it again, matches the persons found once more under lock inside one transaction
and then writes: new persons with their "registered" event, changed persons through "details changed" /
"dwelling changed" events (`writer`: COPY on PostgreSQL). Either everything is written or nothing (a failure,
a number registered by someone else meanwhile, or a killed worker rolls the transaction back), and a second
import of the same file finds every row unchanged.

Progress and cancellation go through the job row in autocommit while the file is read and checked; the
writing itself is one transaction (under a minute for 100,000 rows, docs/performance.md) that cannot be
interrupted half-way.
"""

import functools
import hashlib
import io
import multiprocessing as mp
import os
import pickle
import time as _clock
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from django.db import IntegrityError, connection, transaction
from django.db.models import BooleanField, Q
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext as _

from hearth.accounts.roles import Perm
from hearth.audit import services as audit
from hearth.core import citizen_id, time
from hearth.core.errors import DomainError, DomainErrors
from hearth.core.memory import collector_paused
from hearth.core.spreadsheet import (
    Table,
    discard_staged,
    load_staged,
    normalize_header,
    read_table,
    stage_upload,
)
from hearth.core.tasks import enqueue_on_commit
from hearth.places.models import Dwelling, Place, PlaceKind
from hearth.places.tree import ancestor_paths, subtree_q
from hearth.registry import identity, names
from hearth.registry.codes import DocumentType
from hearth.registry.models import EventKind, EventSource, LifeEvent, Person

from . import fields as F
from . import writer
from .models import ImportJob, JobStatus, SourceMapping

NEW, CHANGED, UNCHANGED, DUPLICATE, REJECTED = "new", "changed", "unchanged", "duplicate", "rejected"
OUTCOMES = (NEW, CHANGED, UNCHANGED, DUPLICATE, REJECTED)
REQUIRED_FIELDS = ("name", "id_number")
MAX_PROBLEMS_KEPT = 20_000  # rows' problems kept on the job (the error workbook lists them all)
SAMPLES_PER_OUTCOME = 10
CHUNK = 2_000  # rows per progress step and per lookup query
_RESIDENT = DocumentType.RESIDENT_ID
# The fields a row may change on an existing person; an empty cell never erases what the registry holds.
UPDATABLE = ("name", "sex", "birth_date", "ethnicity", "hukou_code", "phone", "marital_status", "education",
             "occupation", "dwelling_id")  # fmt: skip


def _require(actor) -> None:
    if not (actor.can(Perm.PERSON_IMPORT) and actor.can(Perm.PERSON_CREATE)):
        raise DomainError("permission.denied", _("您没有批量导入人员的权限。"))


def field_labels() -> dict[str, str]:
    """{field: its proper Chinese header}, for the mapping page and messages."""
    return {f: names_[0] for f, names_ in F.PERSON_SYNONYMS.items()}


@functools.cache
def _labels() -> dict[str, str]:
    return field_labels()  # read-only: each message of a row's problems looks its column up here


# ------------------------------------------------------------------------------------------- upload


def check_place(actor, place: Place | None, *, prefix: str = "import", missing: str = "") -> Place:
    """The place an upload goes to: given, in the actor's scope, a sub-district or below."""
    if place is None:
        raise DomainError(f"{prefix}.place_required", missing or _("请选择导入到哪个社区。"), "place")
    if not place.path.startswith(actor.scope_path or "\x00"):
        raise DomainError(f"{prefix}.place_scope", _("所选地区不在您的管辖范围内。"), "place")
    if place.kind in {PlaceKind.CITY, PlaceKind.DISTRICT}:
        raise DomainError(f"{prefix}.place_level", _("请选择街道、社区或其下级地区。"), "place")
    return place


def suggest_mapping(header: list[str], source: str) -> dict[str, int]:
    """The source's saved mapping where its headers are present, then the usual synonyms for the rest."""
    normalised = [normalize_header(h).casefold() for h in header]
    mapping: dict[str, int] = {}
    saved = SourceMapping.objects.filter(source=source).first() if source else None
    if saved is not None:
        for text, fld in saved.headers.items():
            if fld in F.PERSON_SYNONYMS and text in normalised and fld not in mapping:
                mapping[fld] = normalised.index(text)
    lookup = {normalize_header(n).casefold(): f for f, ns in F.PERSON_SYNONYMS.items() for n in ns}
    used = set(mapping.values())
    for index, text in enumerate(normalised):
        fld = lookup.get(text) or lookup.get(text.rstrip("*"))
        if fld and fld not in mapping and index not in used:
            mapping[fld] = index
            used.add(index)
    return mapping


def import_upload(
    *, actor, data: bytes, filename: str, source: str, place: Place | None, keep_unverified: bool = False
) -> ImportJob:
    """Stage an uploaded file, find its header and suggest the column mapping; nothing is imported yet."""
    _require(actor)
    errors: list[DomainError] = []
    source = (source or "").strip()
    if not source:
        errors.append(
            DomainError("import.source_required", _("请填写数据来源（如“祥和社区台账”）。"), "source")
        )
    elif len(source) > 60:
        errors.append(DomainError("import.source_length", _("数据来源不能超过60个字。"), "source"))
    try:
        place = check_place(actor, place)
    except DomainError as exc:
        errors.append(exc)
    table = None
    try:
        table = read_table(data, filename, header_synonyms=F.PERSON_SYNONYMS)
    except DomainError as exc:
        errors.append(exc)
    DomainErrors.raise_if_any(errors)
    digest = hashlib.sha256(data).hexdigest()
    token = stage_upload(data, owner_id=actor.user.pk, meta={"filename": filename, "sha256": digest})
    header = list(getattr(table, "header_cells", None) or table.header)
    job = ImportJob.objects.create(
        place=place,
        created_by=actor.grant,
        source=source,
        filename=(filename or "")[:200],
        file_sha256=digest,
        file_size=len(data),
        token=token,
        header=header,
        header_row=table.header_number,
        mapping=suggest_mapping(table.header, source),
        keep_unverified=bool(keep_unverified),
        progress_total=len(table.rows),
    )
    audit.record(
        actor=actor,
        action="import.upload",
        target=job,
        row_count=len(table.rows),
        data={"file_sha256": digest, "filename": job.filename, "bytes": len(data), "source": source},
    )
    return job


def import_set_mapping(
    *, actor, job: ImportJob, mapping: dict[str, int | None], save_for_source: bool
) -> None:
    """Confirm or correct which column holds which field; optionally remember it for the source."""
    _require(actor)
    if job.status not in (JobStatus.UPLOADED, JobStatus.CHECKED, JobStatus.FAILED):
        raise DomainError("import.state", _("该导入任务正在进行或已经结束，不能再修改表头对应。"))
    labels = field_labels()
    clean: dict[str, int] = {}
    errors: list[DomainError] = []
    seen: dict[int, str] = {}
    for fld, index in mapping.items():
        if fld not in labels or index is None or index == "":
            continue
        index = int(index)
        if not 0 <= index < len(job.header):
            errors.append(
                DomainError("import.mapping_column", _("“%(f)s”对应的列不存在。") % {"f": labels[fld]}, fld)
            )
            continue
        if index in seen:
            errors.append(
                DomainError(
                    "import.mapping_twice",
                    _("第%(n)d列同时对应了“%(a)s”和“%(b)s”。")
                    % {"n": index + 1, "a": labels[seen[index]], "b": labels[fld]},
                    fld,
                )
            )
            continue
        seen[index] = fld
        clean[fld] = index
    for fld in REQUIRED_FIELDS:
        if fld not in clean:
            errors.append(
                DomainError("import.mapping_required", _("请指定“%(f)s”所在的列。") % {"f": labels[fld]}, fld)
            )
    DomainErrors.raise_if_any(errors)
    job.mapping = clean
    job.status = JobStatus.UPLOADED
    job.save(update_fields=["mapping", "status", "updated_at"])
    if save_for_source:
        headers = {normalize_header(job.header[i]).casefold(): fld for fld, i in clean.items()}
        SourceMapping.objects.update_or_create(
            source=job.source, defaults={"headers": headers, "saved_by": actor.grant}
        )
    audit.record(
        actor=actor, action="import.mapping", target=job, data={"mapping": clean, "saved": save_for_source}
    )


def import_start(*, actor, job: ImportJob, commit: bool, enqueue: bool = True) -> None:
    """Queue the dry run (or, after a dry run, the commit) for the tasks worker. Two clicks start one run.
    `enqueue=False`: the caller runs `run_job` itself (the CLI)."""
    _require(actor)
    before = (JobStatus.CHECKED,) if commit else (JobStatus.UPLOADED, JobStatus.CHECKED, JobStatus.FAILED)
    after = JobStatus.COMMITTING if commit else JobStatus.CHECKING
    if not job.mapping:
        raise DomainError("import.mapping_required", _("请先确认表头对应。"))
    started = (
        ImportJob.objects.for_system()
        .filter(pk=job.pk, status__in=before)
        .update(
            status=after, stage="", progress_done=0, cancel_requested=False, message="", updated_at=time.now()
        )
    )
    if not started:
        raise DomainError("import.state", _("该导入任务正在进行或已经结束。"))
    job.status = after
    audit.record(actor=actor, action="import.commit_start" if commit else "import.check_start", target=job)
    if enqueue:
        from .tasks import run_import

        enqueue_on_commit(run_import, job_id=job.pk, commit=commit)


def import_cancel(*, actor, job: ImportJob) -> None:
    """Stop a job: a running one stops at its next step (before it writes anything); a waiting one at once."""
    _require(actor)
    if job.status in (JobStatus.CHECKING, JobStatus.COMMITTING):
        ImportJob.objects.for_system().filter(pk=job.pk).update(cancel_requested=True, updated_at=time.now())
    elif job.status in (JobStatus.UPLOADED, JobStatus.CHECKED, JobStatus.FAILED):
        ImportJob.objects.for_system().filter(pk=job.pk).update(
            status=JobStatus.CANCELLED, updated_at=time.now()
        )
        discard_staged(job.token)
    else:
        raise DomainError("import.state", _("该导入任务已经结束，无法取消。"))
    audit.record(actor=actor, action="import.cancel", target=job)


# --------------------------------------------------------------------------------------- rows


@dataclass
class RowResult:
    number: int  # the row number in the sheet
    outcome: str = ""
    problems: list[str] = field(default_factory=list)
    values: dict = field(default_factory=dict)  # cleaned fields (dwelling_id, not the dwelling)
    number_id: str = ""  # the normalised ID number (never stored on the job)
    index: str = ""  # its blind index
    unverified: bool = False
    person: dict | None = None  # the matched registry row, as values()
    changes: dict = field(default_factory=dict)  # {field: new value}
    duplicate_of: int | None = None


class Cancelled(Exception):
    pass


class _Dwellings:
    """Written addresses → dwellings below the job's place, by `fields.address_key`.

    Each dwelling is known by its whole address (祥和社区3号楼2单元501室) and by the part after its
    community's name (3号楼2单元501室); a short form shared by two communities is ambiguous and not used.
    """

    def __init__(self, place: Place):
        communities = [
            F.address_key(p.name)
            for p in Place.objects.filter(
                Q(subtree_q("path", place.path)) | Q(path__in=ancestor_paths(place.path)),
                kind=PlaceKind.COMMUNITY,
            )
        ]
        self.keys: dict[str, tuple[int, str] | None] = {}
        self.found: dict[str, tuple[int, str] | None] = {}  # written address → answer: addresses repeat
        rows = Dwelling.objects.filter(subtree_q("place__path", place.path)).values_list(
            "id", "full_address", "address", "place__path"
        )
        for pk, full, address, path in rows:
            key = F.address_key(full or address)
            self.keys[key] = (pk, path)
            for c in communities:
                if c and key.startswith(c) and len(key) > len(c):
                    short = key[len(c) :]
                    self.keys[short] = (
                        None if short in self.keys and self.keys[short] != (pk, path) else (pk, path)
                    )

    def find(self, raw: str) -> tuple[int, str] | None:
        try:
            return self.found[raw]
        except KeyError:
            found = self.found[raw] = self.keys.get(F.address_key(raw))
            return found


def _per_value(fn: Callable) -> Callable:
    """`fn`, remembering its answer per cell text (and ID-derived argument): these columns hold a few values
    over and over. Only answers are kept; a refused value is checked again, so its message is always fresh."""
    return functools.lru_cache(maxsize=4096)(fn)


_clean_sex = _per_value(F.clean_sex)
# (cell, field, cleaning): the optional columns; an empty cell leaves the field to the model's default.
_OPTIONAL = (
    ("ethnicity", "ethnicity", _per_value(F.clean_ethnicity)),
    ("hukou", "hukou_code", _per_value(F.clean_hukou)),
    ("marital_status", "marital_status", _per_value(F.clean_marital)),
    ("education", "education", _per_value(F.clean_education)),
    ("phone", "phone", F.clean_phone),  # mostly distinct: clean_phone has a fast path of its own
)


def _clean_row(
    cells: Callable[[str], str], r: RowResult, keep_unverified: bool, dwellings: _Dwellings
) -> None:
    """Fill r.values from the row's cells; every problem becomes a message naming its column."""
    problems: list[DomainError] = []
    v = r.values
    parsed = None
    raw_id = cells("id_number")
    if not raw_id:
        problems.append(DomainError("import.id_required", _("缺少身份证号码。"), "id_number"))
    else:
        try:
            parsed = citizen_id.parse(raw_id)
            r.number_id = parsed.number
        except DomainError as exc:
            if keep_unverified and exc.code not in {"id.spreadsheet_number", "id.length"}:
                r.number_id, r.unverified = identity.lenient_normalise(raw_id), True
            else:
                problems.append(exc)
    try:
        v["name"] = F.clean_name(cells("name"))
    except DomainError as exc:
        problems.append(exc)
    try:
        v["sex"] = _clean_sex(cells("sex"), parsed.sex if parsed else None)
    except DomainError as exc:
        problems.append(exc)
    try:
        v["birth_date"] = F.clean_birth_date(cells("birth_date"), parsed.birth_date if parsed else None)
    except DomainError as exc:
        problems.append(exc)
    for name, target, fn in _OPTIONAL:
        raw = cells(name)
        if raw:
            try:
                v[target] = fn(raw)
            except DomainError as exc:
                problems.append(exc)
    occupation = cells("occupation")
    if occupation:
        if len(occupation) > 50:
            problems.append(DomainError("import.occupation", _("职业不能超过50个字。"), "occupation"))
        v["occupation"] = occupation
    notes = cells("notes")
    if notes:
        v["notes"] = notes[:500]
    address = cells("address")
    if address:
        found = dwellings.find(address)
        if found is None:
            problems.append(
                DomainError(
                    "import.address",
                    _("现住址“%(a)s”在所选地区找不到对应的房屋，请核对门牌或先登记房屋。")
                    % {"a": address[:40]},
                    "address",
                )
            )
        else:
            v["dwelling_id"], v["place_path"] = found
    r.problems = [_problem(e) for e in problems] if problems else []


def _problem(exc: DomainError) -> str:
    labels = _labels()
    label = labels.get("hukou" if exc.field == "hukou_code" else exc.field or "", "")
    return f"{label}：{exc.message}" if label else str(exc.message)


@dataclass
class Pass:
    """One pass over a file: its rows' results and the counts."""

    rows: list[RowResult]
    counts: dict[str, int]
    seconds: dict[str, float]


class _Progress:
    def __init__(self, job: ImportJob, every: int = CHUNK):
        self.job, self.every, self.last = job, every, 0

    def __call__(self, stage: str, done: int, *, force: bool = False) -> None:
        if not force and done - self.last < self.every:
            return
        self.last = done
        qs = ImportJob.objects.for_system().filter(pk=self.job.pk)
        qs.update(stage=stage, progress_done=done, updated_at=time.now())
        if qs.filter(cancel_requested=True).exists():
            raise Cancelled


def _clean_rows(
    rows,
    mapping: dict,
    keep_unverified: bool,
    dwellings: _Dwellings,
    progress: Callable | None,
    share: int = 1,
) -> list[RowResult]:
    """Clean `rows` in order; progress counts each row as `share` rows (two processes share the work)."""
    results: list[RowResult] = []
    for i, row in enumerate(rows, start=1):
        r = RowResult(number=row.number)

        def cells(name: str, get=row.get) -> str:
            return get(mapping.get(name))

        _clean_row(cells, r, keep_unverified, dwellings)
        results.append(r)
        if progress is not None:
            progress("check", i * share)
    return results


# From this many rows on, a second process cleans the second half while this one cleans the first: cleaning is
# pure Python, and while it runs the database (the other core's work in the commit) is idle.
PARALLEL_ROWS = 20_000


def _clean_part(rows, mapping: dict, keep_unverified: bool, dwellings: _Dwellings, conn) -> None:
    """In the forked process: clean the rows and send the results back pickled (it never uses the database)."""
    try:
        results = _clean_rows(rows, mapping, keep_unverified, dwellings, None)
        # As plain tuples: unpickling dataclass instances costs the parent twice as much.
        plain = [(r.number, r.problems, r.values, r.number_id, r.unverified) for r in results]
        conn.send_bytes(pickle.dumps(plain, protocol=pickle.HIGHEST_PROTOCOL))
    except BaseException:  # whatever it was, the parent cleans this half itself
        conn.send_bytes(b"")
    finally:
        conn.close()


def clean_all(
    rows: list, mapping: dict, keep_unverified: bool, dwellings: _Dwellings, progress=None
) -> list[RowResult]:
    """Every row cleaned, in order: by two processes for a large file on a machine with two cores or more."""
    if (
        len(rows) < PARALLEL_ROWS
        or (os.cpu_count() or 1) < 2
        or "fork" not in mp.get_all_start_methods()
        or mp.current_process().daemon  # a daemonic process may not start children
    ):
        return _clean_rows(rows, mapping, keep_unverified, dwellings, progress)
    half = len(rows) // 2
    ctx = mp.get_context("fork")  # the child inherits the rows and the dwellings instead of receiving them
    receive, send = ctx.Pipe(duplex=False)
    child = ctx.Process(
        target=_clean_part, args=(rows[half:], mapping, keep_unverified, dwellings, send), daemon=True
    )
    child.start()
    send.close()
    try:
        first = _clean_rows(rows[:half], mapping, keep_unverified, dwellings, progress, share=2)
        try:
            data = receive.recv_bytes()
        except EOFError:  # the child died (killed, out of memory)
            data = b""
        second = None
        if data:
            second = [
                RowResult(number=n, problems=p, values=v, number_id=i, unverified=u)
                for n, p, v, i, u in pickle.loads(data)
            ]
    finally:
        receive.close()
        if child.is_alive():
            child.kill()
        child.join()
    if second is None:
        second = _clean_rows(rows[half:], mapping, keep_unverified, dwellings, None)
    return first + second


def check_rows(job: ImportJob, table: Table, *, actor, progress: Callable | None = None) -> Pass:
    """Clean, match and classify every row of the table; writes nothing."""
    seconds: dict[str, float] = {}
    t = _clock.perf_counter()
    dwellings = _Dwellings(job.place)
    results = clean_all(list(table.rows), job.mapping, job.keep_unverified, dwellings, progress)
    seconds["validate"] = _clock.perf_counter() - t
    t = _clock.perf_counter()
    _mark_duplicates(results)
    _match(results, actor, progress)
    seconds["match"] = _clock.perf_counter() - t
    counts = dict.fromkeys(OUTCOMES, 0)
    for r in results:
        counts[r.outcome] += 1
    counts["skipped"] = len(getattr(table, "skipped", []) or [])
    return Pass(results, counts, seconds)


def _mark_duplicates(results: list[RowResult]) -> None:
    """Rows that normalise to one ID number (15 and 18 digits, a lowercase x) are imported once at most."""
    groups: dict[str, list[RowResult]] = defaultdict(list)
    for r in results:
        if r.number_id and not r.problems:
            groups[r.number_id].append(r)
    for rows in groups.values():
        if len(rows) < 2:
            continue
        first = rows[0]
        numbers = "、".join(str(x.number) for x in rows)
        if all(x.values == first.values for x in rows[1:]):
            for x in rows[1:]:
                x.outcome, x.duplicate_of = DUPLICATE, first.number
                x.problems = [_("与第%(n)d行是同一人（证件号码相同），只导入一次。") % {"n": first.number}]
        else:
            for x in rows:
                x.problems = [
                    _("第%(rows)s行的身份证号码相同但内容不一致，请核对后只保留一行。") % {"rows": numbers}
                ]


# With the keys derived from the name, so a changed person's row is whole for the update (any field of it may
# be written: the update sets the same columns for every changed person).
_MATCH_FIELDS = ("id", "public_id", "id_index", "place_path", "version", "pinyin", "initials", *UPDATABLE)


def _among(qs, column: str, values: list):
    """`qs.filter(<column>__in=values)`; on PostgreSQL as `= ANY(<one array>)`: psycopg builds the text of a query
    with thousands of placeholders slowly (20,000 dwelling ids: 1.0 s, against 0.14 s as one array)."""
    if connection.vendor != "postgresql":
        return qs.filter(**{f"{column}__in": values})
    quote = connection.ops.quote_name
    where = f"{quote(qs.model._meta.db_table)}.{quote(column)} = ANY(%s)"
    return qs.filter(RawSQL(where, [values], output_field=BooleanField()))


def _match(results: list[RowResult], actor, progress: Callable | None, *, lock: bool = False) -> None:
    pending = [r for r in results if not r.problems and not r.outcome]
    for r in pending:
        if not r.index:  # kept from the first pass when the commit matches again
            r.index = identity.index_of(_RESIDENT, r.number_id)
    scope = actor.scope_path or "\x00"
    for start in range(0, len(pending), CHUNK):
        chunk = pending[start : start + CHUNK]
        # Matching is by the blind index across the whole registry (one person per number), so the scope is
        # applied to the answer, not the query: an out-of-scope match is refused without saying where.
        qs = _among(Person.objects.for_system(), "id_index", [r.index for r in chunk])
        if lock and connection.vendor == "postgresql":
            qs = qs.select_for_update(of=("self",))
        found = {p["id_index"]: p for p in qs.order_by().values(*_MATCH_FIELDS)}
        for r in chunk:
            p = found.get(r.index)
            if p is None:
                if "dwelling_id" not in r.values:
                    r.problems = [_("现住址：新登记的人员须填写现住址。")]
                else:
                    r.outcome = NEW
                continue
            if not p["place_path"].startswith(scope):
                r.problems = [_("身份证号码：该人员已在其他地区登记，可在人员登记页申请迁移。")]
                continue
            r.person = p
            r.changes = {k: val for k, val in r.values.items() if k in UPDATABLE and p[k] != val}
            r.outcome = CHANGED if r.changes else UNCHANGED
        if progress is not None:
            progress("match", start + len(chunk), force=True)
    for r in results:
        if r.problems and not r.outcome:
            r.outcome = REJECTED


# --------------------------------------------------------------------------------------------- the run


def _table(job: ImportJob) -> tuple[bytes, Table]:
    data, _meta = load_staged(job.token, owner_id=job.created_by.user_id)
    return data, read_table(data, job.filename, header_synonyms=F.PERSON_SYNONYMS)


def _samples(rows: list[RowResult]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {k: [] for k in OUTCOMES}
    labels = field_labels()
    for r in rows:
        bucket = out[r.outcome]
        if len(bucket) >= SAMPLES_PER_OUTCOME:
            continue
        bucket.append(
            {
                "row": r.number,
                "name": r.values.get("name", ""),
                "id": citizen_id.mask(r.number_id) if r.number_id else "",
                "detail": "；".join(r.problems)
                if r.problems
                else "、".join(labels.get("address" if k == "dwelling_id" else k, k) for k in r.changes),
            }
        )
    return out


def run_job(job_id: int, *, commit: bool) -> ImportJob:
    """The tasks worker's entry: a dry run, or a commit (which checks again, inside its transaction)."""
    from hearth.accounts.actor import actor_for

    job = ImportJob.objects.for_system().select_related("place", "created_by__user").get(pk=job_id)
    actor = actor_for(job.created_by)
    progress = _Progress(job)
    seconds: dict[str, float] = {}
    try:
        # Hundreds of thousands of rows, cells and results and no cycles among them: see `collector_paused`.
        with collector_paused():
            t = _clock.perf_counter()
            _data, table = _table(job)
            seconds["read"] = _clock.perf_counter() - t
            progress("read", 0, force=True)
            if commit:
                result = _commit(job, table, actor, progress, seconds)
            else:
                result = check_rows(job, table, actor=actor, progress=progress)
                seconds.update(result.seconds)
            _finish(job, actor, result, seconds, commit=commit, sha=job.file_sha256)
    except Cancelled:
        ImportJob.objects.for_system().filter(pk=job.pk).update(
            status=JobStatus.CANCELLED,
            stage="",
            message=_("已按要求取消，未写入任何数据。"),
            updated_at=time.now(),
        )
        audit.record(actor=actor, action="import.cancelled", target=job)
    except DomainError as exc:
        ImportJob.objects.for_system().filter(pk=job.pk).update(
            status=JobStatus.FAILED, stage="", message=str(exc.message)[:300], updated_at=time.now()
        )
    job.refresh_from_db()
    return job


def _finish(job: ImportJob, actor, result: Pass, seconds: dict, *, commit: bool, sha: str) -> None:
    problems = {}
    for r in result.rows:
        # Rejected rows only: a duplicate of an imported row needs no fixing (the page's samples show it).
        if r.outcome == REJECTED and len(problems) < MAX_PROBLEMS_KEPT:
            problems[str(r.number)] = "；".join(r.problems)
    now = time.now()
    values = {
        "counts": result.counts,
        "problems": problems,
        "samples": _samples(result.rows),
        "stage_seconds": {k: round(v, 3) for k, v in seconds.items()},
        "stage": "",
        "progress_done": len(result.rows),
        "updated_at": now,
    }
    if commit:
        values.update(status=JobStatus.COMMITTED, committed_at=now, message="")
    else:
        values.update(status=JobStatus.CHECKED, checked_at=now, message="")
    ImportJob.objects.for_system().filter(pk=job.pk).update(**values)
    if not commit:
        audit.record(
            actor=actor, action="import.check", target=job, row_count=len(result.rows),
            data={"file_sha256": sha, "counts": result.counts},
        )  # fmt: skip


def _commit(job: ImportJob, table: Table, actor, progress: _Progress, seconds: dict) -> Pass:
    """Check every row again and write, all in one transaction; nothing is written if any step fails."""
    first = check_rows(job, table, actor=actor, progress=progress)  # outside the transaction: cancellable
    seconds.update(first.seconds)
    progress("write", 0, force=True)
    t = _clock.perf_counter()
    with transaction.atomic():
        # The persons found are matched again under lock: another officer may have changed one since the
        # check. New numbers are not looked up again: should someone register one in these seconds, the
        # person table's unique blind index refuses the write and nothing is kept (import.conflict below).
        for r in first.rows:
            if r.outcome in (CHANGED, UNCHANGED):
                r.outcome, r.person, r.changes = "", None, {}
        _match(first.rows, actor, None, lock=True)
        seconds["rematch"] = _clock.perf_counter() - t
        t = _clock.perf_counter()
        counts = dict.fromkeys(OUTCOMES, 0)
        for r in first.rows:
            counts[r.outcome] += 1
        counts["skipped"] = first.counts.get("skipped", 0)
        try:
            written = _write(job, actor, first.rows, seconds)
        except IntegrityError:
            # Someone registered one of these numbers in the meantime: nothing of this import is kept.
            raise DomainError(
                "import.conflict", _("导入期间有人员被他人登记，已全部撤销，请重新检查后再导入。")
            ) from None
        seconds["write"] = _clock.perf_counter() - t
        t = _clock.perf_counter()
        audit.record(
            actor=actor,
            action="import.commit",
            target=job,
            row_count=written,
            data={"file_sha256": job.file_sha256, "counts": counts, "source": job.source},
        )
        seconds["audit"] = _clock.perf_counter() - t
    # The staged file stays until it expires (a day), so the error workbook can still be downloaded.
    return Pass(first.rows, counts, first.seconds)


def _write(job: ImportJob, actor, rows: list[RowResult], seconds: dict | None = None) -> int:
    """New persons with their "registered" event, changed persons with theirs (`writer`: COPY on PostgreSQL)."""
    seconds = {} if seconds is None else seconds
    t = _clock.perf_counter()
    today = time.today()
    now = time.now()
    grant_id = actor.grant.pk
    tag = str(job.public_id)
    # In the order of the person table's largest index (place and birth date): the rows then land on
    # neighbouring pages of it (a third less server time for 85,000 rows into 1,000,000 persons, measured).
    new = sorted(
        (r for r in rows if r.outcome == NEW), key=lambda r: (r.values["place_path"], r.values["birth_date"])
    )
    changed = [r for r in rows if r.outcome == CHANGED]
    dwelling_ids = (
        {r.values["dwelling_id"] for r in new}
        | {r.changes["dwelling_id"] for r in changed if "dwelling_id" in r.changes}
        | {r.person["dwelling_id"] for r in changed if r.person["dwelling_id"]}
    )
    dwelling_public = dict(_among(Dwelling.objects, "id", list(dwelling_ids)).values_list("pk", "public_id"))

    person_row = writer.PersonRows(now)
    t = _stage(seconds, "write.lookup", t)
    # Built as the COPY sends them (`writer.Lazy`): building and the server's index work overlap.
    persons = writer.Lazy(new, lambda r: person_row(r.values, r.number_id, r.unverified))
    ids = writer.insert(Person, persons, ids=True)
    t = _stage(seconds, "write.persons", t)

    def event(person_id: int, kind: EventKind, data: dict) -> dict:
        return {
            "person_id": person_id,
            "kind": kind.value,
            "occurred_on": today,
            "source": EventSource.IMPORT.value,
            "recorded_by_id": grant_id,
            "data": {**data, "import": tag},
            "created_at": now,
            "updated_at": now,
        }

    events = [
        event(pk, EventKind.REGISTERED, {"dwelling": str(dwelling_public[r.values["dwelling_id"]])})
        for pk, r in zip(ids, new, strict=True)
    ]
    t = _stage(seconds, "write.events", t)

    updates: list[dict] = []
    for r in changed:
        row = {k: r.person[k] for k in _MATCH_FIELDS}
        diff = {}
        for k, val in r.changes.items():
            before = r.person[k]
            if k == "dwelling_id":
                diff["dwelling"] = [
                    str(dwelling_public.get(before, "")) if before else None,
                    str(dwelling_public[val]),
                ]
                row["place_path"] = r.values["place_path"]
            else:
                diff[k] = [_json(before), _json(val)]
            row[k] = val
            if k == "name":
                row["pinyin"], row["initials"] = names.pinyin_keys(val)
        row["version"] = r.person["version"] + 1
        row["updated_at"] = now
        updates.append(row)
        moved = diff.pop("dwelling", None)
        if moved:
            events.append(event(row["id"], EventKind.DWELLING_CHANGE, {"dwelling": moved}))
        if diff:
            events.append(event(row["id"], EventKind.DETAILS_CHANGE, diff))
    touched = {"version", "updated_at"} | {k for r in changed for k in r.changes}
    if "name" in touched:
        touched |= {"pinyin", "initials"}
    if "dwelling_id" in touched:
        touched.add("place_path")
    writer.update(Person, updates, sorted(touched))
    t = _stage(seconds, "write.changed", t)
    writer.insert(LifeEvent, events)
    _stage(seconds, "write.events", t)
    return len(new) + len(updates)


def _stage(seconds: dict, stage: str, since: float) -> float:
    now = _clock.perf_counter()
    seconds[stage] = seconds.get(stage, 0.0) + now - since
    return now


def _json(value):
    return value.isoformat() if isinstance(value, date) else value


# ------------------------------------------------------------------------------------ error workbook


def error_workbook(job: ImportJob) -> bytes:
    """The header and every row with a problem, as written, plus a column 问题 naming it (to fix and re-upload)."""
    import xlsxwriter

    data, _meta = load_staged(job.token, owner_id=job.created_by.user_id)
    table = read_table(data, job.filename, header_synonyms=F.PERSON_SYNONYMS)
    problems = {int(k): v for k, v in job.problems.items()}
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_numbers": False})
    bold = book.add_format({"bold": True})
    red = book.add_format({"font_color": "#b02a37"})
    sheet = book.add_worksheet(_("问题行"))
    width = max([len(job.header), *(len(r.cells) for r in table.rows)])
    for col, title in enumerate(job.header):
        sheet.write_string(0, col, title, bold)
    sheet.write_string(0, width, _("问题"), bold)
    sheet.write_string(0, width + 1, _("原行号"), bold)
    out_row = 1
    for row in table.rows:
        if row.number not in problems:
            continue
        for col, text in enumerate(row.cells):
            sheet.write_string(out_row, col, text)
        sheet.write_string(out_row, width, problems[row.number], red)
        sheet.write_number(out_row, width + 1, row.number)
        out_row += 1
    sheet.set_column(0, width - 1, 16)
    sheet.set_column(width, width, 50)
    sheet.freeze_panes(1, 0)
    book.close()
    return out.getvalue()
