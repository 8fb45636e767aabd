"""Matching partner departments' lists with the registry (部门名单比对, seed 001's 两漏 check), and duplicates.

The flow: upload (the import's reader and header synonyms) → confirm the columns → link, as a background
task: the rows are stored without plaintext ID numbers, both sides are extracted from the database into
DuckDB and scored by the Splink model (`engine`), and the result is written back: each row is a sure match,
a possible match for review, registered elsewhere, or not on file (漏档). Sure and accepted matches then
give contact facts to apply (phone, dwelling) and life facts (death, marriage) to confirm in bulk; matched
rows whose facts disagree with the registry are listed. Decisions on a pair are remembered by the row's
fingerprint and reused by later lists.
"""

from __future__ import annotations

import hashlib
import time as _clock
from collections.abc import Iterable
from datetime import date

from django.db import connection, transaction
from django.utils.translation import gettext as _

from hearth.accounts.roles import Perm
from hearth.audit import services as audit
from hearth.core import citizen_id, crypto, time
from hearth.core.errors import DomainError, DomainErrors
from hearth.core.phone import mask_phone, normalise_phone
from hearth.core.spreadsheet import discard_staged, load_staged, normalize_header, read_table, stage_upload
from hearth.core.tasks import enqueue_on_commit
from hearth.imports import fields as F
from hearth.imports import services as imports
from hearth.places.models import Place
from hearth.places.tree import subtree_q
from hearth.registry import identity, names
from hearth.registry import services as registry
from hearth.registry.codes import DocumentType, MaritalStatus
from hearth.registry.models import EventKind, EventSource, Person, PersonStatus

from . import engine
from .models import (
    MATCHED,
    Candidate,
    Decision,
    DuplicatePair,
    DuplicateStatus,
    FactProposal,
    LinkDecision,
    ListStatus,
    PartnerKind,
    PartnerList,
    PartnerRecord,
    ProposalStatus,
    RecordStatus,
)

# A partner list may carry the date of what it reports (death, marriage, birth).
SYNONYMS = F.PERSON_SYNONYMS | {
    "event_date": [
        "死亡日期",
        "死亡时间",
        "火化日期",
        "结婚日期",
        "登记日期",
        "婚姻登记日期",
        "事件日期",
        "出生时间",
    ],
}
REQUIRED = ("name",)
# Match weights (log2 of the odds): at or above SURE the pair is taken; from REVIEW up, an officer decides.
SURE_WEIGHT = 12.0  # probability ≥ 0.9998 at this weight
REVIEW_WEIGHT = 0.0  # probability 0.5
CANDIDATES_KEPT = 3
BATCH = 5_000
# What a list of each kind says happened, for the rows it matches.
FACT_OF_KIND = {PartnerKind.DEATH: EventKind.DEATH, PartnerKind.MARRIAGE: EventKind.MARRIAGE}


def _require(actor, *perms: str) -> None:
    for perm in (Perm.PERSON_LINK, *perms):
        if not actor.can(perm):
            raise DomainError("permission.denied", _("您没有部门名单比对的权限。"))


def field_labels() -> dict[str, str]:
    return imports.field_labels() | {"event_date": _("事件日期")}


# ------------------------------------------------------------------------------------------------ upload


def _check_place(actor, place: Place | None) -> Place:
    return imports.check_place(actor, place, prefix="link", missing=_("请选择比对范围（街道或社区）。"))


def list_upload(
    *, actor, data: bytes, filename: str, kind: str, source: str, place: Place | None
) -> PartnerList:
    """Stage a partner list and suggest its column mapping; nothing is matched yet."""
    _require(actor)
    errors: list[DomainError] = []
    source = (source or "").strip()
    if kind not in PartnerKind.values:
        errors.append(DomainError("link.kind", _("请选择名单类型。"), "kind"))
    if not source:
        errors.append(DomainError("link.source_required", _("请填写提供部门（如“幸福派出所”）。"), "source"))
    elif len(source) > 60:
        errors.append(DomainError("link.source_length", _("提供部门不能超过60个字。"), "source"))
    try:
        place = _check_place(actor, place)
    except DomainError as exc:
        errors.append(exc)
    table = None
    try:
        table = read_table(data, filename, header_synonyms=SYNONYMS)
    except DomainError as exc:
        errors.append(exc)
    DomainErrors.raise_if_any(errors)
    digest = hashlib.sha256(data).hexdigest()
    token = stage_upload(data, owner_id=actor.user.pk, meta={"filename": filename, "sha256": digest})
    header = list(getattr(table, "header_cells", None) or table.header)
    mapping = imports.suggest_mapping(table.header, source)
    for index, text in enumerate(table.header):
        taken = "event_date" in mapping or index in mapping.values()
        if not taken and normalize_header(text) in SYNONYMS["event_date"]:
            mapping["event_date"] = index
    plist = PartnerList.objects.create(
        place=place, created_by=actor.grant, kind=kind, source=source, filename=(filename or "")[:200],
        file_sha256=digest, file_size=len(data), token=token, header=header, mapping=mapping,
        progress_total=len(table.rows),
    )  # fmt: skip
    audit.record(
        actor=actor, action="link.upload", target=plist, row_count=len(table.rows),
        data={"file_sha256": digest, "filename": plist.filename, "kind": kind, "source": source},
    )  # fmt: skip
    return plist


def list_set_mapping(*, actor, plist: PartnerList, mapping: dict[str, int | None]) -> None:
    _require(actor)
    if plist.status not in (ListStatus.UPLOADED, ListStatus.FAILED):
        raise DomainError("link.state", _("该名单正在比对或已经比对，不能再修改表头对应。"))
    labels = field_labels()
    clean: dict[str, int] = {}
    errors: list[DomainError] = []
    for fld, index in mapping.items():
        if fld not in labels or index in (None, ""):
            continue
        index = int(index)
        if not 0 <= index < len(plist.header) or index in clean.values():
            errors.append(
                DomainError("link.mapping_column", _("“%(f)s”对应的列无效。") % {"f": labels[fld]}, fld)
            )
            continue
        clean[fld] = index
    for fld in REQUIRED:
        if fld not in clean:
            errors.append(
                DomainError("link.mapping_required", _("请指定“%(f)s”所在的列。") % {"f": labels[fld]}, fld)
            )
    if not {"id_number", "birth_date"} & set(clean):
        errors.append(
            DomainError("link.mapping_key", _("名单须有“身份证号码”或“出生日期”列，才能比对。"), "id_number")
        )
    DomainErrors.raise_if_any(errors)
    plist.mapping = clean
    plist.save(update_fields=["mapping", "updated_at"])
    audit.record(actor=actor, action="link.mapping", target=plist, data={"mapping": clean})


def list_start(*, actor, plist: PartnerList, enqueue: bool = True) -> None:
    """Queue the matching for the tasks worker; `enqueue=False`: the caller runs `run_link` (the CLI)."""
    _require(actor)
    started = (
        PartnerList.objects.for_system()
        .filter(pk=plist.pk, status__in=(ListStatus.UPLOADED, ListStatus.FAILED))
        .update(status=ListStatus.LINKING, stage="", progress_done=0, message="", updated_at=time.now())
    )
    if not started:
        raise DomainError("link.state", _("该名单正在比对或已经比对。"))
    plist.status = ListStatus.LINKING
    audit.record(actor=actor, action="link.start", target=plist)
    if enqueue:
        from .tasks import run_link_task

        enqueue_on_commit(run_link_task, list_id=plist.pk)


# -------------------------------------------------------------------------------------------- the rows


def fingerprint(name: str, birth: date | None, sex: str, id_index: str | None) -> str:
    """A keyed fingerprint of what identifies a row, so a decision about it can be found again."""
    text = "\x1f".join([name, birth.isoformat() if birth else "", sex, id_index or ""])
    return crypto.keyring().blind_index("link.row", text)


def _local_address(raw: str) -> str:
    """The address key from the community on (partner lists write the province … sub-district, or not)."""
    return _local_key(F.address_key(raw))


def _local_key(key: str) -> str:
    for marker in ("街道", "镇", "乡"):
        at = key.rfind(marker)
        if at >= 0 and at + len(marker) < len(key):
            return key[at + len(marker) :]
    return key


def _building(key: str) -> str:
    at = key.find("号楼")
    if at >= 0:
        return key[: at + 2]
    return key.rstrip("室").rstrip("0123456789") if key.endswith("室") else key


class Addresses:
    """Written addresses → (dwelling, its place path, local key), each distinct text worked out once."""

    def __init__(self, place: Place):
        self.dwellings = imports._Dwellings(place)
        self.seen: dict[str, tuple[int | None, str | None, str]] = {}

    def __call__(self, raw: str) -> tuple[int | None, str | None, str]:
        known = self.seen.get(raw)
        if known is None:
            key = F.address_key(raw)
            found = self.dwellings.keys.get(key)
            known = (found[0], found[1], _local_key(key)) if found else (None, None, _local_key(key))
            if len(self.seen) < 500_000:
                self.seen[raw] = known
        return known


def _record(cells, row_number: int, addresses: Addresses, base_path: str) -> PartnerRecord:
    """One row as a record; a partner's mistakes are kept as written where they can still be compared."""
    rec = PartnerRecord(row=row_number, place_path=base_path)
    try:
        rec.name = F.clean_name(cells("name"))[:50]
    except DomainError:
        rec.name = "".join(cells("name").split())[:50]
    parsed = None
    raw_id = cells("id_number")
    if raw_id:
        try:
            parsed = citizen_id.parse(raw_id)
            number = parsed.number
            rec.id_index = identity.index_of(DocumentType.RESIDENT_ID, number)
        except DomainError:
            number = identity.lenient_normalise(raw_id)
        if len(number) >= 6:
            rec.id_tail6 = identity.tail_index(number[-6:])
            rec.id_tail4 = identity.tail_index(number[-4:])
            rec.id_masked = citizen_id.mask(number)
    try:
        rec.sex = (
            F.clean_sex(cells("sex"), parsed.sex if parsed else None) if (cells("sex") or parsed) else ""
        )
    except DomainError:
        rec.sex = ""
    written = cells("birth_date")
    try:
        rec.birth_date = (
            F.clean_birth_date(written, None) if written else (parsed.birth_date if parsed else None)
        )
    except DomainError:
        rec.birth_date = parsed.birth_date if parsed else None
    event = cells("event_date")
    if event:
        try:
            rec.event_date = F.clean_birth_date(event, None)
        except DomainError:
            rec.event_date = None
    rec.address = cells("address")[:200]
    if rec.address:
        dwelling, path, rec.address_key = addresses(rec.address)
        if dwelling is not None:
            rec.dwelling_id, rec.place_path = dwelling, path
    phone = cells("phone")
    if phone:
        try:
            rec.phone = normalise_phone(phone, field="phone")
        except DomainError:
            rec.phone = ""
    rec.fingerprint = fingerprint(rec.name, rec.birth_date, rec.sex, rec.id_index)
    return rec


def store_records(plist: PartnerList, rows: Iterable[PartnerRecord]) -> int:
    """Write the list's rows (replacing any earlier attempt's): COPY on PostgreSQL, batches elsewhere."""
    PartnerRecord.objects.for_system().filter(partner_list=plist).delete()
    if connection.vendor == "postgresql":
        return _copy_records(plist, rows)
    batch: list[PartnerRecord] = []
    n = 0
    for rec in rows:
        rec.partner_list = plist
        batch.append(rec)
        if len(batch) >= BATCH:
            PartnerRecord.objects.bulk_create(batch)
            n += len(batch)
            batch = []
    PartnerRecord.objects.bulk_create(batch)
    return n + len(batch)


def _copy_records(plist: PartnerList, rows: Iterable[PartnerRecord]) -> int:
    import json

    fields = [f for f in PartnerRecord._meta.concrete_fields if not f.primary_key]
    columns = ", ".join(f.column for f in fields)
    json_fields = {f.attname for f in fields if f.get_internal_type() == "JSONField"}
    n = 0
    with (
        connection.cursor() as cur,
        cur.copy(f"COPY {PartnerRecord._meta.db_table} ({columns}) FROM STDIN") as copy,
    ):
        for rec in rows:
            rec.partner_list_id = plist.pk
            copy.write_row(
                [json.dumps(getattr(rec, f.attname)) if f.attname in json_fields else getattr(rec, f.attname)
                 for f in fields]
            )  # fmt: skip
            n += 1
    return n


def read_records(plist: PartnerList) -> list[PartnerRecord]:
    data, _meta = load_staged(plist.token, owner_id=plist.created_by.user_id)
    table = read_table(data, plist.filename, header_synonyms=SYNONYMS)
    addresses = Addresses(plist.place)
    mapping = plist.mapping
    out = []
    for row in table.rows:

        def cells(name: str, row=row) -> str:
            return row.get(mapping.get(name))

        out.append(_record(cells, row.number, addresses, plist.place.path))
    return out


# ------------------------------------------------------------------------------------------- matching


def _first(pinyin: str) -> str:
    return pinyin.split(" ", 1)[0]


def _fetch(qs, fields: tuple[str, ...]):
    """Rows of a (scoped) queryset as plain tuples: its SQL run on a cursor, without Django's per-row work."""
    sql, params = qs.values_list(*fields).query.sql_with_params()
    with connection.cursor() as cur:
        cur.execute(sql, params)
        while batch := cur.fetchmany(20_000):
            yield from batch


class _AddressKeys:
    """Local address keys of dwellings. A dwelling's full address is its place's prefix and its own address
    (places.services), so each part's key is computed once: 400,000 dwellings have ~6,000 prefixes and a few
    hundred distinct room numbers, and `address_key` costs ~60 µs a call."""

    def __init__(self):
        self.prefixes: dict[str, tuple[str, str]] = {}
        self.rooms: dict[str, str] = {}

    def __call__(self, full: str, own: str) -> tuple[str | None, str | None]:
        if not full:
            return None, None
        prefix = full[: len(full) - len(own)] if own and full.endswith(own) else full
        room = own if prefix is not full else ""
        known = self.prefixes.get(prefix)
        if known is None:
            key = _local_address(prefix)
            known = self.prefixes[prefix] = (key, _building(key) if "号楼" in key else key)
        tail = self.rooms.get(room)
        if tail is None:
            tail = self.rooms[room] = F.address_key(room) if room else ""
        key = known[0] + tail
        return key or None, (known[1] if tail else _building(key)) or None


def registry_rows(place_path: str, facts: dict | None = None, *, active_only: bool = False) -> list[tuple]:
    """The registry below a place, as engine rows. Merged records never match (their survivor does); the
    deceased and departed do for a partner list (a death list names people already recorded as dead), not
    for duplicates (`active_only`).

    `facts`, when given, receives {person id: (name, sex, birth date, phone, dwelling id)} for comparing."""
    keys = _AddressKeys()
    rows = []
    qs = Person.objects.for_system().filter(subtree_q("place_path", place_path))
    qs = qs.filter(status=PersonStatus.ACTIVE) if active_only else qs.exclude(status=PersonStatus.MERGED)
    fields = ("id", "id_index", "id_tail6", "id_tail4", "name", "pinyin", "initials", "sex", "birth_date",
              "dwelling__full_address", "dwelling__address", "phone", "dwelling_id")  # fmt: skip
    for pk, index, t6, t4, name, pinyin, initials, sex, born, full, own, phone, dwelling in _fetch(
        qs, fields
    ):
        address, building = keys(full or "", own or "")
        if isinstance(born, str):  # SQLite gives dates as text
            born = date.fromisoformat(born)
        if facts is not None:
            facts[pk] = (name, sex, born, phone, dwelling)
        rows.append(
            (
                pk, index, t6 or None, t4 or None, name, _first(pinyin), _first(initials), name[:1], sex,
                born.isoformat(), born.year, _month_day(born), address, building, phone or None,
            )
        )  # fmt: skip
    return rows


def _month_day(born: date | None) -> str | None:
    """Month and day in either order: a swapped day and month give the same key."""
    if born is None:
        return None
    a, b = sorted((born.month, born.day))
    return f"{a:02d}{b:02d}"


def _partner_row(
    pk: int, index, t6, t4, name: str, sex: str, born: date | None, phone: str, key: str
) -> tuple:
    pinyin, initials = names.pinyin_keys(name) if name else ("", "")
    return (
        pk, index, t6 or None, t4 or None, name or None, _first(pinyin) or None, _first(initials) or None,
        name[:1] or None, sex or None, born.isoformat() if born else None, born.year if born else None,
        _month_day(born), key or None, _building(key) or None, phone or None,
    )  # fmt: skip


def partner_rows(plist: PartnerList, facts: dict | None = None) -> list[tuple]:
    """The list's stored rows as engine rows; `facts` as for `registry_rows`, plus the address as written."""
    rows = []
    qs = PartnerRecord.objects.for_system().filter(partner_list=plist)
    fields = ("id", "id_index", "id_tail6", "id_tail4", "name", "sex", "birth_date", "address", "phone",
              "dwelling_id", "address_key")  # fmt: skip
    for pk, index, t6, t4, name, sex, born, address, phone, dwelling, key in _fetch(qs, fields):
        if isinstance(born, str):
            born = date.fromisoformat(born)
        if facts is not None:
            facts[pk] = (name, sex, born, phone, dwelling, address)
        rows.append(_partner_row(pk, index, t6, t4, name, sex, born, phone, key))
    return rows


def _fresh_rows(records: list[PartnerRecord], facts: dict) -> list[tuple]:
    """Rows just read from the file (not stored yet), numbered 1… for the engine."""
    rows = []
    for i, r in enumerate(records, start=1):
        facts[i] = (r.name, r.sex, r.birth_date, r.phone, r.dwelling_id, r.address)
        rows.append(
            _partner_row(
                i, r.id_index, r.id_tail6, r.id_tail4, r.name, r.sex, r.birth_date, r.phone, r.address_key
            )
        )
    return rows


class _Progress:
    def __init__(self, plist: PartnerList):
        self.plist = plist

    def __call__(self, stage: str, done: int) -> None:
        PartnerList.objects.for_system().filter(pk=self.plist.pk).update(
            stage=stage, progress_done=done, updated_at=time.now()
        )


def run_link(list_id: int) -> PartnerList:
    """The tasks worker's entry: read the rows, match them, write the result back."""
    from hearth.accounts.actor import actor_for

    plist = PartnerList.objects.for_system().select_related("place", "created_by__user").get(pk=list_id)
    actor = actor_for(plist.created_by)
    progress = _Progress(plist)
    seconds: dict[str, float] = {}
    try:
        t = _clock.perf_counter()
        fresh = None
        if plist.token:
            progress("read", 0)
            fresh = read_records(plist)
        seconds["read"] = _clock.perf_counter() - t
        # A new list is stored once, with its results (COPY); a stored one is matched again in place.
        link(plist, actor=actor, seconds=seconds, progress=progress, fresh=fresh)
        if plist.token:
            discard_staged(plist.token)
            PartnerList.objects.for_system().filter(pk=plist.pk).update(token="")
    except DomainError as exc:
        PartnerList.objects.for_system().filter(pk=plist.pk).update(
            status=ListStatus.FAILED, stage="", message=str(exc.message)[:300], updated_at=time.now()
        )
    except Exception:
        # Never left "linking" for ever: the list says it failed, the worker's log has the cause.
        PartnerList.objects.for_system().filter(pk=plist.pk).update(
            status=ListStatus.FAILED, stage="", message=_("比对失败（系统错误），请稍后重试或联系管理员。"),
            updated_at=time.now(),
        )  # fmt: skip
        raise
    plist.refresh_from_db()
    return plist


def link(
    plist: PartnerList, *, actor, seconds: dict | None = None, progress=None, fresh: list | None = None
) -> dict:
    """Match a list with the registry below its place and write the result: `fresh` rows (just read, not
    stored) are stored once with their results; without them the stored rows are matched again in place."""
    seconds = {} if seconds is None else seconds
    progress = progress or (lambda stage, done: None)
    t = _clock.perf_counter()
    progress("extract", 0)
    partner_facts: dict[int, tuple] = {}
    registry_facts: dict[int, tuple] = {}
    left = _fresh_rows(fresh, partner_facts) if fresh is not None else partner_rows(plist, partner_facts)
    right = registry_rows(plist.place.path, registry_facts)
    seconds["extract"] = _clock.perf_counter() - t
    progress("match", 0)
    n_left, n_right = len(left), len(right)
    result = engine.score(left, right, threshold_weight=REVIEW_WEIGHT - 4) if left and right else None
    del left, right
    if result is not None:
        seconds.update({f"splink_{k}": v for k, v in result.seconds.items()})
    t = _clock.perf_counter()
    progress("write", 0)
    counts = _write_back(plist, result, partner_facts, registry_facts, seconds, fresh=fresh)
    del partner_facts, registry_facts
    seconds["write_back"] = _clock.perf_counter() - t
    PartnerList.objects.for_system().filter(pk=plist.pk).update(
        status=ListStatus.LINKED, stage="", counts=counts, message="", linked_at=time.now(),
        candidate_pairs=result.candidate_pairs if result else {},
        stage_seconds={k: round(v, 3) for k, v in seconds.items()}, progress_done=n_left,
        updated_at=time.now(),
    )  # fmt: skip
    audit.record(
        actor=actor, action="link.run", target=plist, row_count=n_left,
        data={"counts": counts, "registry_rows": n_right},
    )  # fmt: skip
    return counts


def _best_pairs(result) -> dict[int, list[dict]]:
    """{record id: its candidate pairs, best first} (the engine keeps the best three of each row)."""
    if result is None or result.pairs.empty:
        return {}
    out: dict[int, list[dict]] = {}
    bf_columns = [f"bf_{k}" for k in engine.COMPARISONS]
    frame = result.pairs
    for rec, person, weight, probability, *bfs in zip(
        frame["left_id"].tolist(), frame["right_id"].tolist(), frame["match_weight"].tolist(),
        frame["match_probability"].tolist(), *(frame[c].tolist() for c in bf_columns), strict=True,
    ):  # fmt: skip
        out.setdefault(rec, []).append(
            {
                "person": person,
                "weight": weight,
                "probability": probability,
                "explanation": engine.explain(dict(zip(bf_columns, bfs, strict=True))),
            }
        )
    return out


class _Result:
    """One row's result, for the write-back (no model instance: a million of them cost seconds)."""

    __slots__ = ("disagreements", "explanation", "fingerprint", "id", "id_index", "match_probability",
                 "match_weight", "person_id", "status")  # fmt: skip

    def __init__(self, pk: int, fingerprint: str, id_index: str | None):
        self.id, self.fingerprint, self.id_index = pk, fingerprint, id_index
        self.person_id = self.match_weight = self.match_probability = None
        self.explanation: list = []
        self.disagreements: dict = {}
        self.status = RecordStatus.UNMATCHED


def _write_back(
    plist: PartnerList,
    result,
    partner_facts: dict,
    registry_facts: dict,
    seconds: dict | None = None,
    fresh: list | None = None,
) -> dict:
    seconds = {} if seconds is None else seconds
    t = _clock.perf_counter()
    pairs = _best_pairs(result)
    seconds["write_pairs"] = _clock.perf_counter() - t
    t = _clock.perf_counter()
    if fresh is not None:
        records = [_Result(i, r.fingerprint, r.id_index) for i, r in enumerate(fresh, start=1)]
    else:
        stored = PartnerRecord.objects.for_system().filter(partner_list=plist)
        records = [_Result(*row) for row in _fetch(stored, ("id", "fingerprint", "id_index"))]
    decisions: dict[tuple[str, int], str] = {}
    prints = {r.fingerprint for r in records if r.id in pairs}
    known = LinkDecision.objects.all()
    if len(prints) < 50_000:
        known = known.filter(fingerprint__in=prints)
    for fp, person_id, decision in known.values_list("fingerprint", "person_id", "decision"):
        decisions[(fp, person_id)] = decision
    updates = records
    candidates: list[Candidate] = []
    unmatched: list[_Result] = []
    for rec in records:
        options = [
            c
            for c in pairs.get(rec.id, [])
            if decisions.get((rec.fingerprint, c["person"])) != Decision.DIFFERENT
        ]
        accepted = next(
            (c for c in options if decisions.get((rec.fingerprint, c["person"])) == Decision.SAME), None
        )
        best = accepted or (options[0] if options else None)
        if best is not None and (accepted or best["weight"] >= REVIEW_WEIGHT):
            rec.person_id = best["person"]
            rec.match_weight, rec.match_probability = best["weight"], best["probability"]
            rec.explanation = best["explanation"]
            if best["person"] in registry_facts:
                rec.disagreements = disagreements(partner_facts[rec.id], registry_facts[best["person"]])
            if accepted:
                rec.status = RecordStatus.ACCEPTED
            elif best["weight"] >= SURE_WEIGHT and (
                len(options) == 1 or options[1]["weight"] < REVIEW_WEIGHT
            ):
                rec.status = RecordStatus.SURE
            else:
                rec.status = RecordStatus.POSSIBLE
                candidates += [
                    Candidate(
                        record_id=rec.id, person_id=c["person"], match_weight=c["weight"],
                        match_probability=c["probability"], explanation=c["explanation"],
                    )
                    for c in options
                    if c["weight"] >= REVIEW_WEIGHT
                ]  # fmt: skip
        else:
            unmatched.append(rec)
    seconds["write_classify"] = _clock.perf_counter() - t
    t = _clock.perf_counter()
    # Not found here: is the number registered anywhere else? Then it is not missing, only elsewhere.
    indexes = [r.id_index for r in unmatched if r.id_index]
    elsewhere: set[str] = set()
    for start in range(0, len(indexes), BATCH):
        elsewhere |= set(
            Person.objects.for_system()
            .filter(id_index__in=indexes[start : start + BATCH])
            .values_list("id_index", flat=True)
        )
    for rec in unmatched:
        if rec.id_index in elsewhere:
            rec.status = RecordStatus.ELSEWHERE
    seconds["write_elsewhere"] = _clock.perf_counter() - t
    t = _clock.perf_counter()
    with transaction.atomic():
        Candidate.objects.filter(record__partner_list=plist).delete()
        FactProposal.objects.for_system().filter(
            record__partner_list=plist, status=ProposalStatus.PROPOSED
        ).delete()
        if fresh is not None:
            for res, rec in zip(updates, fresh, strict=True):
                for attr in _RESULT_ATTRS[1:]:
                    setattr(rec, attr, getattr(res, attr))
            store_records(plist, fresh)
            # The engine numbered the rows 1…; candidates and proposals need the stored ids.
            wanted = {fresh[c.record_id - 1].row for c in candidates}
            if plist.kind in FACT_OF_KIND:
                wanted |= {fresh[r.id - 1].row for r in updates if r.status in MATCHED}
            ids = dict(
                PartnerRecord.objects.for_system()
                .filter(partner_list=plist, row__in=wanted)
                .values_list("row", "id")
            ) if len(wanted) < 50_000 else dict(
                PartnerRecord.objects.for_system().filter(partner_list=plist).values_list("row", "id")
            )  # fmt: skip
            for c in candidates:
                c.record_id = ids[fresh[c.record_id - 1].row]
            matched = (
                [ids[fresh[r.id - 1].row] for r in updates if r.status in MATCHED]
                if plist.kind in FACT_OF_KIND
                else []
            )
        else:
            _update_records(updates)
            matched = [r.id for r in updates if r.status in MATCHED]
        Candidate.objects.bulk_create(candidates, batch_size=BATCH)
        seconds["write_update"] = _clock.perf_counter() - t
        t = _clock.perf_counter()
        if plist.kind in FACT_OF_KIND:
            _propose(plist, matched)
    counts: dict[str, int] = dict.fromkeys(RecordStatus.values, 0)
    for rec in updates:
        counts[rec.status] += 1
    counts["rows"] = len(updates)
    counts["disagreements"] = sum(1 for r in updates if r.disagreements and r.status in MATCHED)
    counts["proposals"] = FactProposal.objects.for_system().filter(record__partner_list=plist).count()
    seconds["write_facts"] = _clock.perf_counter() - t
    return counts


_RESULT_FIELDS = ("status", "person", "match_weight", "match_probability", "explanation", "disagreements")


def disagreements(partner: tuple, person: tuple) -> dict:
    """{field: [registry, partner]} for what a matched row says differently (an empty cell says nothing)."""
    name, sex, born, phone, dwelling, address = partner
    p_name, p_sex, p_born, p_phone, p_dwelling = person
    diff = {}
    if name and name != p_name:
        diff["name"] = [p_name, name]
    if born and born != p_born:
        diff["birth_date"] = [p_born.isoformat(), born.isoformat()]
    if sex and sex != p_sex:
        diff["sex"] = [p_sex, sex]
    if phone and phone != p_phone:
        # The registry's number masked as lists show it; the list's own number is what the officer checks.
        diff["phone"] = [mask_phone(p_phone) if p_phone else "", phone]
    if address and dwelling != p_dwelling:
        diff["address"] = ["", address]
    return diff


_RESULT_ATTRS = (
    "id",
    "status",
    "person_id",
    "match_weight",
    "match_probability",
    "explanation",
    "disagreements",
)


def _update_records(updates: list) -> None:
    """The result of every row: on PostgreSQL through COPY into a temporary table and one UPDATE."""
    if connection.vendor != "postgresql":
        # SQLite: bulk_update's CASE per field grows with the batch; small batches keep it linear.
        rows = [PartnerRecord(**{f: getattr(r, f) for f in _RESULT_ATTRS}) for r in updates]
        PartnerRecord.objects.for_system().bulk_update(rows, _RESULT_FIELDS, batch_size=200)
        return
    import json

    with connection.cursor() as cur:
        # Two runs in one transaction (a test, a re-run) would meet the first one's table before its commit.
        cur.execute("DROP TABLE IF EXISTS pg_temp.link_result")
        cur.execute(
            "CREATE TEMP TABLE link_result (id bigint, status varchar(12), person_id bigint, "
            "match_weight double precision, match_probability double precision, explanation jsonb, "
            "disagreements jsonb) ON COMMIT DROP"
        )
        columns = "id, status, person_id, match_weight, match_probability, explanation, disagreements"
        with cur.copy(f"COPY link_result ({columns}) FROM STDIN") as copy:
            for r in updates:
                explanation = json.dumps(r.explanation, ensure_ascii=False)
                diff = json.dumps(r.disagreements, ensure_ascii=False)
                copy.write_row(
                    (r.id, r.status, r.person_id, r.match_weight, r.match_probability, explanation, diff)
                )
        table = PartnerRecord._meta.db_table
        cur.execute(
            f"UPDATE {table} AS t SET status = s.status, person_id = s.person_id, match_weight = s.match_weight, "
            "match_probability = s.match_probability, explanation = s.explanation, disagreements = s.disagreements "
            "FROM link_result s WHERE t.id = s.id"
        )


def _propose(plist: PartnerList, record_ids: list[int]) -> None:
    """The life fact a death or marriage list reports, proposed for each matched row it still applies to."""
    fact = FACT_OF_KIND.get(plist.kind)
    if fact is None:
        return
    proposals: list[FactProposal] = []
    today = time.today()
    for start in range(0, len(record_ids), BATCH):
        chunk = (
            PartnerRecord.objects.for_system()
            .filter(pk__in=record_ids[start : start + BATCH], event_date__isnull=False, event_date__lte=today)
            .select_related("person")
        )
        for rec in chunk:
            p = rec.person
            if p.status != PersonStatus.ACTIVE:
                continue
            if fact == EventKind.MARRIAGE and p.marital_status == MaritalStatus.MARRIED:
                continue
            proposals.append(FactProposal(record=rec, person_id=p.pk, kind=fact, occurred_on=rec.event_date))
    FactProposal.objects.bulk_create(proposals, batch_size=BATCH, ignore_conflicts=True)


def _facts(record: PartnerRecord) -> None:
    """After an officer's decision: the row's disagreements and proposal, against the person now chosen."""
    p = record.person
    record.disagreements = disagreements(
        (record.name, record.sex, record.birth_date, record.phone, record.dwelling_id, record.address),
        (p.name, p.sex, p.birth_date, p.phone, p.dwelling_id),
    )
    record.save(update_fields=["disagreements"])
    _propose(record.partner_list, [record.pk])


# --------------------------------------------------------------------------------------- after the match


def decide(*, actor, record: PartnerRecord, person: Person | None, decision: str) -> PartnerRecord:
    """An officer's answer on a possible match (accept one candidate, or reject one/all); remembered."""
    _require(actor, Perm.PERSON_CHANGE)
    if decision not in Decision.values:
        raise DomainError("link.decision", _("请选择“是同一人”或“不是同一人”。"), "decision")
    if record.status not in (RecordStatus.POSSIBLE, RecordStatus.ACCEPTED, RecordStatus.SURE):
        raise DomainError("link.decision_state", _("该记录无需人工确认。"))
    options = {c.person_id: c for c in record.candidates.all()}
    if record.person_id and record.person_id not in options:
        options[record.person_id] = None
    if person is None or person.pk not in options:
        raise DomainError("link.decision_person", _("所选人员不是该记录的候选人。"), "person")
    now = time.now()
    with transaction.atomic():
        LinkDecision.objects.update_or_create(
            fingerprint=record.fingerprint,
            person=person,
            defaults={"decision": decision, "decided_by": actor.grant},
        )
        if decision == Decision.SAME:
            cand = options[person.pk]
            record.status, record.person = RecordStatus.ACCEPTED, person
            if cand is not None:
                record.match_weight, record.match_probability = cand.match_weight, cand.match_probability
                record.explanation = cand.explanation
            record.candidates.exclude(person=person).delete()
        else:
            record.candidates.filter(person=person).delete()
            rest = list(record.candidates.order_by("-match_weight"))
            if rest:
                best = rest[0]
                record.status, record.person_id = RecordStatus.POSSIBLE, best.person_id
                record.match_weight, record.match_probability = best.match_weight, best.match_probability
                record.explanation = best.explanation
            else:
                record.status, record.person = RecordStatus.UNMATCHED, None
                record.match_weight = record.match_probability = None
                record.explanation = []
        record.decided_by, record.decided_at = actor.grant, now
        record.save()
        if record.status in MATCHED:
            _facts(record)
        else:
            record.proposals.filter(status=ProposalStatus.PROPOSED).delete()
        audit.record(
            actor=actor, action="link.decide", target=record.partner_list,
            data={"row": record.row, "decision": decision, "person": str(person.public_id)},
        )  # fmt: skip
    return record


def missing_row(actor, list_id, row: int) -> PartnerRecord | None:
    """A row of a list for 补登, scoped by the row's own place as the 漏档 worklist is (a community sees its rows
    of a sub-district's list); None when out of scope or unknown."""
    return (
        PartnerRecord.objects.visible_to(actor)
        .filter(partner_list__public_id=list_id, row=row)
        .select_related("partner_list", "dwelling")
        .first()
    )


def register_missing(*, actor, record: PartnerRecord, values: dict) -> Person:
    """补登: register the person of a 漏档 row, from what the officer checked at the door.

    The list kept no plaintext ID number, so the officer types it from the ID card; when the row had one,
    the typed number must give the row's blind index. The registration, the row's new status and the audit
    row commit together, and the row is locked first, so two officers on one row register one person.
    """
    _require(actor, Perm.PERSON_CREATE)
    with transaction.atomic():
        locked = (
            PartnerRecord.objects.for_system()
            .select_for_update(of=("self",))
            .select_related("partner_list")
            .get(pk=record.pk)
        )
        if locked.status != RecordStatus.UNMATCHED:
            raise DomainError("link.not_missing", _("该名单记录已处理（已补登或已匹配），请刷新页面。"))
        if locked.id_index:
            _check_typed_number(locked.id_index, values)
        plist = locked.partner_list
        person = registry.person_register(
            actor=actor, values=values, source=EventSource.PARTNER_LIST, reporter=plist.source[:100]
        )
        locked.status, locked.person = RecordStatus.REGISTERED, person
        locked.decided_by, locked.decided_at = actor.grant, time.now()
        locked.save(update_fields=["status", "person", "decided_by", "decided_at"])
        audit.record(actor=actor, action="link.register", target=plist, data={"row": locked.row})
    record.status, record.person = locked.status, person
    record.decided_by, record.decided_at = locked.decided_by, locked.decided_at
    return person


def _check_typed_number(id_index: str, values: dict) -> None:
    """The typed number against the row's blind index (normalised as the registry does)."""
    raw = (values.get("id_number") or "").strip()
    if not raw:
        raise DomainError(
            "link.id_required", _("证件号码：名单上有此人的身份证号码，请按身份证填写。"), "id_number"
        )
    id_type = values.get("id_type") or DocumentType.RESIDENT_ID
    try:
        number = identity.normalise_document(id_type, raw)
    except DomainError:
        return  # not a valid number: the registry says why, on its field
    if identity.index_of(id_type, number) != id_index:
        raise DomainError(
            "link.id_mismatch", _("证件号码：与名单上的号码不一致，请核对身份证。"), "id_number"
        )


def confirm_facts(*, actor, proposals: list[FactProposal]) -> int:
    """Record the proposed life facts as events (source: partner list), all or none."""
    _require(actor, Perm.PERSON_CHANGE)
    done = 0
    with transaction.atomic():
        for fp in proposals:
            if fp.status != ProposalStatus.PROPOSED:
                continue
            person = Person.objects.for_system().select_for_update().get(pk=fp.person_id)
            event = registry.record_event(
                actor=actor, person=person, kind=fp.kind, occurred_on=fp.occurred_on, version=None,
                source=EventSource.PARTNER_LIST, reporter=fp.record.partner_list.source[:100],
            )  # fmt: skip
            fp.status, fp.event, fp.decided_by, fp.decided_at = (
                ProposalStatus.CONFIRMED,
                event,
                actor.grant,
                time.now(),
            )
            fp.save(update_fields=["status", "event", "decided_by", "decided_at", "updated_at"])
            done += 1
        audit.record(actor=actor, action="link.facts_confirm", target=None, row_count=done)
    return done


def dismiss_facts(*, actor, proposals: list[FactProposal]) -> int:
    _require(actor, Perm.PERSON_CHANGE)
    ids = [p.pk for p in proposals if p.status == ProposalStatus.PROPOSED]
    n = (
        FactProposal.objects.for_system()
        .filter(pk__in=ids)
        .update(
            status=ProposalStatus.DISMISSED,
            decided_by=actor.grant,
            decided_at=time.now(),
            updated_at=time.now(),
        )
    )
    audit.record(actor=actor, action="link.facts_dismiss", target=None, row_count=n)
    return n


def apply_contacts(*, actor, plist: PartnerList) -> dict[str, int]:
    """Sure and accepted matches give their phone and dwelling to the registry, as events with the source."""
    _require(actor, Perm.PERSON_CHANGE)
    applied = {"phone": 0, "dwelling": 0}
    scope = actor.scope_path or "\x00"
    rows = (
        PartnerRecord.objects.for_system()
        .filter(partner_list=plist, status__in=MATCHED)
        .exclude(disagreements={})
        .select_related("person", "dwelling__place")
    )
    with transaction.atomic():
        for rec in rows:
            person = Person.objects.for_system().select_for_update().get(pk=rec.person_id)
            if not person.place_path.startswith(scope) or person.status != PersonStatus.ACTIVE:
                continue
            if "phone" in rec.disagreements and rec.phone:
                registry.person_update(
                    actor=actor, person=person, values={"phone": rec.phone}, version=person.version,
                    source=EventSource.PARTNER_LIST, reporter=plist.source[:100],
                )  # fmt: skip
                applied["phone"] += 1
            if (
                rec.dwelling_id
                and rec.dwelling_id != person.dwelling_id
                and rec.dwelling.place.path.startswith(scope)
            ):
                registry.record_event(
                    actor=actor, person=person, kind=EventKind.DWELLING_CHANGE, occurred_on=time.today(),
                    version=None, source=EventSource.PARTNER_LIST, reporter=plist.source[:100],
                    details={"dwelling": rec.dwelling},
                )  # fmt: skip
                applied["dwelling"] += 1
        audit.record(actor=actor, action="link.apply_contacts", target=plist, data=applied)
    return applied


# --------------------------------------------------------------------------------- duplicates in the registry

DUPLICATE_WEIGHT = 8.0


def find_duplicates(*, actor, place: Place) -> int:
    """Score the registry below a place against itself; new likely pairs are listed for merging."""
    _require(actor, Perm.PERSON_MERGE)
    place = _check_place(actor, place)
    rows = registry_rows(place.path, active_only=True)
    if len(rows) < 2:
        return 0
    result = engine.score(rows, None, threshold_weight=DUPLICATE_WEIGHT, keep_per_left=None)
    known = set(DuplicatePair.objects.values_list("first_id", "second_id"))
    pairs = []
    for row in result.pairs.to_dict("records"):
        a, b = sorted((int(row["left_id"]), int(row["right_id"])))
        if (a, b) in known:
            continue
        known.add((a, b))
        pairs.append(
            DuplicatePair(
                first_id=a, second_id=b, match_weight=float(row["match_weight"]),
                match_probability=float(row["match_probability"]), explanation=engine.explain(row),
            )
        )  # fmt: skip
    DuplicatePair.objects.bulk_create(pairs, batch_size=BATCH)
    audit.record(
        actor=actor, action="link.duplicates_find", target=place, row_count=len(pairs),
        data={"registry_rows": len(rows), "candidate_pairs": result.candidate_pairs},
    )  # fmt: skip
    return len(pairs)


def dismiss_duplicate(*, actor, pair: DuplicatePair) -> None:
    _require(actor, Perm.PERSON_MERGE)
    if pair.status != DuplicateStatus.OPEN:
        raise DomainError("link.duplicate_state", _("该疑似重复已处理。"))
    pair.status, pair.decided_by, pair.decided_at = DuplicateStatus.DISMISSED, actor.grant, time.now()
    pair.save(update_fields=["status", "decided_by", "decided_at", "updated_at"])
    audit.record(actor=actor, action="link.duplicate_dismiss", target=pair.first)
