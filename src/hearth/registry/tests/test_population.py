"""The population generator (demo and benchmark data): valid, consistent, encrypted, deterministic."""

import uuid
from collections import Counter
from datetime import date

import pytest
from django.db import connection

from hearth.accounts.actor import Actor
from hearth.audit.models import AuditEntry
from hearth.core import citizen_id, crypto, time
from hearth.core.errors import DomainError
from hearth.core.phone import normalise_phone
from hearth.migrants.models import InflowRecord, Landlord, OutflowRecord, Tenancy
from hearth.places.models import Dwelling, Place
from hearth.registry import identity, names, population
from hearth.registry.models import EventKind, Household, LifeEvent, Person, PersonStatus

SYSTEM = Actor.system("test population")
AS_OF = date(2026, 6, 30)


@pytest.fixture(autouse=True)
def _fresh_keyring():
    crypto.reset_keyring_cache()
    yield
    crypto.reset_keyring_cache()


def _homes(place: Place, n: int, tag: str) -> list[population.Home]:
    Dwelling.objects.bulk_create(
        Dwelling(place=place, address=f"{tag}{k:03d}室", full_address=f"{tag}{k:03d}室") for k in range(n)
    )
    return [
        population.Home(id=d.pk, place_path=place.path)
        for d in Dwelling.objects.filter(place=place, address__startswith=tag).order_by("pk")
    ]


def _communities(world, persons: int, tag: str = "G") -> list[population.Community]:
    """Two communities of the fixture world (二七区 and 中原区), their new dwellings under a unit and a building."""
    a1a, b1a = world.places["A1a"], world.places["B1a"]
    per = persons // 2
    return [
        population.Community(
            place_id=a1a.pk,
            place_path=a1a.path,
            home_area="410103",
            persons=per,
            homes=_homes(world.places["A1a-b1-u1"], per // 2 + 20, tag),
        ),
        population.Community(
            place_id=b1a.pk,
            place_path=b1a.path,
            home_area="410102",
            persons=persons - per,
            homes=_homes(b1a, (persons - per) // 2 + 20, tag),
        ),
    ]


def _load(world, persons=400, seed=7, tag="G", **kw):
    options = population.Options(seed=seed, as_of=AS_OF, **kw)
    return population.population_load(
        actor=SYSTEM, communities=_communities(world, persons, tag), options=options
    )


def _generated():
    return Person.objects.for_system().filter(events__kind=EventKind.REGISTERED, events__source="import")


@pytest.fixture
def loaded(world):
    before = Person.objects.for_system().count()
    report = _load(world)
    return world, report, before


def test_counts_and_one_audit_row(loaded):
    world, report, before = loaded
    assert report.persons == 400
    assert Person.objects.for_system().count() == before + 400
    assert report.rows["households"] == Household.objects.count()
    assert report.rows["events"] == LifeEvent.objects.filter(source="import").count()
    assert set(report.stages) >= {"generate", "pinyin", "encrypt", "copy"}
    entries = AuditEntry.objects.filter(action="population.load")
    assert entries.count() == 1
    entry = entries.get()
    assert entry.row_count == 400
    assert entry.place_path == world.places["C"].path  # the city holds both communities
    # One row per load, never one per person, and no personal values in it.
    assert not AuditEntry.objects.filter(action="person.create").exclude(at__lt=entry.at).exists()
    assert set(entry.data) == {"seed", "rows", "rebuilt_indexes"}


def test_every_number_valid_unique_encrypted_and_indexed(loaded):
    numbers = set()
    persons = list(_generated().select_related("dwelling__place"))
    assert len(persons) == 400
    unverified = 0
    for p in persons:
        number = identity.reveal(p)
        assert number not in numbers
        numbers.add(number)
        assert p.id_index == identity.index_of("resident_id", number)
        assert p.id_tail6 == identity.tail_index(number[-6:])
        assert p.id_tail4 == identity.tail_index(number[-4:])
        if p.id_unverified:
            unverified += 1
            with pytest.raises(DomainError) as exc:
                citizen_id.parse(number)
            assert exc.value.code == "id.checksum"
            continue
        parsed = citizen_id.parse(number)
        assert parsed.birth_date == p.birth_date
        assert parsed.sex == p.sex
        assert p.place_path == p.dwelling.place.path
    assert unverified < 10
    # The blind index finds one person for a number.
    p = persons[17]
    assert list(
        Person.objects.for_system().filter(id_index=identity.index_of("resident_id", identity.reveal(p)))
    ) == [p]


def test_area_codes_include_later_created_ones_and_origins(world):
    _load(world, persons=2000, seed=11)
    areas = Counter()
    late = 0
    for p in _generated():
        number = identity.reveal(p)
        areas[number[:6]] += 1
        if number[:6] == "410108" and p.birth_date.year < 1987:
            late += 1
    assert areas.most_common(1)[0][0] in {"410103", "410102"}
    assert late > 0  # 惠济区 (1987) on the ID of someone born before it existed
    assert any(code[:2] != "41" for code in areas)  # migrants from other provinces


def test_pinyin_as_the_registry_computes_it(loaded):
    for p in _generated()[:200]:
        assert (p.pinyin, p.initials) == names.pinyin_keys(p.name)


def test_pinyin_composition_matches_names_for_the_pools():
    surnames = list(population.SURNAMES)
    given = sorted({g for pool in population._GIVEN.values() for g in pool})
    for s in surnames:
        for g in given[:: max(1, len(given) // 25)]:
            assert population.pinyin_of(s, g) == names.pinyin_keys(s + g), s + g
    for g in given:
        for s in ("曾", "单", "解", "王", "乐"):
            assert population.pinyin_of(s, g) == names.pinyin_keys(s + g), s + g


def test_families_are_consistent(loaded):
    persons = {p.pk: p for p in _generated()}
    married = [p for p in persons.values() if p.status == PersonStatus.ACTIVE and p.spouse_id]
    assert married
    for p in married:
        spouse = Person.objects.for_system().get(pk=p.spouse_id)
        assert p.marital_status == "20"
        if spouse.status == PersonStatus.ACTIVE:
            assert spouse.spouse_id == p.pk
            assert spouse.sex != p.sex
    children = [p for p in persons.values() if p.mother_id or p.father_id]
    assert children
    for child in children:
        if child.mother_id:
            mother = persons[child.mother_id]
            assert mother.sex == "F"
            assert time.age_on(mother.birth_date, child.birth_date) >= 18
        if child.father_id:
            father = persons[child.father_id]
            assert father.sex == "M"
            assert father.birth_date < child.birth_date
    heads = Counter()
    for p in persons.values():
        if p.status == PersonStatus.ACTIVE:
            assert p.household_id is not None
            assert p.relation_to_head
            if p.relation_to_head == "02":
                heads[p.household_id] += 1
    assert set(heads.values()) == {1}
    assert len(heads) == Household.objects.count()
    for household in Household.objects.all():
        assert household.head_id and heads[household.pk] == 1


def test_events_follow_the_records(loaded):
    for p in _generated().prefetch_related("events"):
        kinds = Counter(e.kind for e in p.events.all())
        assert kinds[EventKind.REGISTERED] == 1
        assert all(e.source == "import" and e.occurred_on <= AS_OF for e in p.events.all())
        if p.marital_status in {"20", "30", "40"}:
            assert kinds[EventKind.MARRIAGE] == 1
        if p.marital_status == "40":
            assert kinds[EventKind.DIVORCE] == 1
        if p.marital_status == "30":
            assert kinds[EventKind.WIDOWHOOD] == 1
        if p.status == PersonStatus.DECEASED:
            death = p.events.get(kind=EventKind.DEATH)
            assert death.occurred_on == p.status_since
            assert all(e.occurred_on <= death.occurred_on for e in p.events.all())
        else:
            assert kinds[EventKind.DEATH] == 0
        if p.residence_type == "inflow":
            assert kinds[EventKind.MOVE_IN] == 1
    assert Person.objects.for_system().filter(status=PersonStatus.DECEASED).exists()
    # A birth since 2010 is recorded for the child and, as a childbirth, for the mother.
    birth = LifeEvent.objects.filter(kind=EventKind.BIRTH).select_related("person").first()
    assert birth is not None and birth.occurred_on == birth.person.birth_date
    if birth.person.mother_id:
        assert LifeEvent.objects.filter(
            person_id=birth.person.mother_id,
            kind=EventKind.CHILDBIRTH,
            data__child=str(birth.person.public_id),
        ).exists()


def test_marriage_events_can_be_corrected_as_usual(loaded):
    """The changes recorded match the person's state, so correct_event accepts a generated event."""
    from hearth.registry.services import correct_event

    p = _generated().filter(marital_status="20", spouse__isnull=False, status="active").first()
    event = p.events.get(kind=EventKind.MARRIAGE)
    assert event.data["changes"]["spouse"] == [
        None,
        str(Person.objects.for_system().get(pk=p.spouse_id).public_id),
    ]
    correct_event(actor=SYSTEM, event=event, reason="测试更正", version=p.version)
    p.refresh_from_db()
    assert p.marital_status == "10" and p.spouse_id is None


def test_migrants_landlords_and_tenancies(world):
    report = _load(world, persons=1000, seed=3)
    persons = list(_generated())
    inflow = [p for p in persons if p.residence_type == "inflow"]
    assert 0.12 <= len(inflow) / len(persons) <= 0.30
    assert InflowRecord.objects.count() == len(inflow) == report.rows["inflow"]
    assert not InflowRecord.objects.exclude(person__residence_type="inflow").exists()
    outflow = [p for p in persons if p.residence_type == "outflow"]
    assert outflow and OutflowRecord.objects.count() == len(outflow)
    record = InflowRecord.objects.select_related("person").first()
    assert record.from_region == record.person.hukou_code
    assert record.since <= AS_OF
    tenancies = list(Tenancy.objects.select_related("landlord", "dwelling__place"))
    assert tenancies
    communities = {world.places["A1a"].pk, world.places["B1a"].pk}
    for t in tenancies:
        assert t.landlord.place_id in communities
        assert t.dwelling.place.path.startswith(t.landlord.place.path)
        tenants = list(t.tenants.all())
        assert tenants and all(
            p.dwelling_id == t.dwelling_id and p.residence_type == "inflow" for p in tenants
        )
        assert t.declared_tenants >= len(tenants)
        assert t.dwelling in Landlord.objects.get(pk=t.landlord_id).dwellings.all()
    # Worklist rows: more tenants declared than registered, and landlords without the agreement.
    assert any(t.declared_tenants > t.tenants.count() for t in tenancies)
    assert Landlord.objects.filter(agreement_signed=False).exists()
    assert Landlord.objects.filter(person__isnull=False).exists()
    for landlord in Landlord.objects.filter(person__isnull=False).select_related("person"):
        assert landlord.name == landlord.person.name
    phones = [p.phone for p in persons if p.phone][:50]
    assert phones and all(normalise_phone(ph) == ph for ph in phones)


def test_age_pyramid_roughly_the_census(world):
    _load(world, persons=3000, seed=5)
    ages = [time.age_on(p.birth_date, AS_OF) for p in _generated()]
    n = len(ages)
    children = sum(a < 15 for a in ages) / n
    elderly = sum(a >= 60 for a in ages) / n
    assert 0.10 <= children <= 0.26  # 2020: 18%
    assert 0.10 <= elderly <= 0.30  # 2020: 19%
    assert max(ages) <= 100


def test_deterministic_for_a_seed(db):
    def people(seed):
        communities = [
            population.Community(
                place_id=n,
                place_path=f"{n:010d}",
                home_area="410103",
                persons=300,
                homes=[population.Home(id=n * 1000 + k, place_path=f"{n:010d}") for k in range(150)],
            )
            for n in (1, 2)
        ]
        first = dict.fromkeys(
            ("persons", "households", "events", "inflow", "outflow", "landlords", "tenancies"), 1
        )
        gen = population.Generator(
            population.Options(seed=seed, as_of=AS_OF), population._Codec("sqlite", time.now())
        )
        out = []
        for plan in population._plans(communities, first):
            for batch in gen.community(plan):
                for p in batch.persons:
                    out.append(
                        (p.id, p.surname + p.given, p.sex, p.born, p.number, p.home, p.residence, p.marital,
                         p.relation, p.spouse and p.spouse.id, p.mother and p.mother.id, p.status)
                    )  # fmt: skip
        return out

    first = people(42)
    assert len(first) == 600
    assert people(42) == first
    assert people(43) != first
    assert len({p[4] for p in first}) == 600


def test_a_second_load_gets_other_numbers(world):
    _load(world, persons=200, seed=9, tag="X")
    _load(world, persons=200, seed=9, tag="Y")  # same seed: every number is taken, so all are redrawn
    numbers = [identity.reveal(p) for p in _generated()]
    assert len(numbers) == 400 == len(set(numbers))


def test_only_the_system_loads(world):
    with pytest.raises(DomainError) as exc:
        population.population_load(
            actor=world.actor("district_admin"),
            communities=_communities(world, 10),
            options=population.Options(),
        )
    assert exc.value.code == "permission.denied"
    assert not _generated().exists()


def test_no_room_is_refused_and_nothing_written(world):
    a1a = world.places["A1a"]
    community = population.Community(
        place_id=a1a.pk, place_path=a1a.path, home_area="410103", persons=50, homes=_homes(a1a, 2, "Z")
    )
    with pytest.raises(DomainError) as exc:
        population.population_load(actor=SYSTEM, communities=[community], options=population.Options(seed=1))
    assert exc.value.code == "population.no_room"
    assert not _generated().exists()
    assert not AuditEntry.objects.filter(action="population.load").exists()


def test_sealer_is_identity_seal():
    sealer = population.Sealer()
    number = citizen_id.make("410103", date(1950, 3, 4), 7)
    uid = uuid.uuid4()
    blob, key, index, tail6, tail4 = sealer.seal(number, uid.bytes)
    p = Person(public_id=uid, id_cipher=blob, id_key=key)
    assert identity.reveal(p) == number
    reference = identity.seal("resident_id", number, uid)
    assert (key, index, tail6, tail4) == (
        reference.id_key,
        reference.id_index,
        reference.id_tail6,
        reference.id_tail4,
    )


def test_demo_tops_up_to_the_number_asked_and_no_more(db):
    from hearth.registry import demo

    actor = Actor.system("demo data")
    places = demo.build_places(actor, buildings=1)
    street = places["street"]
    report = demo.build_persons(actor, persons=300, seed=1)
    assert report.persons == 300
    assert demo.build_persons(actor, persons=300, seed=1) is None  # a second run adds nothing
    with pytest.raises(DomainError) as exc:  # every flat is lived in
        demo.build_persons(actor, persons=350, seed=1)
    assert exc.value.code == "population.no_room"
    demo.build_places(actor, buildings=2)  # as `hearth demo-data` does for a larger number
    assert demo.build_persons(actor, persons=350, seed=1).persons == 50
    persons = list(Person.objects.for_system().filter(place_path__startswith=street.path))
    assert len(persons) == 350
    numbers = {identity.reveal(p) for p in persons}
    assert len(numbers) == 350
    assert AuditEntry.objects.filter(action="population.load").count() == 2


@pytest.mark.postgres
def test_indexes_and_constraints_come_back_after_a_rebuild(world):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    tables = [t.name for t in population._tables()]

    def definitions():
        with connection.cursor() as cur:
            cur.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s)", [tables])
            indexes = set(cur.fetchall())
            cur.execute(
                "SELECT conname, pg_get_constraintdef(oid), convalidated FROM pg_constraint"
                " WHERE conrelid = ANY(%s::regclass[])",
                [tables],
            )
            return indexes, set(cur.fetchall())

    before = definitions()
    report = _load(world, persons=300, rebuild_indexes=True)
    assert report.rebuilt_indexes
    assert definitions() == before


def test_workers_produce_the_same_people_however_many(db):
    """The worker function, run here with a list for its queue: one worker or two, the same rows."""

    class Out(list):
        def put(self, item):
            self.append(item)

    communities = [
        population.Community(
            place_id=n,
            place_path=f"{n:010d}",
            home_area="410103",
            persons=120,
            homes=[population.Home(id=n * 1000 + k, place_path=f"{n:010d}") for k in range(60)],
        )
        for n in (1, 2, 3)
    ]
    first = dict.fromkeys(
        ("persons", "households", "events", "inflow", "outflow", "landlords", "tenancies"), 1
    )
    plans = population._plans(communities, first)
    codec = population._Codec(connection.vendor, time.now())
    options = population.Options(seed=8, as_of=AS_OF)
    columns = population.PERSON_COLUMNS
    keep = [
        columns.index(c) for c in ("id", "name", "sex", "birth_date", "id_index", "household_id", "mother_id")
    ]

    def persons(workers):
        rows = []
        for w in range(workers):
            out = Out()
            population._work(plans[w::workers], options, codec, None, out)
            assert [m[0] for m in out].count("done") == len(plans[w::workers])
            assert "error" not in [m[0] for m in out]
            for message in out:
                if message[0] == "batch":
                    rows += [
                        tuple(r[i] for i in keep)
                        for key, data, _n in message[1]
                        if key == "persons"
                        for r in data
                    ]
        return sorted(rows)

    one = persons(1)
    assert len(one) == 360
    assert persons(2) == one
    assert len({r[4] for r in one}) == 360  # blind indexes: every number different


def test_demo_data_command_needs_demo_mode(db, settings):
    from django.core.management import CommandError, call_command

    settings.HEARTH_DEMO = False
    with pytest.raises(CommandError):
        call_command("demo_data", "--persons", "10")
    assert not Person.objects.for_system().exists()
