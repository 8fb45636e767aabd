"""The condition language (条件语言): one versioned, declarative spec for lists and eligibility rules.

A spec is JSON, so it can be stored as data, audited when it changes and shown to people as Chinese text:

    {"v": 1, "all": [{"sex": "F"}, {"age": {"min": 15, "max": 49}}]}

Every node is an object with exactly one predicate key (the top level also carries the language version
"v"). Predicates: all / any (lists of nodes), not (a node), sex, age (completed years on the `as_of` date:
min and max inclusive, under strictly less), residence, marital, status (lists of codes), place (a place's
public id: its subtree), event (the person has such a life event in a period), list (membership of another
list, by code), id_unverified and household_head (户主, for services delivered to a household).

`validate()` refuses anything it does not know, naming where in the spec the problem is; `compile_q()`
turns a spec into a `Q` over `Person`, so it runs in the database as ranges on indexed columns (age
becomes a birth-date range, place a place-path range, events an EXISTS subquery); `describe()` renders
the rule as Chinese text for the page that shows it.

Unless a spec says something about "status" itself, it selects only persons in the register (在册).
"""

import json
from dataclasses import dataclass, field
from datetime import date
from uuid import UUID

from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext as _

from hearth.core.errors import DomainError, DomainErrors

from .codes import MaritalStatus, RelationToHead
from .models import EventKind, LifeEvent, PersonStatus, ResidenceType, Sex

LANGUAGE_VERSION = 1
MAX_AGE = 150
MAX_WITHIN_DAYS = 36_600
MAX_DEPTH = 12
MAX_NODES = 200
MAX_TEXT = 20_000
FIELD = "spec"

PREDICATES = (
    "all",
    "any",
    "not",
    "sex",
    "age",
    "residence",
    "marital",
    "status",
    "place",
    "event",
    "list",
    "id_unverified",
    "household_head",
)
AGE_KEYS = ("min", "max", "under")
EVENT_KEYS = ("kind", "within_days", "from", "to")
CODE_LISTS = {
    "residence": ResidenceType,
    "marital": MaritalStatus,
    "status": PersonStatus,
}


# --- looking things up: other lists and places, cached for one validation, compilation or rendering ---


@dataclass
class Resolver:
    """Looks up the lists and places a spec names; one query each kind, however often they are named."""

    _lists: dict | None = None
    _places: dict = field(default_factory=dict)

    def list(self, code: str) -> dict | None:
        if self._lists is None:
            from .models import ListDefinition

            self._lists = {
                d["code"]: d for d in ListDefinition.objects.values("code", "name", "spec", "active")
            }
        return self._lists.get(code)

    def place(self, public_id: str) -> dict | None:
        if public_id not in self._places:
            from hearth.places.models import Place

            self._places[public_id] = Place.objects.filter(public_id=public_id).values("path", "name").first()
        return self._places[public_id]


# --- validation ---------------------------------------------------------------------------------------


def _where(path: list) -> str:
    if not path:
        return _("顶层")
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _parse_date(value) -> date | None:
    if not isinstance(value, str) or len(value) != 10:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


class _Checker:
    """Walks a spec, collecting every problem with the place in the spec where it is."""

    def __init__(self, resolver: Resolver | None, own_code: str | None):
        self.resolver = resolver  # None: structure only (no database)
        self.own_code = own_code
        self.errors: list[DomainError] = []
        self.nodes = 0
        self.too_large = False

    def fail(self, code: str, path: list, problem: str) -> None:
        message = _("条件“%(where)s”处：%(problem)s") % {"where": _where(path), "problem": problem}
        self.errors.append(DomainError(code, message, FIELD))

    def top(self, spec) -> None:
        if not isinstance(spec, dict):
            self.fail("condition.type", [], _('条件应为 JSON 对象，如 {"v": 1, "sex": "F"}。'))
            return
        if "v" not in spec:
            self.fail("condition.version", [], _('缺少条件语言版本号 "v": 1。'))
        elif not _is_int(spec["v"]) or spec["v"] != LANGUAGE_VERSION:
            self.fail(
                "condition.version",
                ["v"],
                _("不支持的条件语言版本 %(v)s，当前版本为 %(current)d。")
                % {"v": json.dumps(spec["v"], ensure_ascii=False), "current": LANGUAGE_VERSION},
            )
        self.node({k: v for k, v in spec.items() if k != "v"}, [], depth=0)

    def node(self, node, path: list, depth: int) -> None:
        self.nodes += 1
        if self.nodes > MAX_NODES or depth > MAX_DEPTH:
            if not self.too_large:
                self.too_large = True
                self.fail(
                    "condition.too_large",
                    path,
                    _("条件过于复杂（最多 %(nodes)d 个判断、%(depth)d 层嵌套）。")
                    % {"nodes": MAX_NODES, "depth": MAX_DEPTH},
                )
            return
        if not isinstance(node, dict):
            self.fail("condition.type", path, _('每个条件应为 JSON 对象，如 {"sex": "F"}。'))
            return
        unknown = [k for k in node if k not in PREDICATES]
        for key in unknown:
            self.fail(
                "condition.unknown_key",
                [*path, key],
                _("未知的判断“%(key)s”。可用的判断：%(known)s。")
                % {"key": key, "known": "、".join(PREDICATES)},
            )
        known = [k for k in node if k in PREDICATES]
        if not node:
            self.fail("condition.empty", path, _("条件为空，应恰好包含一个判断（如 sex、age、all）。"))
            return
        if len(known) > 1:
            self.fail(
                "condition.several",
                path,
                _("一个条件只能包含一个判断，这里有 %(keys)s；请用 all 或 any 组合。")
                % {"keys": "、".join(known)},
            )
            return
        if not known:
            return
        key = known[0]
        getattr(self, f"p_{key}")(node[key], [*path, key], depth)

    def _nodes(self, value, path: list, depth: int) -> None:
        if not isinstance(value, list) or not value:
            self.fail("condition.value", path, _("应为包含至少一个条件的列表。"))
            return
        for i, child in enumerate(value):
            self.node(child, [*path, i], depth + 1)

    def p_all(self, value, path, depth):
        self._nodes(value, path, depth)

    def p_any(self, value, path, depth):
        self._nodes(value, path, depth)

    def p_not(self, value, path, depth):
        self.node(value, path, depth + 1)

    def p_sex(self, value, path, depth):
        if value not in Sex.values:
            self.fail("condition.value", path, _('性别应为 "F"（女）或 "M"（男）。'))

    def p_age(self, value, path, depth):
        if not isinstance(value, dict) or not value:
            self.fail("condition.value", path, _('年龄应为对象，如 {"min": 15, "max": 49}。'))
            return
        for key in value:
            if key not in AGE_KEYS:
                self.fail(
                    "condition.unknown_key",
                    [*path, key],
                    _("年龄条件中没有“%(key)s”，可用 min（不小于）、max（不大于）、under（小于）。")
                    % {"key": key},
                )
        bounds = {}
        for key in AGE_KEYS:
            if key not in value:
                continue
            v = value[key]
            if not _is_int(v) or not 0 <= v <= MAX_AGE:
                self.fail(
                    "condition.value",
                    [*path, key],
                    _("应为 0 到 %(max)d 之间的整数（周岁）。") % {"max": MAX_AGE},
                )
            else:
                bounds[key] = v
        if "max" in value and "under" in value:
            self.fail("condition.value", path, _("max 与 under 只能填写其中一个。"))
        if not any(k in value for k in AGE_KEYS):
            self.fail("condition.value", path, _("至少应填写 min、max、under 中的一个。"))
        low = bounds.get("min")
        if low is not None and "max" in bounds and low > bounds["max"]:
            self.fail("condition.value", path, _("min 不能大于 max。"))
        if low is not None and "under" in bounds and low >= bounds["under"]:
            self.fail("condition.value", path, _("min 应小于 under。"))

    def _codes(self, value, path, choices):
        if not isinstance(value, list) or not value:
            self.fail("condition.value", path, _("应为包含至少一个代码的列表。"))
            return
        allowed = "、".join(f"{v}（{label}）" for v, label in choices.choices)
        for i, code in enumerate(value):
            if code not in choices.values:
                self.fail(
                    "condition.value",
                    [*path, i],
                    _("代码“%(code)s”无效，可用：%(allowed)s。")
                    % {"code": json.dumps(code, ensure_ascii=False), "allowed": allowed},
                )

    def p_residence(self, value, path, depth):
        self._codes(value, path, ResidenceType)

    def p_marital(self, value, path, depth):
        self._codes(value, path, MaritalStatus)

    def p_status(self, value, path, depth):
        self._codes(value, path, PersonStatus)

    def p_id_unverified(self, value, path, depth):
        if not isinstance(value, bool):
            self.fail("condition.value", path, _("应为 true 或 false。"))

    p_household_head = p_id_unverified

    def p_place(self, value, path, depth):
        ok = isinstance(value, str)
        if ok:
            try:
                UUID(value)
            except ValueError:
                ok = False
        if not ok:
            self.fail("condition.value", path, _("应为地区编号（UUID）。"))
            return
        if self.resolver is not None and self.resolver.place(value) is None:
            self.fail("condition.place_unknown", path, _("没有编号为 %(id)s 的地区。") % {"id": value})

    def p_event(self, value, path, depth):
        if not isinstance(value, dict):
            self.fail(
                "condition.value", path, _('事件条件应为对象，如 {"kind": "birth", "within_days": 365}。')
            )
            return
        for key in value:
            if key not in EVENT_KEYS:
                self.fail(
                    "condition.unknown_key",
                    [*path, key],
                    _("事件条件中没有“%(key)s”，可用 kind、within_days、from、to。") % {"key": key},
                )
        kinds = value.get("kind")
        if kinds is None:
            self.fail("condition.value", [*path, "kind"], _("请填写事件类型 kind。"))
        else:
            kinds = kinds if isinstance(kinds, list) else [kinds]
            allowed = "、".join(f"{v}（{label}）" for v, label in EventKind.choices)
            if not kinds:
                self.fail("condition.value", [*path, "kind"], _("应为事件类型或事件类型的列表。"))
            for kind in kinds:
                if kind not in EventKind.values:
                    self.fail(
                        "condition.value",
                        [*path, "kind"],
                        _("事件类型“%(kind)s”无效，可用：%(allowed)s。")
                        % {"kind": json.dumps(kind, ensure_ascii=False), "allowed": allowed},
                    )
        if "within_days" in value:
            days = value["within_days"]
            if not _is_int(days) or not 1 <= days <= MAX_WITHIN_DAYS:
                self.fail(
                    "condition.value",
                    [*path, "within_days"],
                    _("应为 1 到 %(max)d 之间的天数。") % {"max": MAX_WITHIN_DAYS},
                )
            if "from" in value or "to" in value:
                self.fail("condition.value", path, _("within_days 与 from/to 只能选用一种时间范围。"))
        dates = {}
        for key in ("from", "to"):
            if key in value:
                parsed = _parse_date(value[key])
                if parsed is None:
                    self.fail("condition.value", [*path, key], _("日期格式应为 YYYY-MM-DD。"))
                else:
                    dates[key] = parsed
        if len(dates) == 2 and dates["from"] > dates["to"]:
            self.fail("condition.value", path, _("起始日期 from 不能晚于截止日期 to。"))

    def p_list(self, value, path, depth):
        if not isinstance(value, str) or not value:
            self.fail("condition.value", path, _('应为名单代码，如 "women_15_49"。'))
            return
        if self.resolver is None:
            return
        self._follow(value, [self.own_code] if self.own_code else [], path)

    def _follow(self, code: str, chain: list[str], path: list) -> None:
        """Walk the lists `code` refers to; reaching one already on the chain is a cycle."""
        if code in chain:
            self.fail(
                "condition.list_cycle",
                path,
                _("名单之间形成循环引用：%(chain)s。") % {"chain": " → ".join([*chain, code])},
            )
            return
        found = self.resolver.list(code)
        if found is None:
            self.fail("condition.list_unknown", path, _("没有代码为“%(code)s”的名单。") % {"code": code})
            return
        before = len(self.errors)
        for ref in _list_refs(found["spec"]):
            self._follow(ref, [*chain, code], path)
            if len(self.errors) > before:
                return


def _list_refs(spec) -> list[str]:
    """Codes of the lists a (possibly malformed) spec names, in order."""
    found: list[str] = []
    if isinstance(spec, dict):
        for key, value in spec.items():
            if key == "list" and isinstance(value, str):
                found.append(value)
            else:
                found.extend(_list_refs(value))
    elif isinstance(spec, list):
        for item in spec:
            found.extend(_list_refs(item))
    return found


def _check(spec, *, resolver: Resolver | None, code: str | None = None) -> None:
    checker = _Checker(resolver, code)
    checker.top(spec)
    DomainErrors.raise_if_any(checker.errors)


def parse(text: str) -> dict:
    """A spec from the text an administrator typed (JSON)."""
    if len(text or "") > MAX_TEXT:
        raise DomainError("condition.too_large", _("条件内容过长。"), FIELD)
    try:
        return json.loads(text or "")
    except json.JSONDecodeError as exc:
        raise DomainError(
            "condition.json",
            _("条件不是有效的 JSON：第 %(line)d 行第 %(col)d 列附近有误。")
            % {"line": exc.lineno, "col": exc.colno},
            FIELD,
        ) from None


def validate(spec, *, code: str | None = None, resolver: Resolver | None = None) -> dict:
    """Check a spec completely; raise DomainError (or DomainErrors) with field "spec", or return it.

    `code`: the list this spec defines, so that a reference back to it (directly or through other lists)
    is refused as a cycle. Named lists and places must exist.
    """
    _check(spec, resolver=resolver or Resolver(), code=code)
    return spec


# --- compiling to a Q over Person ----------------------------------------------------------------------

# A condition that no row meets / that every row meets, as Q objects that negate correctly.
_NOTHING = Q(pk__in=[])
_EVERYTHING = Q(pk__isnull=False)


def born_on_or_before(as_of: date, years: int) -> date | None:
    """The latest birth date of someone at least `years` old (completed years) on `as_of`.

    Someone born on 29 Feb has their birthday on 1 Mar in common years (time.age_on), so when the
    anniversary falls on a 29 Feb that does not exist the bound is 28 Feb. None: no such date exists.
    """
    year = as_of.year - years
    if year < 1:
        return None
    try:
        return as_of.replace(year=year)
    except ValueError:
        return date(year, 2, 28)


def _at_least(as_of: date, years: int) -> Q:
    bound = born_on_or_before(as_of, years)
    return _NOTHING if bound is None else Q(birth_date__lte=bound)


def _younger_than(as_of: date, years: int) -> Q:
    bound = born_on_or_before(as_of, years)
    return _EVERYTHING if bound is None else Q(birth_date__gt=bound)


def _mentions_status(spec) -> bool:
    if isinstance(spec, dict):
        return "status" in spec or any(_mentions_status(v) for v in spec.values())
    if isinstance(spec, list):
        return any(_mentions_status(v) for v in spec)
    return False


class _Compiler:
    def __init__(self, as_of: date, resolver: Resolver):
        self.as_of = as_of
        self.resolver = resolver

    def top(self, spec: dict, chain: list[str]) -> Q:
        q = self.node({k: v for k, v in spec.items() if k != "v"}, chain)
        if not _mentions_status(spec):
            q &= Q(status=PersonStatus.ACTIVE)
        else:  # a merged duplicate is never a list member, whatever status the spec asks for
            q &= ~Q(status=PersonStatus.MERGED)
        return q

    def node(self, node: dict, chain: list[str]) -> Q:
        ((key, value),) = node.items()
        return getattr(self, f"c_{key}")(value, chain)

    def c_all(self, value, chain):
        q = _EVERYTHING
        for child in value:
            q &= self.node(child, chain)
        return q

    def c_any(self, value, chain):
        q = _NOTHING
        for child in value:
            q |= self.node(child, chain)
        return q

    def c_not(self, value, chain):
        return ~self.node(value, chain)

    def c_sex(self, value, chain):
        return Q(sex=value)

    def c_age(self, value, chain):
        # Completed years on as_of, as birth-date bounds: one range on (place_path, birth_date).
        q = _at_least(self.as_of, value.get("min", 0))
        if "max" in value:
            q &= _younger_than(self.as_of, value["max"] + 1)
        if "under" in value:
            q &= _younger_than(self.as_of, value["under"])
        return q

    def c_residence(self, value, chain):
        return Q(residence_type__in=value)

    def c_marital(self, value, chain):
        return Q(marital_status__in=value)

    def c_status(self, value, chain):
        return Q(status__in=value)

    def c_id_unverified(self, value, chain):
        return Q(id_unverified=value)

    def c_household_head(self, value, chain):
        head = Q(household__isnull=False, relation_to_head=RelationToHead.HEAD)
        return head if value else ~head

    def c_place(self, value, chain):
        from hearth.places.tree import subtree_q

        place = self.resolver.place(value)
        if place is None:
            raise DomainError(
                "condition.place_unknown", _("条件中的地区 %(id)s 不存在。") % {"id": value}, FIELD
            )
        return subtree_q("place_path", place["path"])

    def c_event(self, value, chain):
        kinds = value["kind"] if isinstance(value["kind"], list) else [value["kind"]]
        # Correlated with the outer (already scoped) person; a corrected (mistaken) event does not count.
        events = LifeEvent.objects.for_system().filter(person_id=OuterRef("pk"), kind__in=kinds)
        if "within_days" in value:
            start = date.fromordinal(max(self.as_of.toordinal() - value["within_days"], 1))
            events = events.filter(occurred_on__gt=start, occurred_on__lte=self.as_of)
        elif "from" in value or "to" in value:
            if "from" in value:
                events = events.filter(occurred_on__gte=date.fromisoformat(value["from"]))
            if "to" in value:
                events = events.filter(occurred_on__lte=date.fromisoformat(value["to"]))
        else:
            events = events.filter(occurred_on__lte=self.as_of)
        corrected = LifeEvent.objects.for_system().filter(corrects_id=OuterRef("pk"))
        return Q(Exists(events.filter(~Exists(corrected))))

    def c_list(self, value, chain):
        if value in chain:
            raise DomainError(
                "condition.list_cycle",
                _("名单之间形成循环引用：%(chain)s。") % {"chain": " → ".join([*chain, value])},
                FIELD,
            )
        found = self.resolver.list(value)
        if found is None:
            raise DomainError(
                "condition.list_unknown", _("没有代码为“%(code)s”的名单。") % {"code": value}, FIELD
            )
        try:
            _check(found["spec"], resolver=None)
        except DomainError as exc:
            raise DomainError(
                "condition.list_invalid",
                _("引用的名单“%(code)s”的条件有误：%(problem)s") % {"code": value, "problem": exc.message},
                FIELD,
            ) from None
        return self.top(found["spec"], [*chain, value])


def compile_q(spec: dict, as_of: date, *, code: str | None = None, resolver: Resolver | None = None) -> Q:
    """The spec as a condition on Person, evaluated on `as_of`; only persons in the register (在册) unless
    the spec itself says something about status. `code`: the list being compiled (for cycle detection).

    Raises DomainError for a malformed spec, a cycle between lists or an unknown list or place.
    """
    _check(spec, resolver=None)
    return _Compiler(as_of, resolver or Resolver()).top(spec, [code] if code else [])


# --- rendering as Chinese text -------------------------------------------------------------------------


def _labels(choices, codes: list[str]) -> str:
    names = dict(choices.choices)
    return _("或").join(str(names.get(c, c)) for c in codes)


class _Describer:
    def __init__(self, resolver: Resolver):
        self.resolver = resolver

    def node(self, node: dict, nested: bool = False) -> str:
        ((key, value),) = node.items()
        if key in ("all", "any"):
            parts = [self.node(child, nested=True) for child in value]
            if len(parts) == 1:
                return parts[0]
            text = (_("，且") if key == "all" else _("，或")).join(parts)
            return _("（%(text)s）") % {"text": text} if nested else text
        if key == "not":
            return _("并非%(text)s") % {"text": self.node(value, nested=True)}
        return getattr(self, f"d_{key}")(value)

    def d_sex(self, value):
        return _("女性") if value == Sex.FEMALE else _("男性")

    def d_age(self, value):
        low, high, under = value.get("min"), value.get("max"), value.get("under")
        if low and high is not None:
            return _("年龄%(min)d–%(max)d周岁") % {"min": low, "max": high}
        if low and under is not None:
            return _("年龄满%(min)d周岁且未满%(under)d周岁") % {"min": low, "under": under}
        if high is not None:
            return _("年龄%(max)d周岁及以下") % {"max": high}
        if under is not None:
            return _("年龄未满%(under)d周岁") % {"under": under}
        return _("年龄%(min)d周岁及以上") % {"min": low or 0}

    def d_residence(self, value):
        return _("居住类型为%(types)s") % {"types": _labels(ResidenceType, value)}

    def d_marital(self, value):
        if len(value) == 1 and value[0] != MaritalStatus.UNSTATED:
            return str(MaritalStatus(value[0]).label)
        return _("婚姻状况为%(states)s") % {"states": _labels(MaritalStatus, value)}

    def d_status(self, value):
        return _("人员状态为%(states)s") % {"states": _labels(PersonStatus, value)}

    def d_id_unverified(self, value):
        return _("证件号码待核实") if value else _("证件号码已核实")

    def d_household_head(self, value):
        return _("是户主") if value else _("不是户主")

    def d_place(self, value):
        place = self.resolver.place(value)
        name = place["name"] if place else _("（不存在的地区）")
        return _("居住在%(place)s（含下级）") % {"place": name}

    def d_event(self, value):
        kinds = value["kind"] if isinstance(value["kind"], list) else [value["kind"]]
        what = _("有%(kinds)s事件") % {"kinds": _labels(EventKind, kinds)}
        if "within_days" in value:
            return _("近%(days)d天内%(what)s") % {"days": value["within_days"], "what": what}
        if "from" in value and "to" in value:
            return _("%(from)s至%(to)s期间%(what)s") % {
                "from": value["from"],
                "to": value["to"],
                "what": what,
            }
        if "from" in value:
            return _("%(from)s及以后%(what)s") % {"from": value["from"], "what": what}
        if "to" in value:
            return _("%(to)s及以前%(what)s") % {"to": value["to"], "what": what}
        return what

    def d_list(self, value):
        found = self.resolver.list(value)
        if found is None:
            return _("属于名单“%(code)s”（不存在）") % {"code": value}
        return _("属于“%(name)s”名单") % {"name": found["name"]}


def describe(spec: dict, *, resolver: Resolver | None = None) -> str:
    """The rule as Chinese text, e.g. "女性，且年龄15–49周岁". Raises DomainError for a malformed spec."""
    _check(spec, resolver=None)
    return _Describer(resolver or Resolver()).node({k: v for k, v in spec.items() if k != "v"})
