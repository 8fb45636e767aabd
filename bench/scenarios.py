"""The measured figures. Each goes through the real code path (selectors, services, views)."""

import re
from dataclasses import dataclass

from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from hearth.accounts.actor import Actor, actor_for
from hearth.accounts.models import Grant, User
from hearth.accounts.roles import Role
from hearth.accounts.services import grant_create
from hearth.audit import services as audit
from hearth.audit.models import AuditEntry
from hearth.core import time
from hearth.places.models import Dwelling, Place
from hearth.places.tree import subtree_q
from hearth.registry import identity, selectors
from hearth.registry.models import Person, PersonStatus
from hearth.registry.selectors import PersonFilter

from .data import World
from .figures import Figure, Stopwatch, rate, sample

SYSTEM = Actor.system("bench")


class BenchError(Exception):
    """The bench found a wrong answer (not a slow one): CI must fail."""


def check(condition: bool, message: str) -> None:
    if not condition:
        raise BenchError(message)


@dataclass
class Subject:
    label: str  # "community officer"
    user: User
    grant: Grant
    actor: object
    place: Place
    persons: int  # persons in scope, counted unscoped as the reference
    active: int  # of whom still registered (not deceased or departed): what person_search counts


def make_subject(label: str, role: str, place: Place) -> Subject:
    user, _ = User.objects.get_or_create(
        username=f"bench-{role}", defaults={"full_name": label, "is_demo": True}
    )
    if not user.is_demo:
        user.is_demo = True  # demo accounts are not held to two-factor login
        user.save(update_fields=["is_demo"])
    grant = Grant.objects.active().filter(user=user, role=role, place=place).first()
    if grant is None:
        grant = grant_create(actor=SYSTEM, user=user, role=role, place=place)
    in_scope = Person.objects.for_system().filter(subtree_q("dwelling__place__path", place.path))
    persons = in_scope.count()
    active = in_scope.filter(status=PersonStatus.ACTIVE).count()
    return Subject(label, user, grant, actor_for(grant), place, persons, active)


def subjects(world: World) -> list[Subject]:
    return [
        make_subject("community officer", Role.COMMUNITY_OFFICER, world.communities[0].place),
        make_subject("sub-district officer", Role.SUBDISTRICT_OFFICER, world.subdistricts[0]),
        make_subject("district admin", Role.DISTRICT_ADMIN, world.districts[0]),
    ]


def _persons(n: int) -> str:
    return f"{n:,} persons"


def scoped_reads(subs: list[Subject], *, repeat: int, db: str) -> list[Figure]:
    # One person inside the smallest scope, so it is visible to every subject.
    person = (
        Person.objects.for_system()
        .filter(
            subtree_q("dwelling__place__path", subs[0].place.path),
            status=PersonStatus.ACTIVE,
            id_unverified=False,
        )
        .order_by("id")
        .first()
    )
    check(person is not None, "no person in the community officer's scope")
    target = identity.reveal(person)
    figures = []
    for s in subs:
        actor, scale = s.actor, _persons(s.persons)
        rows, total = selectors.person_search(actor=actor, flt=PersonFilter(), limit=50, offset=0)
        check(total == s.active, f"{s.label}: person_search total {total} != {s.active} registered in scope")
        check(len(rows) == min(50, s.active), f"{s.label}: page has {len(rows)} rows")
        check(Person.objects.visible_to(actor).count() == s.persons, f"{s.label}: visible_to count differs")
        rows, total = selectors.person_search(
            actor=actor, flt=PersonFilter(id_number=target), limit=50, offset=0
        )
        check(total == 1 and rows[0].pk == person.pk, f"{s.label}: exact ID search found {total}")
        _, total = selectors.person_search(
            actor=actor, flt=PersonFilter(id_number=target[-4:]), limit=50, offset=0
        )
        check(total >= 1, f"{s.label}: tail search found nothing")
        _, name_hits = selectors.person_search(actor=actor, flt=PersonFilter(q="王"), limit=50, offset=0)
        check(name_hits >= 1, f"{s.label}: name search found nothing")

        initials = person.initials.split(" ")[0]
        full_pinyin = person.pinyin.split(" ")[0]
        cases = [
            ("person_search, list page 1 (count + 50 rows + audit row)", PersonFilter()),
            ('person_search, name q="王"', PersonFilter(q="王")),
            (f"person_search, full name q={person.name}", PersonFilter(q=person.name)),
            (f"person_search, pinyin initials q={initials}", PersonFilter(q=initials)),
            (f"person_search, full pinyin q={full_pinyin}", PersonFilter(q=full_pinyin)),
            ("person_search, exact ID (18)", PersonFilter(id_number=target)),
            ("person_search, ID tail (last 6)", PersonFilter(id_number=target[-6:])),
            ("person_search, ID tail (last 4)", PersonFilter(id_number=target[-4:])),
        ]
        if person.phone:
            cases.append(("person_search, phone", PersonFilter(q=person.phone)))
        for name, flt in cases:
            res = sample(
                lambda flt=flt, actor=actor: selectors.person_search(
                    actor=actor, flt=flt, limit=50, offset=0
                ),
                repeat=repeat,
            )
            figures.append(Figure(f"{s.label}: {name}", res.median, "ms", scale, db, res.p95))
        res = sample(lambda actor=actor: Person.objects.visible_to(actor).count(), repeat=repeat)
        figures.append(Figure(f"{s.label}: visible_to(actor).count()", res.median, "ms", scale, db, res.p95))
    return figures


def list_page(subs: list[Subject], *, repeat: int, db: str) -> list[Figure]:
    url = reverse("registry:person_list")
    figures = []
    for s in subs:
        client = Client()
        client.force_login(s.user)
        session = client.session
        session["grant_id"] = s.grant.pk
        session.save()

        def get(client=client, label=s.label):
            response = client.get(url)
            check(response.status_code == 200, f"{label}: person list returned {response.status_code}")
            return response

        res = sample(get, repeat=repeat)
        with CaptureQueriesContext(connection) as queries:
            response = get()
        check(
            f"{s.active:,}".replace(",", "") in response.content.decode().replace(",", ""), "total not shown"
        )
        figures.append(
            Figure(f"{s.label}: GET person list page", res.median, "ms", _persons(s.persons), db, res.p95)
        )
        figures.append(
            Figure(f"{s.label}: SQL queries per list page", len(queries), "queries", "1 request", db)
        )
    return figures


def audit_figures(subs: list[Subject], *, records: int, seal_rows: int, db: str) -> list[Figure]:
    actor = subs[0].actor
    person = (
        Person.objects.for_system()
        .select_related("dwelling__place")
        .filter(subtree_q("dwelling__place__path", subs[0].place.path))
        .first()
    )
    figures = []

    def one():
        with transaction.atomic():
            audit.record(actor=actor, action="person.view", target=person, data={"bench": True})

    one()
    with Stopwatch() as sw:
        for _ in range(records):
            one()
    figures.append(
        Figure(
            "audit.record(), one transaction each",
            rate(records, sw.seconds),
            "rows/s",
            f"{records:,} rows",
            db,
        )
    )

    audit.seal_pending()  # whatever the earlier figures logged, so the timed run seals exactly seal_rows
    now = time.now()
    template = dict(
        actor_user_id=subs[0].user.pk,
        actor_username=subs[0].user.username,
        grant_id=subs[0].grant.pk,
        role=subs[0].grant.role,
        via="session",
        action="person.list",
        object_type="registry.person",
        place_path=subs[0].place.path,
        ip="127.0.0.1",
        row_count=50,
        data={"q": "王"},
    )
    for start in range(0, seal_rows, 5000):
        n = min(5000, seal_rows - start)
        AuditEntry.objects.bulk_create([AuditEntry(at=now, **template) for _ in range(n)])
    with Stopwatch() as sw:
        sealed = audit.seal_pending()
    check(sealed == seal_rows, f"seal_pending sealed {sealed}, expected {seal_rows}")
    figures.append(Figure("audit seal_pending()", rate(sealed, sw.seconds), "rows/s", f"{sealed:,} rows", db))

    with Stopwatch() as sw:
        result = audit.verify_chain()
    check(result.ok, f"verify_chain failed at seq {result.broken_seq}: {result.problem}")
    figures.append(
        Figure(
            "audit verify_chain()", rate(result.checked, sw.seconds), "rows/s", f"{result.checked:,} rows", db
        )
    )
    return figures


def _path_indexes() -> set[str]:
    """Names of the indexes leading with a scope path: places_place.path and registry_person.place_path
    (persons carry their dwelling's place path, so a scope is one range on their own table)."""
    leading = {"places_place": "path", "registry_person": "place_path"}
    names = set()
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute(
                "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s)",
                [list(leading)],
            )
            for table, name, ddl in cur.fetchall():
                if re.search(rf"\(\s*{leading[table]}\b", ddl):
                    names.add(name)
            return names
        for table, column in leading.items():
            cur.execute(f"PRAGMA index_list('{table}')")
            for row in cur.fetchall():
                cur.execute(f"PRAGMA index_info('{row[1]}')")
                columns = [r[2] for r in cur.fetchall()]
                if columns and columns[0] == column:
                    names.add(row[1])
        return names


def _index_verdict(plans: list[str]) -> str:
    """'yes (index)' when a plan reads the scope through a path index, else how it reads the tables."""
    used = sorted(i for i in _path_indexes() if any(re.search(rf"\b{i}\b", p) for p in plans))
    if used:
        return f"yes ({', '.join(used)})"
    tables = r"(?:places_place|registry_person)"
    scans = {m.group(0).strip() for p in plans for m in re.finditer(rf"[^>\n]*\bon {tables}\b[^\n(]*", p)}
    scans |= {m.group(0) for p in plans for m in re.finditer(rf"(SCAN|SEARCH) {tables}\b[^\n]*", p)}
    return "no: " + "; ".join(sorted(scans)) if scans else "no"


def _explain(run) -> str:
    """The plan of the one query `run()` sends, exactly as Django sent it (EXPLAIN ANALYZE on PostgreSQL)."""
    with CaptureQueriesContext(connection) as queries:
        run()
    check(len(queries) == 1, f"expected one query to explain, got {len(queries)}")
    sql = queries[0]["sql"]
    prefix = "EXPLAIN (ANALYZE) " if connection.vendor == "postgresql" else "EXPLAIN QUERY PLAN "
    with connection.cursor() as cur:
        cur.execute(prefix + sql)
        rows = cur.fetchall()
    if connection.vendor == "postgresql":
        return "\n".join(r[0] for r in rows)
    return "\n".join(str(r[3]) for r in rows)  # rows are (id, parent, notused, detail)


def subtree_and_plans(world: World, subs: list[Subject], *, repeat: int, db: str):
    sub = world.subdistricts[0]
    places = Place.objects.subtree(sub)
    dwellings = Dwelling.objects.filter(subtree_q("place__path", sub.path))
    n_places, n_dwellings = places.count(), dwellings.count()
    figures = []
    res = sample(lambda: Place.objects.subtree(sub).count(), repeat=repeat)
    figures.append(
        Figure(
            "Place.objects.subtree(sub-district).count()",
            res.median,
            "ms",
            f"{n_places:,} places",
            db,
            res.p95,
        )
    )
    res = sample(lambda: Dwelling.objects.filter(subtree_q("place__path", sub.path)).count(), repeat=repeat)
    figures.append(
        Figure(
            "Dwelling count in sub-district subtree",
            res.median,
            "ms",
            f"{n_dwellings:,} dwellings",
            db,
            res.p95,
        )
    )

    community, officer, district = subs
    plans = {
        "community officer: person_search page query (order by name, id limit 50)": _explain(
            lambda: list(selectors.persons_visible(community.actor).order_by("name", "id")[:50])
        ),
        "community officer: Person.objects.visible_to(actor).count()": _explain(
            lambda: Person.objects.visible_to(community.actor).count()
        ),
        'sub-district officer: name search page query (q="王", order by name, id limit 50)': _explain(
            lambda: list(
                selectors.persons_visible(officer.actor)
                .filter(name__contains="王")
                .order_by("name", "id")[:50]
            )
        ),
        "district admin: person_search page query (order by name, id limit 50)": _explain(
            lambda: list(selectors.persons_visible(district.actor).order_by("name", "id")[:50])
        ),
        "district admin: Person.objects.visible_to(actor).count()": _explain(
            lambda: Person.objects.visible_to(district.actor).count()
        ),
    }
    figures.append(
        Figure(
            "community officer scope: a path index used? (EXPLAIN)",
            _index_verdict(list(plans.values())[:2]),
            "",
            _persons(community.persons),
            db,
        )
    )
    return figures, plans


def derived_lists(subs: list[Subject], *, repeat: int, db: str) -> list[Figure]:
    """Each derived list (condition language → one query) for each subject: count + first page + audit row."""
    from hearth.core import time as hearth_time
    from hearth.registry.lists import list_members
    from hearth.registry.models import ListDefinition

    today = hearth_time.today()
    figures = []
    for s in subs:
        for definition in ListDefinition.objects.filter(active=True).order_by("code"):
            _rows, total = list_members(actor=s.actor, definition=definition, as_of=today, limit=50, offset=0)
            res = sample(
                lambda d=definition, actor=s.actor: list_members(
                    actor=actor, definition=d, as_of=today, limit=50, offset=0
                ),
                repeat=max(3, repeat // 4),
            )
            figures.append(
                Figure(
                    f"{s.label}: derived list {definition.code} ({total:,} persons)",
                    res.median,
                    "ms",
                    _persons(s.persons),
                    db,
                    res.p95,
                )
            )
    return figures


def id_parsing(*, db: str, n: int = 200_000) -> list[Figure]:
    """citizen_id.parse over generated valid numbers (normalise, date, check digit): IDs per second."""
    import datetime

    from hearth.core import citizen_id

    numbers = [
        citizen_id.make("410103", datetime.date(1940, 1, 1) + datetime.timedelta(days=i % 30000), i % 1000)
        for i in range(n)
    ]
    parse = citizen_id.parse
    best = 0.0
    for _ in range(3):
        with Stopwatch() as sw:
            for number in numbers:
                parse(number)
        best = max(best, rate(n, sw.seconds))
    return [
        Figure("citizen_id.parse (validate + normalise)", round(best), "IDs/s", f"{n:,} IDs, best of 3", "—")
    ]
