"""The condition language: validation with located Chinese errors, compilation to Q, Chinese rendering."""

from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hearth.core import time
from hearth.core.errors import DomainError, DomainErrors, as_list
from hearth.registry import conditions, services
from hearth.registry.codes import MaritalStatus, RelationToHead
from hearth.registry.models import EventKind, Household, ListDefinition, Person, PersonStatus, ResidenceType
from hearth.testing import SYSTEM

SHIPPED = {
    "women_15_49": "女性，且年龄15–49周岁",
    "married_women_15_49": "属于“育龄妇女（15–49周岁）”名单，且已婚",
    "children_0_3": "年龄未满3周岁",
    "children_0_6": "年龄未满7周岁",
    "elderly_60": "年龄60周岁及以上",
    "inflow": "居住类型为流入",
    "outflow": "居住类型为流出",
    "unverified_ids": "证件号码待核实",
}


def codes_of(exc: DomainError) -> list[str]:
    return [e.code for e in as_list(exc)]


# --- validation ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_shipped_lists_are_valid_and_read_as_chinese():
    for definition in ListDefinition.objects.all():
        assert conditions.validate(definition.spec, code=definition.code) == definition.spec
    assert {d.code: conditions.describe(d.spec) for d in ListDefinition.objects.all()} == SHIPPED


@pytest.mark.parametrize(
    ("spec", "code", "where"),
    [
        ([{"sex": "F"}], "condition.type", "顶层"),
        ({"sex": "F"}, "condition.version", "顶层"),
        ({"v": 2, "sex": "F"}, "condition.version", "“v”"),
        ({"v": True, "sex": "F"}, "condition.version", "“v”"),
        ({"v": 1}, "condition.empty", "顶层"),
        ({"v": 1, "sex": "F", "age": {"min": 1}}, "condition.several", "顶层"),
        ({"v": 1, "gender": "F"}, "condition.unknown_key", "“gender”"),
        ({"v": 1, "all": [{"sex": "F"}, {"v": 1, "sex": "M"}]}, "condition.unknown_key", "all[1].v"),
        ({"v": 1, "all": []}, "condition.value", "“all”"),
        ({"v": 1, "any": {"sex": "F"}}, "condition.value", "“any”"),
        ({"v": 1, "not": "F"}, "condition.type", "“not”"),
        ({"v": 1, "sex": "female"}, "condition.value", "“sex”"),
        ({"v": 1, "all": [{"sex": "F"}, {"age": {"min": "15"}}]}, "condition.value", "all[1].age.min"),
        ({"v": 1, "age": {"min": -1}}, "condition.value", "age.min"),
        ({"v": 1, "age": {"min": True}}, "condition.value", "age.min"),
        ({"v": 1, "age": {"max": 151}}, "condition.value", "age.max"),
        ({"v": 1, "age": {"min": 50, "max": 49}}, "condition.value", "“age”"),
        ({"v": 1, "age": {"min": 3, "under": 3}}, "condition.value", "“age”"),
        ({"v": 1, "age": {"max": 3, "under": 3}}, "condition.value", "“age”"),
        ({"v": 1, "age": {"from": 3}}, "condition.unknown_key", "age.from"),
        ({"v": 1, "age": {}}, "condition.value", "“age”"),
        ({"v": 1, "residence": ["migrant"]}, "condition.value", "residence[0]"),
        ({"v": 1, "residence": "inflow"}, "condition.value", "“residence”"),
        ({"v": 1, "marital": [20]}, "condition.value", "marital[0]"),
        ({"v": 1, "status": ["alive"]}, "condition.value", "status[0]"),
        ({"v": 1, "id_unverified": "yes"}, "condition.value", "“id_unverified”"),
        ({"v": 1, "place": "祥和社区"}, "condition.value", "“place”"),
        ({"v": 1, "event": {"within_days": 30}}, "condition.value", "event.kind"),
        ({"v": 1, "event": {"kind": "pregnancy"}}, "condition.value", "event.kind"),
        ({"v": 1, "event": {"kind": "birth", "within_days": 0}}, "condition.value", "event.within_days"),
        ({"v": 1, "event": {"kind": "birth", "from": "2024-02-30"}}, "condition.value", "event.from"),
        (
            {"v": 1, "event": {"kind": "birth", "from": "2024-05-01", "to": "2024-04-01"}},
            "condition.value",
            "“event”",
        ),
        (
            {"v": 1, "event": {"kind": "birth", "within_days": 5, "to": "2024-04-01"}},
            "condition.value",
            "“event”",
        ),
        ({"v": 1, "event": {"kind": "birth", "since": "2024-04-01"}}, "condition.unknown_key", "event.since"),
        ({"v": 1, "list": ""}, "condition.value", "“list”"),
    ],
)
def test_bad_specs_are_refused_naming_the_place(spec, code, where):
    with pytest.raises(DomainError) as exc:
        conditions._check(spec, resolver=None)
    errors = as_list(exc.value)
    assert code in [e.code for e in errors]
    assert all(e.field == "spec" for e in errors)
    assert any(where in str(e.message) for e in errors), [str(e.message) for e in errors]


def test_every_problem_is_reported_at_once():
    spec = {"v": 1, "all": [{"sex": "X"}, {"age": {"min": 200}}, {"colour": "red"}]}
    with pytest.raises(DomainErrors) as exc:
        conditions._check(spec, resolver=None)
    assert codes_of(exc.value) == ["condition.value", "condition.value", "condition.unknown_key"]


def test_size_and_depth_are_bounded():
    deep: dict = {"sex": "F"}
    for _ in range(conditions.MAX_DEPTH + 2):
        deep = {"not": deep}
    with pytest.raises(DomainError) as exc:
        conditions._check({"v": 1, **deep}, resolver=None)
    assert codes_of(exc.value) == ["condition.too_large"]
    wide = {"v": 1, "any": [{"sex": "F"}] * (conditions.MAX_NODES + 5)}
    with pytest.raises(DomainError) as exc:
        conditions._check(wide, resolver=None)
    assert codes_of(exc.value) == ["condition.too_large"]


def test_parse_names_the_line_of_bad_json():
    with pytest.raises(DomainError) as exc:
        conditions.parse('{"v": 1,\n "sex": F}')
    assert exc.value.code == "condition.json" and "第 2 行" in str(exc.value.message)
    assert exc.value.field == "spec"


@pytest.mark.django_db
def test_unknown_lists_and_places_are_refused():
    with pytest.raises(DomainError) as exc:
        conditions.validate({"v": 1, "list": "no_such_list"})
    assert exc.value.code == "condition.list_unknown" and "no_such_list" in str(exc.value.message)
    with pytest.raises(DomainError) as exc:
        conditions.validate({"v": 1, "place": "00000000-0000-0000-0000-000000000000"})
    assert exc.value.code == "condition.place_unknown"


@pytest.mark.django_db
def test_cycles_between_lists_are_refused():
    # women_15_49 is named by married_women_15_49: making it name that list back closes a cycle.
    with pytest.raises(DomainError) as exc:
        conditions.validate({"v": 1, "list": "married_women_15_49"}, code="women_15_49")
    assert exc.value.code == "condition.list_cycle"
    assert "women_15_49 → married_women_15_49 → women_15_49" in str(exc.value.message)
    with pytest.raises(DomainError) as exc:
        conditions.validate({"v": 1, "not": {"list": "women_15_49"}}, code="women_15_49")
    assert exc.value.code == "condition.list_cycle"
    # A cycle already in the data (written around the service) is caught when compiling, not looped on.
    ListDefinition.objects.create(code="loop_a", name="A", spec={"v": 1, "list": "loop_b"})
    ListDefinition.objects.create(code="loop_b", name="B", spec={"v": 1, "list": "loop_a"})
    with pytest.raises(DomainError) as exc:
        conditions.compile_q({"v": 1, "list": "loop_a"}, date(2025, 1, 1))
    assert exc.value.code == "condition.list_cycle"
    with pytest.raises(DomainError) as exc:
        conditions.validate({"v": 1, "list": "loop_a"})
    assert exc.value.code == "condition.list_cycle"


# --- rendering ------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_describe_reads_nested_rules():
    spec = {
        "v": 1,
        "any": [
            {"all": [{"sex": "M"}, {"age": {"min": 60}}]},
            {"not": {"residence": ["inflow", "outflow"]}},
            {"event": {"kind": ["marriage", "divorce"], "within_days": 30}},
            {"event": {"kind": "birth", "from": "2024-01-01", "to": "2024-12-31"}},
            {"marital": ["20", "30"]},
            {"age": {"min": 1, "under": 3}},
            {"id_unverified": False},
        ],
    }
    assert conditions.describe(spec) == (
        "（男性，且年龄60周岁及以上），或并非居住类型为流入或流出，或近30天内有结婚或离婚事件，"
        "或2024-01-01至2024-12-31期间有出生事件，或婚姻状况为已婚或丧偶，或年龄满1周岁且未满3周岁，"
        "或证件号码已核实"
    )


@pytest.mark.django_db
def test_describe_names_the_place(world):
    place = world.places["A1a"]
    assert conditions.describe({"v": 1, "place": str(place.public_id)}) == "居住在祥和社区（含下级）"


# --- ages as birth-date ranges ----------------------------------------------------------------------------

DATES = st.dates(min_value=date(1880, 1, 1), max_value=date(2199, 12, 31))


@given(
    born=DATES,
    as_of=st.dates(min_value=date(1900, 1, 1), max_value=date(2199, 12, 31)),
    n=st.integers(0, 151),
)
@settings(max_examples=2000)
def test_birth_date_bound_agrees_with_completed_years(born, as_of, n):
    bound = conditions.born_on_or_before(as_of, n)
    assert (time.age_on(born, as_of) >= n) == (bound is not None and born <= bound)


LEAP_DAYS = st.sampled_from([date(y, 2, 29) for y in (1904, 2000, 2024, 2028, 2096)])


@given(
    as_of=LEAP_DAYS | st.dates(min_value=date(1900, 1, 1), max_value=date(2199, 12, 31)),
    n=st.integers(0, 120),
    delta=st.integers(-4, 4),
)
@settings(max_examples=1000)
def test_birth_date_bound_near_the_birthday(as_of, n, delta):
    """Births a few days either side of the n-th anniversary, where an off-by-one would show."""
    born = date(as_of.year - n, as_of.month, min(as_of.day, 28)) + timedelta(days=delta)
    bound = conditions.born_on_or_before(as_of, n)
    assert (time.age_on(born, as_of) >= n) == (born <= bound)


@pytest.mark.parametrize(
    ("born", "as_of", "age"),
    [
        (date(2008, 2, 29), date(2023, 2, 28), 14),
        (date(2008, 2, 29), date(2023, 3, 1), 15),
        (date(2008, 2, 29), date(2024, 2, 29), 16),
        (date(2009, 2, 28), date(2024, 2, 29), 15),
        (date(2009, 3, 1), date(2024, 2, 29), 14),
    ],
)
def test_leap_day_birthdays(born, as_of, age):
    assert time.age_on(born, as_of) == age
    assert born <= conditions.born_on_or_before(as_of, age)
    assert not born <= conditions.born_on_or_before(as_of, age + 1)


# --- compiled conditions against a plain-Python reading, over fixture persons -------------------------------


def evaluate(node: dict, p: Person, as_of: date) -> bool:
    """The reference reading of the language for the predicates that need no other rows."""
    ((key, value),) = ((k, v) for k, v in node.items() if k != "v")
    if key == "all":
        return all(evaluate(c, p, as_of) for c in value)
    if key == "any":
        return any(evaluate(c, p, as_of) for c in value)
    if key == "not":
        return not evaluate(value, p, as_of)
    if key == "sex":
        return p.sex == value
    if key == "age":
        age = time.age_on(p.birth_date, as_of)
        return (
            age >= value.get("min", 0)
            and ("max" not in value or age <= value["max"])
            and ("under" not in value or age < value["under"])
        )
    if key == "residence":
        return p.residence_type in value
    if key == "marital":
        return p.marital_status in value
    if key == "status":
        return p.status in value
    if key == "id_unverified":
        return p.id_unverified == value
    if key == "household_head":
        return (p.household_id is not None and p.relation_to_head == RelationToHead.HEAD) == value
    raise AssertionError(key)


def _age_spec(draw_min, draw_max, draw_under):
    spec = {}
    if draw_min is not None:
        spec["min"] = draw_min
    if draw_max is not None:
        spec["max"] = max(draw_max, draw_min or 0)
    elif draw_under is not None:
        spec["under"] = max(draw_under, (draw_min or 0) + 1)
    return spec or {"min": 0}


small_age = st.integers(0, 100)
LEAVES = st.one_of(
    st.builds(lambda s: {"sex": s}, st.sampled_from(["F", "M"])),
    st.builds(
        lambda a, b, c: {"age": _age_spec(a, b, c)},
        st.none() | small_age,
        st.none() | small_age,
        st.none() | small_age,
    ),
    st.builds(
        lambda v: {"residence": v}, st.lists(st.sampled_from(ResidenceType.values), min_size=1, max_size=3)
    ),
    st.builds(
        lambda v: {"marital": v}, st.lists(st.sampled_from(MaritalStatus.values), min_size=1, max_size=2)
    ),
    st.builds(
        lambda v: {"status": v}, st.lists(st.sampled_from(PersonStatus.values), min_size=1, max_size=2)
    ),
    st.builds(lambda v: {"id_unverified": v}, st.booleans()),
    st.builds(lambda v: {"household_head": v}, st.booleans()),
)
NODES = st.recursive(
    LEAVES,
    lambda children: st.one_of(
        st.builds(lambda c: {"all": c}, st.lists(children, min_size=1, max_size=3)),
        st.builds(lambda c: {"any": c}, st.lists(children, min_size=1, max_size=3)),
        st.builds(lambda c: {"not": c}, children),
    ),
    max_leaves=6,
)
AS_OF = st.one_of(
    st.sampled_from(
        [date(2024, 2, 29), date(2023, 2, 28), date(2023, 3, 1), date(2025, 6, 15), date(2025, 6, 14)]
    ),
    st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 12, 31)),
)


@pytest.fixture
def population(world):
    """Persons around the interesting birthdays (29 Feb, 15 Jun), every residence, marital state and status."""
    dwelling = world.dwellings["A1a"]
    births = [
        date(2008, 2, 29),
        date(2009, 2, 28),
        date(2009, 3, 1),
        date(2010, 6, 15),
        date(2010, 6, 14),
        date(1975, 6, 15),
        date(1976, 6, 16),
        date(1965, 6, 15),
        date(1965, 6, 16),
        date(2022, 6, 15),
        date(2018, 6, 16),
        date(1990, 1, 1),
        date(1950, 12, 31),
    ]
    household = Household.objects.create(dwelling=dwelling)
    statuses = PersonStatus.values  # every third person: active, deceased or departed in turn
    for i, born in enumerate(births * 2):
        Person.objects.create(
            name=f"样本{i}",
            sex="F" if i % 2 else "M",
            birth_date=born,
            dwelling=dwelling,
            place_path=dwelling.place.path,
            residence_type=ResidenceType.values[i % 4],
            marital_status=MaritalStatus.values[i % 5],
            status=statuses[(i // 3) % 3] if i % 3 == 0 else PersonStatus.ACTIVE,
            id_unverified=i % 4 == 1,
            # Heads with and without a household, members, and persons with no relation at all.
            household=household if i % 5 in (0, 1, 2) else None,
            relation_to_head=[RelationToHead.HEAD, RelationToHead.SPOUSE, "", RelationToHead.HEAD, ""][i % 5],
        )
    return list(Person.objects.for_system().all())


@given(node=NODES, as_of=AS_OF)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_compiled_condition_equals_plain_evaluation(population, node, as_of):
    spec = {"v": 1, **node}
    conditions._check(spec, resolver=None)
    got = set(
        Person.objects.for_system().filter(conditions.compile_q(spec, as_of)).values_list("pk", flat=True)
    )
    default_active = not conditions._mentions_status(spec)
    want = {
        p.pk
        for p in population
        if evaluate(spec, p, as_of) and (not default_active or p.status == PersonStatus.ACTIVE)
    }
    assert got == want


def test_age_compiles_to_birth_date_ranges_not_per_row_arithmetic(db):
    qs = Person.objects.for_system().filter(
        conditions.compile_q({"v": 1, "age": {"min": 15, "max": 49}}, date(2024, 2, 29))
    )
    sql = str(qs.query)
    assert '"birth_date" <= 2009-02-28' in sql and '"birth_date" > 1974-02-28' in sql
    assert "strftime" not in sql.lower() and "extract" not in sql.lower()


# --- status default, events, places, nested lists --------------------------------------------------------------


def _members(spec, as_of) -> set[str]:
    return set(
        Person.objects.for_system().filter(conditions.compile_q(spec, as_of)).values_list("name", flat=True)
    )


def test_deceased_persons_leave_lists_unless_status_is_asked_for(world):
    person = Person.objects.for_system().get(pk=world.persons["A1a"].pk)
    services.record_event(
        actor=SYSTEM,
        person=person,
        kind=EventKind.DEATH,
        occurred_on=date(2025, 1, 5),
        version=person.version,
    )
    as_of = date(2025, 6, 1)
    assert "居民A1a" not in _members({"v": 1, "sex": "F"}, as_of)
    assert "居民A1a" in _members({"v": 1, "all": [{"sex": "F"}, {"status": ["deceased"]}]}, as_of)


def test_event_predicate_periods_and_corrections(world):
    person = Person.objects.for_system().get(pk=world.persons["A1a"].pk)
    marriage = services.record_event(
        actor=SYSTEM,
        person=person,
        kind=EventKind.MARRIAGE,
        occurred_on=date(2025, 3, 10),
        version=person.version,
    )
    spec = lambda **period: {"v": 1, "event": {"kind": ["marriage"], **period}}  # noqa: E731
    assert "居民A1a" in _members(spec(within_days=30), date(2025, 4, 8))  # 29 days after
    assert "居民A1a" not in _members(spec(within_days=30), date(2025, 4, 9))  # 30 days after: outside
    assert "居民A1a" not in _members(spec(within_days=30), date(2025, 3, 9))  # before it happened
    assert "居民A1a" in _members(spec(**{"from": "2025-03-10", "to": "2025-03-10"}), date(2020, 1, 1))
    assert "居民A1a" not in _members(spec(**{"from": "2025-03-11"}), date(2030, 1, 1))
    assert "居民A1a" not in _members(spec(), date(2025, 3, 9))  # no period: on or before as_of
    assert "居民A1a" in _members(spec(), date(2025, 3, 10))
    # A mistaken marriage, corrected, no longer counts.
    person.refresh_from_db()
    services.correct_event(actor=SYSTEM, event=marriage, reason="录入错误", version=person.version)
    assert "居民A1a" not in _members(spec(), date(2030, 1, 1))


def test_place_predicate_is_the_subtree(world):
    place = world.places["A1a"]
    names = _members({"v": 1, "place": str(place.public_id)}, date(2025, 6, 1))
    assert names == {"居民A1a", "居民A1a-b1", "居民A1a-b1-u1", "居民A1a-b2"}
    assert conditions.validate({"v": 1, "place": str(place.public_id)})


def test_a_list_in_another_list(world):
    ListDefinition.objects.create(
        code="women_born_in_80s",
        name="八十年代出生的妇女",
        spec={"v": 1, "all": [{"list": "women_15_49"}, {"age": {"min": 35}}]},
    )
    as_of = date(2025, 6, 1)
    # World persons are women born 1981–1987: all are 15–49 on as_of; those born before 1990-06-02 are 35+.
    everyone = _members({"v": 1, "list": "women_15_49"}, as_of)
    assert len(everyone) == 7
    nested = _members({"v": 1, "list": "women_born_in_80s"}, as_of)
    assert nested == everyone
    assert (
        _members({"v": 1, "all": [{"list": "women_born_in_80s"}, {"not": {"list": "women_15_49"}}]}, as_of)
        == set()
    )
    assert _members({"v": 1, "list": "women_15_49"}, as_of + timedelta(days=365 * 40)) == set()


# --- arbitrary input never crashes: a DomainError or a spec that compiles and reads ---------------------

_KEYS = st.sampled_from(
    [*conditions.PREDICATES, "v", "min", "max", "under", "kind", "within_days", "from", "to", "x"]
)
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 200),
    st.floats(allow_nan=True),
    st.sampled_from(
        ["F", "M", "inflow", "20", "active", "birth", "2024-02-29", "2024-02-30", "women_15_49", ""]
    ),
    st.text(max_size=5),
)
_JSON = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_KEYS, inner, max_size=3),
    max_leaves=12,
)


@pytest.mark.django_db
@given(body=st.dictionaries(_KEYS, _JSON, max_size=3), version=st.sampled_from([1, 1, 1, 2, "1", None]))
@settings(max_examples=300, deadline=None)
def test_any_json_is_refused_cleanly_or_compiles(body, version):
    spec = {**body, "v": version} if version is not None else body
    try:
        conditions.validate(spec)
    except DomainError as exc:
        assert all(e.field == "spec" and e.code.startswith("condition.") for e in as_list(exc))
        return
    assert isinstance(conditions.describe(spec), str)
    Person.objects.for_system().filter(conditions.compile_q(spec, date(2025, 6, 1))).count()
