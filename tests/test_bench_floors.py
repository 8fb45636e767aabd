"""The bench's floors and CPU budgets (bench/floors.py): the meter counts what was spent, and a dump
written back holds the same rows."""

import time

import pytest
from django.db import connection

from bench import floors
from hearth.registry.models import Person


def _needs_postgresql() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("binary COPY and the server's processes are PostgreSQL's")


def _busy(seconds: float) -> None:
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass


def test_cpu_meter_counts_this_process(db):
    meter = floors.CpuMeter().start()
    _busy(0.05)
    spent = meter.stop()
    assert spent["this process"] >= 0.05
    assert spent["its child processes"] >= 0


@pytest.mark.postgres
def test_cpu_meter_counts_the_postgresql_server(db):
    _needs_postgresql()
    meter = floors.CpuMeter().start()
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM generate_series(1, 3000000)")
    spent = meter.stop()
    # The server runs on this machine in the tests and CI, so its share is there.
    assert spent["PostgreSQL server"] > 0.05


def test_cpu_figures_spread_all_cpu_seconds_over_the_cores(monkeypatch):
    monkeypatch.setattr(floors.os, "cpu_count", lambda: 2)
    figures = floors.cpu_figures("x", {"a": 3.0, "b": 1.0}, 1000, "rows/s", "scale", "db")
    assert [f.value for f in figures[:2]] == [3.0, 1.0]
    assert figures[-1].value == pytest.approx(1000 / 2.0)  # 4 CPU-s on 2 cores: 2 s at best


@pytest.mark.postgres
def test_a_dump_written_back_holds_the_same_rows(world):
    _needs_postgresql()
    columns = [f.column for f in Person._meta.concrete_fields]
    data = floors._dump(Person._meta.db_table, columns)
    with connection.cursor() as cur:
        cur.execute(f"CREATE TEMP TABLE person_copy (LIKE {Person._meta.db_table})")
    assert floors._restore("person_copy", columns, data) == Person.objects.for_system().count() > 0
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT count(*) FROM person_copy c JOIN {Person._meta.db_table} p USING (id)"
            " WHERE c.id_cipher = p.id_cipher AND c.name = p.name AND c.public_id = p.public_id"
        )
        assert cur.fetchone()[0] == Person.objects.for_system().count()
