"""Server-only floors (PostgreSQL): the rows the load and the import wrote, already encoded, written again by
the server alone, with no Python work at all (no generating, reading, cleaning, sealing or row building).

What is left is the database's own share of the work on this machine: no client, however fast, can finish
in less. The figures measured by the real code are read against these floors (issues 5 and 6: the load's
40,000 persons/s and the import's 15,000 rows/s). Each floor is timed inside a transaction that is rolled
back, so the loaded registry is left as it was.
"""

import os
import resource
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from django.db import connection, transaction

from hearth.imports import services as imports
from hearth.registry import population
from hearth.registry.models import LifeEvent, Person

from .figures import Figure, rate
from .scenarios import BenchError, check

_PIECE = 1 << 18  # bytes per COPY write


def _dump(table: str, columns: Iterable[str], where: str = "") -> bytes:
    """The table's rows (those matching `where`) in PostgreSQL's binary COPY format."""
    query = f"SELECT {', '.join(columns)} FROM {table}{' WHERE ' + where if where else ''} ORDER BY 1"
    out = bytearray()
    with connection.connection.cursor() as cur, cur.copy(f"COPY ({query}) TO STDOUT (FORMAT BINARY)") as cp:
        for piece in cp:
            out += piece
    return bytes(out)


def _restore(table: str, columns: Iterable[str], data: bytes) -> int:
    """COPY the dump back; the number of rows written."""
    with connection.connection.cursor() as cur:
        with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)") as cp:
            for start in range(0, len(data), _PIECE):
                cp.write(data[start : start + _PIECE])
        return cur.rowcount


def _vacuum(*models) -> None:
    """Dead rows left by a rolled-back write, removed so the next write meets the same tables."""
    with connection.cursor() as cur:
        for model in models:
            cur.execute(f"VACUUM {model._meta.db_table}")


# ------------------------------------------------------------------------------------------------- CPU


def _proc_cpu(pid: int | str, *, children: bool = False) -> tuple[int, float]:
    """(parent pid, CPU seconds) of a process from /proc: user + system, with `children` also those of its
    children that have exited and been waited for."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12]) + (int(fields[13]) + int(fields[14]) if children else 0)
    return int(fields[1]), ticks / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU seconds spent between `start()` and `stop()` by this process, by its children that have finished
    (the import's forked cleaner, the load's workers) and by the whole PostgreSQL server: every process of
    its postmaster (this connection's backend, parallel index-build workers, the WAL writer, checkpointer
    and autovacuum), those that exited included. Read from /proc, so the server's share is there only for a
    server on this machine that this user may read."""

    def __init__(self):
        self.postmaster: int | None = None
        if connection.vendor == "postgresql":
            with connection.cursor() as cur:
                cur.execute("SELECT pg_backend_pid()")
                backend = cur.fetchone()[0]
            try:
                self.postmaster = _proc_cpu(backend)[0]
            except (OSError, ValueError, IndexError):
                self.postmaster = None

    def _server(self) -> float | None:
        if self.postmaster is None:
            return None
        try:
            total = _proc_cpu(self.postmaster, children=True)[1]
        except OSError:
            return None
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                parent, seconds = _proc_cpu(entry.name, children=True)
            except (OSError, ValueError, IndexError):  # exited meanwhile
                continue
            if parent == self.postmaster:
                total += seconds
        return total

    def _now(self) -> tuple[float, float, float | None]:
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        return time.process_time(), children.ru_utime + children.ru_stime, self._server()

    def start(self) -> "CpuMeter":
        self.before = self._now()
        return self

    def stop(self) -> dict[str, float]:
        after = self._now()
        spent = {"this process": after[0] - self.before[0], "its child processes": after[1] - self.before[1]}
        if after[2] is not None and self.before[2] is not None:
            spent["PostgreSQL server"] = after[2] - self.before[2]
        return spent


def cpu_figures(
    label: str, spent: dict[str, float], work: int, unit: str, scale: str, db: str
) -> list[Figure]:
    """Each share, and the rate no schedule could beat on this machine's cores: all the CPU seconds spent,
    spread perfectly over every core."""
    cores = os.cpu_count() or 1
    total = sum(spent.values())
    figures = [Figure(f"{label} CPU: {who}", seconds, "s", scale, db) for who, seconds in spent.items()]
    figures.append(
        Figure(f"{label} CPU-bound ceiling (all CPU seconds ÷ {cores} cores)", rate(work, total / cores), unit,
               f"{scale}; {total:.1f} CPU-s", db)
    )  # fmt: skip
    return figures


# ------------------------------------------------------------------------------------------------ load


def load_floor(persons: int, *, db: str, log) -> list[Figure]:
    """The loaded tables emptied, their indexes and constraints dropped (as the load does), their rows COPYed
    back from binary dumps and the indexes and constraints rebuilt: the load minus all its Python."""
    if connection.vendor != "postgresql":
        return []
    tables = population._tables()  # the load's own tables, columns, and index handling below
    t = time.perf_counter()
    dumps = {x.name: _dump(x.name, x.columns) for x in tables}
    log(
        f"load floor: {sum(map(len, dumps.values())) / 1e6:,.0f} MB dumped in {time.perf_counter() - t:.1f} s"
    )
    names = ", ".join(dumps)
    events = LifeEvent._meta.db_table
    with transaction.atomic():
        with connection.cursor() as cur:
            # The events' append-only guard refuses TRUNCATE; this transaction is rolled back.
            cur.execute(f"ALTER TABLE {events} DISABLE TRIGGER {events}_guard_truncate")
            cur.execute(f"TRUNCATE {names} CASCADE")
        t = time.perf_counter()
        indexes = population._Indexes(tables)
        indexes.drop()
        for x in tables:
            _restore(x.name, x.columns, dumps[x.name])
        copy_s = time.perf_counter() - t
        t = time.perf_counter()
        indexes.rebuild()
        build_s = time.perf_counter() - t
        check(Person.objects.for_system().count() == persons, "load floor: persons restored")
        transaction.set_rollback(True)
    total = copy_s + build_s
    log(
        f"load floor: copy {copy_s:.1f} s, index build {build_s:.1f} s = {rate(persons, total):,.0f} persons/s"
    )
    scale = f"{persons:,} persons, the same rows pre-encoded"
    return [
        Figure("setup: server floor of the load (COPY + index build, no Python)", rate(persons, total),
               "persons/s", scale, db),
        Figure("setup: server floor stage: copy", copy_s, "s", scale, db),
        Figure("setup: server floor stage: index build", build_s, "s", scale, db),
    ]  # fmt: skip


# ---------------------------------------------------------------------------------------------- import


@dataclass
class ImportWrite:
    """What one import commit wrote, captured before its rollback: enough to write it again."""

    persons: bytes
    events: bytes
    keys: list[str]  # every blind index the commit matched: the new persons' and the existing ones'
    new: int  # persons inserted


def capture_import(person_after: int, event_after: int, existing_keys: list[str]) -> ImportWrite | None:
    """Inside the import's transaction, after its commit: the rows it inserted, as binary COPY data."""
    if connection.vendor != "postgresql":
        return None
    person_columns = [f.column for f in Person._meta.concrete_fields]
    event_columns = [f.column for f in LifeEvent._meta.concrete_fields]
    with connection.cursor() as cur:
        cur.execute(f"SELECT id_index FROM {Person._meta.db_table} WHERE id > %s", [person_after])
        new_keys = [row[0] for row in cur.fetchall()]
    return ImportWrite(
        persons=_dump(Person._meta.db_table, person_columns, f"id > {int(person_after)}"),
        events=_dump(LifeEvent._meta.db_table, event_columns, f"id > {int(event_after)}"),
        keys=new_keys + list(existing_keys),
        new=len(new_keys),
    )


def import_floor(written: ImportWrite, rows: int, *, db: str, log) -> list[Figure]:
    """The commit's server work alone: its match queries, the person and event COPYs into the indexed
    tables, and the deferred foreign-key checks. Run after the import was rolled back and its dead rows
    vacuumed away, so it meets the registry as the import did, with room already made in the indexes for
    the same keys (if anything, a floor lower than the import's own)."""
    _vacuum(Person, LifeEvent)
    quote = connection.ops.quote_name
    fields = ", ".join(quote(Person._meta.get_field(f).column) for f in imports._MATCH_FIELDS)
    seconds: dict[str, float] = {}
    with transaction.atomic():
        with connection.cursor() as cur:
            t = time.perf_counter()
            found = 0
            for start in range(0, len(written.keys), imports.CHUNK):
                chunk = written.keys[start : start + imports.CHUNK]
                cur.execute(f"SELECT {fields} FROM {Person._meta.db_table} WHERE id_index = ANY(%s)", [chunk])
                found += len(cur.fetchall())
            seconds["match queries"] = time.perf_counter() - t
            t = time.perf_counter()
            restored = _restore(
                Person._meta.db_table, [f.column for f in Person._meta.concrete_fields], written.persons
            )
            seconds["person COPY"] = time.perf_counter() - t
            t = time.perf_counter()
            _restore(
                LifeEvent._meta.db_table, [f.column for f in LifeEvent._meta.concrete_fields], written.events
            )
            seconds["event COPY"] = time.perf_counter() - t
            t = time.perf_counter()
            cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
            seconds["deferred foreign-key checks"] = time.perf_counter() - t
        transaction.set_rollback(True)
    _vacuum(Person, LifeEvent)
    if found == len(written.keys) or restored != written.new:
        raise BenchError(
            f"import floor: {found} of {len(written.keys)} keys found, {restored} of {written.new} written"
        )
    total = sum(seconds.values())
    log(f"import floor: {total:.2f} s = {rate(rows, total):,.0f} rows/s; "
        + ", ".join(f"{k} {v:.2f} s" for k, v in seconds.items()))  # fmt: skip
    scale = (
        f"{rows:,} rows into {Person.objects.for_system().count():,} persons, the commit's rows pre-encoded"
    )
    figures = [Figure("import: server floor of the commit (match, COPY, FK checks; no Python)",
                      rate(rows, total), "rows/s", scale, db)]  # fmt: skip
    figures += [Figure(f"import: server floor stage: {k}", v, "s", scale, db) for k, v in seconds.items()]
    return figures
