"""`python -m bench.run --persons N`: build a bench database of N persons and print the figures table.

Database: --db-url, else DATABASE_URL (PostgreSQL), else SQLite at var/bench/bench.sqlite3. The bench
database is dropped and recreated on every run, so a PostgreSQL database name must contain "bench"
(the developer's and the test suite's databases are never touched). Exits non-zero when anything fails or
a figure's answer is wrong; slow figures never fail the run.
"""

import argparse
import os
import platform
import sqlite3
import sys
import time
import traceback
from datetime import datetime
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
BENCH_VAR = BASE_DIR / "var" / "bench"


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--persons", type=int, default=1_000_000, help="persons to generate (default 1,000,000)"
    )
    parser.add_argument("--db-url", default="", help="PostgreSQL URL; default $DATABASE_URL, else SQLite")
    parser.add_argument("--repeat", type=int, default=20, help="timed runs per read figure (default 20)")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep a database loaded by an earlier run with the same --persons",
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the figures as JSON here")
    parser.add_argument(
        "--load-only",
        action="store_true",
        help="stop after loading the dataset (setup figures only)",
    )
    parser.add_argument(
        "--only-import", action="store_true", help="after setup, run only the import figures (issue 6)"
    )
    parser.add_argument(
        "--only-link", action="store_true", help="after setup, run only the record-linkage figures (issue 6)"
    )
    parser.add_argument(
        "--only-care", action="store_true", help="after setup, run only the care figures (issue 7)"
    )
    parser.add_argument(
        "--only-registry",
        action="store_true",
        help="after setup, run only the registry's reads, searches and lists (issue 5)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="processes generating the population beside the loader (default: one per CPU on PostgreSQL, up to 4)",
    )
    args = parser.parse_args(argv)
    if args.persons < 1000:
        parser.error("--persons must be at least 1000")
    return args


def prepare_database(url: str, *, reuse: bool) -> None:
    """Drop and recreate the bench database (or keep it with --reuse), before Django connects."""
    if not url:
        path = BENCH_VAR / "bench.sqlite3"
        if not reuse:
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    import dj_database_url
    import psycopg
    from psycopg import sql

    cfg = dj_database_url.parse(url)
    if "postgresql" not in cfg["ENGINE"]:
        raise SystemExit(f"bench: only PostgreSQL or SQLite are supported, not {cfg['ENGINE']}")
    name = cfg["NAME"]
    if "bench" not in name.lower():
        raise SystemExit(
            f"bench: refusing to recreate database {name!r}; use a database whose name contains 'bench', "
            "e.g. --db-url postgres://postgres@127.0.0.1:5432/hearth_bench"
        )
    conninfo = {
        "dbname": "postgres",
        "user": cfg.get("USER") or None,
        "password": cfg.get("PASSWORD") or None,
        "host": cfg.get("HOST") or None,
        "port": cfg.get("PORT") or None,
    }
    with psycopg.connect(**{k: v for k, v in conninfo.items() if v}, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if reuse and exists:
            return
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def configure(url: str) -> None:
    os.environ["HEARTH_VAR_DIR"] = str(BENCH_VAR)  # secret key, media: beside the bench database
    os.environ["HEARTH_BENCH_DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    (BENCH_VAR / "static").mkdir(parents=True, exist_ok=True)  # STATIC_ROOT; whitenoise warns if missing
    import django

    django.setup()


def log(message: str) -> None:
    print(f"[bench] {message}", flush=True)


def run(args: argparse.Namespace, url: str) -> int:
    started = time.perf_counter()
    load_before = os.getloadavg()
    from django.core.management import call_command
    from django.db import connection

    from hearth.accounts.roles import Role
    from hearth.registry.models import Person

    from . import care, data, floors, imports, linkage, scenarios
    from .figures import Figure, Stopwatch, rate, render

    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("SELECT current_setting('server_version')")
            db = f"PostgreSQL {cur.fetchone()[0].split()[0]}"
        else:
            db = f"SQLite {sqlite3.sqlite_version}"
    log(f"{args.persons:,} persons on {db} ({connection.settings_dict['NAME']})")

    shape = data.shape_for(args.persons)
    scale = args.persons / data.FULL_PERSONS
    figures: list[Figure] = []
    setup_started = time.perf_counter()
    with Stopwatch() as sw:
        call_command("migrate", interactive=False, verbosity=0)
    log(f"migrated in {sw.seconds:.1f} s")
    migrate_s = sw.seconds

    if args.reuse and Person.objects.for_system().count() == args.persons:
        log("reusing the loaded dataset")
        world = data.world_from_db(shape)
    else:
        if Person.objects.for_system().exists():
            raise SystemExit("bench: --reuse with a dataset of another size; run without --reuse")
        with Stopwatch() as sw:
            world = data.build_admin_places(shape)
        log(f"{len(world.communities)} communities (via place_create) in {sw.seconds:.1f} s")
        admin_s = sw.seconds
        with Stopwatch() as sw:
            n_places = data.build_buildings_and_units(world)
        log(f"{n_places:,} buildings and units in {sw.seconds:.1f} s")
        places_s = admin_s + sw.seconds
        with Stopwatch() as sw:
            n_dwellings = data.load_dwellings(world)
        log(f"{n_dwellings:,} dwellings in {sw.seconds:.1f} s")
        dwellings_s = sw.seconds
        cpu = floors.CpuMeter().start()
        with Stopwatch() as sw:
            report = data.load_population(world, workers=args.workers)
        load_cpu = cpu.stop()
        n_persons = report.persons
        for line in report.lines():
            log(line)
        persons_s = sw.seconds
        if n_persons != args.persons:
            raise scenarios.BenchError(f"generated {n_persons} persons, expected {args.persons}")
        with Stopwatch() as sw:
            data.analyze()
        log(f"analyze in {sw.seconds:.1f} s")
        total_setup = time.perf_counter() - setup_started
        floor = floors.load_floor(n_persons, db=db, log=log)
        how = "COPY" if connection.vendor == "postgresql" else "executemany"
        scale_rows = f"{n_persons:,} persons"
        rows = report.rows
        detail = (
            f"{rows['households']:,} households, {rows['events']:,} events, {rows['inflow']:,} inflow, "
            f"{rows['landlords']:,} landlords"
        )
        figures += [
            Figure(
                f"setup: population generated + loaded ({how}), indexes included",
                rate(n_persons, persons_s),
                "persons/s",
                f"{scale_rows}; {detail}",
                db,
            ),
        ]
        figures += [
            Figure(f"setup: population stage: {stage}", seconds, "s", scale_rows, db)
            for stage, seconds in report.stages.items()
        ]
        figures += [
            Figure(
                f"setup: population stage in {report.workers} workers: {stage} (CPU)",
                seconds,
                "s",
                scale_rows,
                db,
            )
            for stage, seconds in report.worker_stages.items()
        ]
        figures += [
            Figure(
                f"setup: dwellings loaded ({how})",
                rate(n_dwellings, dwellings_s),
                "rows/s",
                f"{n_dwellings:,} dwellings",
                db,
            ),
            Figure(
                "setup: place tree (place_create + bulk)",
                places_s,
                "s",
                f"{n_places + 1 + len(world.districts) + len(world.subdistricts) + len(world.communities):,} places",
                db,
            ),
            Figure(
                "setup: total (migrate, places, dwellings, population, analyze)",
                total_setup,
                "s",
                scale_rows,
                db,
            ),
        ]
        figures += floors.cpu_figures("setup: population", load_cpu, n_persons, "persons/s", scale_rows, db)
        figures += floor
        log(f"setup done in {total_setup:.1f} s (migrate {migrate_s:.1f} s)")

    if args.load_only:
        elapsed = time.perf_counter() - started
        figures.append(Figure("total elapsed (this run)", elapsed, "s", f"{args.persons:,} persons", db))
        print()
        print(render(figures))
        return 0

    subs = scenarios.subjects(world)
    log("scopes: " + ", ".join(f"{s.label} {s.persons:,}" for s in subs))

    plans = {}
    only = args.only_import or args.only_link or args.only_care or args.only_registry
    if not only or args.only_registry:
        plans = _reads(figures, subs, world, args, scale, db)
    if not only or args.only_care:
        log("care worklists")
        figures += care.care_figures(subs, repeat=args.repeat, db=db, log=log)
    if not only or args.only_import:
        log("import")
        import_rows = max(1000, round(100_000 * scale))
        figures += imports.import_figures(
            subs[1], rows=import_rows, sample=min(10_000, import_rows), db=db, log=log
        )
    if not only or args.only_link:
        log("record linkage")
        # The whole city: a list as large as the registry (1,000,000 × 1,000,000 at full scale).
        city = scenarios.make_subject("city officer", Role.SUBDISTRICT_OFFICER, world.city)
        figures += linkage.link_figures(city, rows=args.persons, db=db, log=log)
    _report(figures, plans, args, started, load_before, db)
    return 0


def _reads(figures, subs, world, args, scale, db) -> dict:
    from . import scenarios

    log("scoped reads")
    figures += scenarios.scoped_reads(subs, repeat=args.repeat, db=db)
    log("person list page")
    figures += scenarios.list_page(subs, repeat=args.repeat, db=db)
    log("derived lists")
    figures += scenarios.derived_lists(subs, repeat=args.repeat, db=db)
    log("ID parsing")
    figures += scenarios.id_parsing(db=db)
    log("audit")
    records = min(5000, max(1000, round(5000 * scale)))
    seal_rows = max(5000, round(100_000 * scale))
    figures += scenarios.audit_figures(subs, records=records, seal_rows=seal_rows, db=db)
    log("subtree and plans")
    more, plans = scenarios.subtree_and_plans(world, subs, repeat=args.repeat, db=db)
    figures += more
    return plans


def _report(figures, plans, args, started, load_before, db) -> None:
    from django.db import connection

    from .figures import Figure, render, write_json

    elapsed = time.perf_counter() - started
    figures.append(Figure("total elapsed (this run)", elapsed, "s", f"{args.persons:,} persons", db))
    print()
    print(render(figures))
    print()
    for title, plan in plans.items():
        print(f"-- EXPLAIN: {title}")
        print(plan)
        print()
    print(
        f"{db} · {args.persons:,} persons · {os.cpu_count()} CPUs · Python {platform.python_version()} · "
        f"{datetime.now().astimezone():%Y-%m-%d %H:%M %Z} · total {elapsed:.1f} s · "
        f"load average {load_before[0]:.2f} at start, {os.getloadavg()[0]:.2f} at end"
    )
    meta = {
        "persons": args.persons,
        "database": db,
        "repeat": args.repeat,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "date": datetime.now().astimezone().isoformat(timespec="seconds"),
        "elapsed_s": elapsed,
        "loadavg_start": load_before,
        "loadavg_end": os.getloadavg(),
    }
    vendor = "postgresql" if connection.vendor == "postgresql" else "sqlite"
    write_json(args.json or BENCH_VAR / f"results-{vendor}-{args.persons}.json", meta, figures, plans)


def main(argv=None) -> int:
    args = parse_args(argv)
    url = args.db_url or os.environ.get("DATABASE_URL", "")
    try:
        prepare_database(url, reuse=args.reuse)
        configure(url)
        return run(args, url)
    except SystemExit:
        raise
    except Exception:
        traceback.print_exc()
        print("[bench] FAILED", file=sys.stderr, flush=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())
