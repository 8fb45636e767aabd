"""Bench data: a city of N persons in dwellings in places, generated in bulk (a setup job, not a service path).

Shape at 1,000,000 persons: 1 city → 2 districts → 10 sub-districts each (20) → 10 communities each (200) →
10 buildings → 2–4 units → 2,000 dwellings per community, 5,000 persons per community. Smaller runs keep
5,000 persons per community and use fewer communities (at least 8: 2 districts × 2 sub-districts × 2).

The places down to the communities go through `place_create` (a few hundred rows, audited as usual);
buildings, units and dwellings are bulk inserted with explicit ids, so paths and foreign keys are known
without reading rows back. The persons, households, life events and migrant records come from the
population generator (`hearth.registry.population`), the same one `hearth demo-data` uses.
PostgreSQL loads with COPY; SQLite with executemany. Nothing holds more than a batch or two of rows in memory.
"""

import functools
import math
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.db.models import Max

from hearth.accounts.actor import Actor
from hearth.core import time
from hearth.places import tree
from hearth.places.models import Dwelling, Place, PlaceKind
from hearth.places.services import place_create
from hearth.registry import population

SYSTEM = Actor.system("bench")
FULL_PERSONS = 1_000_000
PERSONS_PER_COMMUNITY = 5_000
COMMUNITIES_PER_SUBDISTRICT = 10
BUILDINGS_PER_COMMUNITY = 10
UNITS_CYCLE = (2, 3, 4)
DOORS_PER_FLOOR = 4
PERSONS_PER_DWELLING = 2.5
BATCH = 5000

CITY = ("郑州市", "410100")
DISTRICTS = [("中原区", "410102"), ("二七区", "410103")]


@dataclass
class Shape:
    persons: int
    communities: int
    subdistricts_per_district: list[list[int]]  # per district, per sub-district: number of communities


def shape_for(persons: int) -> Shape:
    communities = max(8, round(persons / PERSONS_PER_COMMUNITY))
    communities += communities % 2
    per_district = communities // len(DISTRICTS)
    subs = max(2, math.ceil(per_district / COMMUNITIES_PER_SUBDISTRICT))
    layout = [
        [per_district // subs + (1 if i < per_district % subs else 0) for i in range(subs)] for _ in DISTRICTS
    ]
    return Shape(persons=persons, communities=communities, subdistricts_per_district=layout)


@dataclass
class CommunityBlock:
    """One community's slice of the generated rows: its dwellings are ids [first_dwelling, +dwellings)."""

    place: Place
    persons: int
    dwellings: int = 0
    first_dwelling: int = 0
    # (unit id, unit path, address prefix, dwellings)
    units: list[tuple[int, str, str, int]] = field(default_factory=list)


@dataclass
class World:
    shape: Shape
    city: Place
    districts: list[Place]
    subdistricts: list[Place]
    communities: list[CommunityBlock]
    report: population.LoadReport | None = None


def _split(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


@transaction.atomic
def build_admin_places(shape: Shape) -> World:
    """City, districts, sub-districts and communities through the real service (each one audited)."""
    city = place_create(actor=SYSTEM, kind=PlaceKind.CITY, name=CITY[0], parent=None, code=CITY[1])
    districts, subdistricts, blocks = [], [], []
    per_community = _split(shape.persons, shape.communities)
    n = 0
    for (dname, dcode), subs in zip(DISTRICTS, shape.subdistricts_per_district, strict=True):
        district = place_create(actor=SYSTEM, kind=PlaceKind.DISTRICT, name=dname, parent=city, code=dcode)
        districts.append(district)
        for s, ncomm in enumerate(subs, start=1):
            sub = place_create(
                actor=SYSTEM,
                kind=PlaceKind.SUBDISTRICT,
                name=f"第{s}街道",
                parent=district,
                code=f"{dcode}{s:03d}000",
            )
            subdistricts.append(sub)
            for c in range(1, ncomm + 1):
                community = place_create(
                    actor=SYSTEM,
                    kind=PlaceKind.COMMUNITY,
                    name=f"第{s}街道第{c}社区",
                    parent=sub,
                    code=f"{dcode}{s:03d}{c:03d}",
                )
                blocks.append(CommunityBlock(place=community, persons=per_community[n]))
                n += 1
    return World(shape=shape, city=city, districts=districts, subdistricts=subdistricts, communities=blocks)


def _next_id(model) -> int:
    return (model.objects.aggregate(m=Max("id"))["m"] or 0) + 1


def _reset_sequences(*models) -> None:
    with connection.cursor() as cur:
        for sql in connection.ops.sequence_reset_sql(no_style(), list(models)):
            cur.execute(sql)


@transaction.atomic
def build_buildings_and_units(world: World) -> int:
    """Buildings and units in bulk, with explicit ids so each path is known before the insert."""
    next_id = _next_id(Place)
    now = time.now()
    rows: list[Place] = []
    for block in world.communities:
        community = block.place
        block.dwellings = math.ceil(block.persons / PERSONS_PER_DWELLING)
        unit_specs = []
        for b in range(1, BUILDINGS_PER_COMMUNITY + 1):
            bid, next_id = next_id, next_id + 1
            bpath = community.path + tree.segment(bid)
            bname = f"{b}号楼"
            rows.append(
                Place(
                    id=bid,
                    kind=PlaceKind.BUILDING,
                    name=bname,
                    parent_id=community.pk,
                    path=bpath,
                    code=f"B{b:02d}",
                    created_at=now,
                    updated_at=now,
                )
            )
            for u in range(1, UNITS_CYCLE[(b - 1) % len(UNITS_CYCLE)] + 1):
                uid, next_id = next_id, next_id + 1
                uname = f"{u}单元"
                rows.append(
                    Place(
                        id=uid,
                        kind=PlaceKind.UNIT,
                        name=uname,
                        parent_id=bid,
                        path=bpath + tree.segment(uid),
                        code=f"U{u:02d}",
                        created_at=now,
                        updated_at=now,
                    )
                )
                unit_specs.append((uid, bpath + tree.segment(uid), community.name + bname + uname))
        for (uid, upath, prefix), count in zip(
            unit_specs, _split(block.dwellings, len(unit_specs)), strict=True
        ):
            block.units.append((uid, upath, prefix, count))
    Place.objects.bulk_create(rows, batch_size=2000)
    _reset_sequences(Place)
    return len(rows)


def _dwelling_rows(world: World, first_id: int, now) -> Iterator[tuple]:
    did = first_id
    for block in world.communities:
        block.first_dwelling = did
        for uid, _path, prefix, count in block.units:
            for k in range(count):
                floor, door = divmod(k, DOORS_PER_FLOOR)
                address = f"{floor + 1}{door + 1:02d}室"
                yield (did, now, now, uuid.uuid4(), address, prefix + address, uid)
                did += 1


DWELLING_COLUMNS = ("id", "created_at", "updated_at", "public_id", "address", "full_address", "place_id")


def _sqlite_adapter(field):
    """Each column's value as Django would store it, cheaply (the timestamps are one constant per load)."""
    if isinstance(field, models.UUIDField):
        return lambda v: v.hex
    if isinstance(field, models.DateTimeField):
        return functools.lru_cache(maxsize=4)(lambda v: field.get_db_prep_save(v, connection))
    if isinstance(field, models.DateField):
        return lambda v: v.isoformat()
    return None


def _load(model, columns: tuple[str, ...], rows: Iterator[tuple]) -> int:
    """COPY on PostgreSQL; batched executemany elsewhere. Rows are streamed, never all in memory."""
    n = 0
    table = model._meta.db_table
    if connection.vendor == "postgresql":
        with (
            connection.cursor() as cur,
            cur.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
                n += 1
        return n
    by_column = {f.column: f for f in model._meta.concrete_fields}
    fields = [by_column[c] for c in columns]
    adapters = [(i, a) for i, a in enumerate(_sqlite_adapter(f) for f in fields) if a is not None]
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('%s' for _ in columns)})"
    with connection.cursor() as cur:
        for batch in _batched(rows):
            prepared = []
            for row in batch:
                row = list(row)
                for i, adapt in adapters:
                    row[i] = adapt(row[i])
                prepared.append(row)
            cur.executemany(sql, prepared)
            n += len(prepared)
    return n


def _batched(rows: Iterator[tuple]) -> Iterator[list[tuple]]:
    batch: list[tuple] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


@transaction.atomic
def load_dwellings(world: World) -> int:
    n = _load(Dwelling, DWELLING_COLUMNS, _dwelling_rows(world, _next_id(Dwelling), time.now()))
    _reset_sequences(Dwelling)
    return n


def _homes(block: CommunityBlock):
    def homes() -> Iterator[population.Home]:
        did = block.first_dwelling
        for _uid, path, _prefix, count in block.units:
            for _k in range(count):
                yield population.Home(id=did, place_path=path)
                did += 1

    return homes


def communities(world: World) -> list[population.Community]:
    """The generator's input: each community's dwellings (ids and unit paths, as laid out above)."""
    out = []
    for block in world.communities:
        district_code = block.place.code[:6]
        out.append(
            population.Community(
                place_id=block.place.pk,
                place_path=block.place.path,
                home_area=district_code,
                persons=block.persons,
                homes=_homes(block),
                name=block.place.name,
            )
        )
    return out


def load_population(world: World, *, seed: int = 2012, workers: int | None = None) -> population.LoadReport:
    """Persons with their households, life events, migrants, landlords and tenancies (one transaction)."""
    if workers is None:  # on PostgreSQL: a generating process per core, this one writing
        workers = min(4, os.cpu_count() or 1) if connection.vendor == "postgresql" else 0
    options = population.Options(seed=seed, workers=workers)
    world.report = population.population_load(actor=SYSTEM, communities=communities(world), options=options)
    return world.report


def analyze() -> None:
    """Fresh planner statistics, as autovacuum (PostgreSQL) or a routine ANALYZE (SQLite) would give."""
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            for table in (
                "places_place",
                "places_dwelling",
                "registry_person",
                "registry_household",
                "registry_lifeevent",
                "migrants_inflowrecord",
                "migrants_landlord",
                "migrants_tenancy",
                "audit_auditentry",
            ):
                cur.execute(f"VACUUM ANALYZE {table}")
        else:
            cur.execute("ANALYZE")


def world_from_db(shape: Shape) -> World:
    """Reattach to a dataset loaded by an earlier run (--reuse): the tree as the generator laid it out."""
    city = Place.objects.get(kind=PlaceKind.CITY, name=CITY[0])
    districts = list(Place.objects.filter(parent=city).order_by("path"))
    subdistricts = list(Place.objects.filter(kind=PlaceKind.SUBDISTRICT).order_by("path"))
    communities = list(Place.objects.filter(kind=PlaceKind.COMMUNITY).order_by("path"))
    per_community = _split(shape.persons, len(communities))
    blocks = [CommunityBlock(place=c, persons=n) for c, n in zip(communities, per_community, strict=True)]
    return World(shape=shape, city=city, districts=districts, subdistricts=subdistricts, communities=blocks)
