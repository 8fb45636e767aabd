"""The service catalogue (服务项目目录): checking a service type's definition and its record form, and the defaults.

A service type is data an administrator changes without code, so everything in it is checked here with a
message naming the field: the condition (the registry's condition language, never on marital status), the
schedule, the roles who deliver it, and the record form — a short list of fields:

    [{"name": "bp", "label": "血压", "type": "text", "required": true, "max_length": 20},
     {"name": "result", "label": "结果", "type": "choice", "choices": ["正常", "异常"]}]

Types: text (max_length ≤ 500), number (min/max), choice (choices), bool, date. An item marked "clinical": true
is recorded and seen only with the clinical permission, whatever the service's own flag.
"""

import re
from datetime import date

from django.utils.translation import gettext as _

from hearth.accounts.roles import Role
from hearth.core.errors import DomainError, DomainErrors
from hearth.places.models import FacilityKind
from hearth.registry import conditions
from hearth.registry.models import EventKind

from .models import Schedule

FIELD_TYPES = ("text", "number", "choice", "bool", "date")
MAX_FORM_FIELDS = 30
MAX_TEXT = 500
MAX_WINDOWS = 6
MAX_WINDOW_DAY = 3660
NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
# Words the pages' addresses use beside service codes (care/catalogue/, care/persons/…).
RESERVED_CODES = frozenset(
    {"catalogue", "persons", "records", "summary", "services", "new", "checkdays", "notices", "exports"}
)
# The events a service may follow: the ones that happen to a person, not corrections or bookkeeping.
SERVICE_EVENTS = (
    EventKind.CHILDBIRTH,
    EventKind.BIRTH,
    EventKind.MARRIAGE,
    EventKind.MOVE_IN,
    EventKind.DEATH,
)
DELIVERING_ROLES = (
    Role.SUBDISTRICT_OFFICER,
    Role.COMMUNITY_OFFICER,
    Role.ASSISTANT,
    Role.BUILDING_VOLUNTEER,
    Role.CLINIC_STAFF,
    Role.ASSOCIATION_OFFICER,
)
# Roles that see every service's worklist in their scope (they supervise the ones who deliver).
SUPERVISING_ROLES = (Role.DISTRICT_ADMIN, Role.SUBDISTRICT_OFFICER, Role.COMMUNITY_OFFICER)


def _err(code: str, field: str, message: str) -> DomainError:
    return DomainError(code, message, field)


def _uses(spec, key: str) -> bool:
    if isinstance(spec, dict):
        return key in spec or any(_uses(v, key) for v in spec.values())
    if isinstance(spec, list):
        return any(_uses(v, key) for v in spec)
    return False


def check_definition(values: dict) -> dict:
    """The cleaned fields of a service type, or every problem at once (DomainErrors), each naming its field."""
    errors: list[DomainError] = []
    out: dict = {}
    name = str(values.get("name") or "").strip()
    if not name:
        errors.append(_err("care.name_required", "name", _("名称：请填写服务项目名称。")))
    elif len(name) > 100:
        errors.append(_err("care.name_length", "name", _("名称：不能超过100个字。")))
    out["name"] = name
    out["description"] = str(values.get("description") or "").strip()[:2000]

    spec = values.get("condition")
    if isinstance(spec, str):
        try:
            spec = conditions.parse(spec)
        except DomainError as exc:
            errors.append(_err(exc.code, "condition", _("服务对象条件：%(m)s") % {"m": exc.message}))
            spec = None
    if spec is not None:
        if _uses(spec, "marital"):
            errors.append(
                _err("care.condition_marital", "condition",
                     _("服务对象条件：不能按婚姻状况确定服务对象（服务面向所有本人需要的人）。"))
            )  # fmt: skip
        else:
            try:
                conditions.validate(spec)
            except DomainError as exc:
                for e in getattr(exc, "errors", [exc]):
                    errors.append(_err(e.code, "condition", _("服务对象条件：%(m)s") % {"m": e.message}))
    out["condition"] = spec

    schedule = values.get("schedule")
    if schedule not in Schedule.values:
        errors.append(_err("care.schedule", "schedule", _("周期：请选择定期、一次、按事件或应本人要求。")))
    out["schedule"] = schedule
    months = values.get("interval_months")
    out["interval_months"] = None
    if schedule == Schedule.INTERVAL:
        if not isinstance(months, int) or isinstance(months, bool) or not 1 <= months <= 120:
            errors.append(
                _err("care.interval", "interval_months", _("间隔月数：定期服务须填写1至120之间的整数。"))
            )
        else:
            out["interval_months"] = months
    out["event_kind"], out["event_windows"] = "", []
    if schedule == Schedule.EVENT:
        kind = values.get("event_kind")
        if kind not in SERVICE_EVENTS:
            labels = "、".join(str(EventKind(k).label) for k in SERVICE_EVENTS)
            errors.append(
                _err("care.event_kind", "event_kind", _("触发事件：请选择%(k)s之一。") % {"k": labels})
            )
        out["event_kind"] = kind or ""
        windows = values.get("event_windows")
        ok = isinstance(windows, list) and 1 <= len(windows) <= MAX_WINDOWS
        clean: list[list[int]] = []
        if ok:
            previous_end = -1
            for w in windows:
                if not (
                    isinstance(w, list | tuple)
                    and len(w) == 2
                    and all(isinstance(d, int) and not isinstance(d, bool) for d in w)
                    and 0 <= w[0] <= w[1] <= MAX_WINDOW_DAY
                    and w[0] > previous_end
                ):
                    ok = False
                    break
                clean.append([w[0], w[1]])
                previous_end = w[1]
        if not ok:
            errors.append(
                _err("care.event_windows", "event_windows",
                     _("事件后服务时段：应为1至6个互不重叠、按先后排列的[起始天, 截止天]，如[[3, 7], [28, 30]]。"))
            )  # fmt: skip
        out["event_windows"] = clean
    lead = values.get("lead_days", 14)
    if not isinstance(lead, int) or isinstance(lead, bool) or not 0 <= lead <= 365:
        errors.append(_err("care.lead_days", "lead_days", _("提前通知天数：应为0至365之间的整数。")))
    out["lead_days"] = lead
    roles = values.get("roles") or []
    if not isinstance(roles, list) or not roles or any(r not in DELIVERING_ROLES for r in roles):
        errors.append(_err("care.roles", "roles", _("服务人员角色：请至少选择一个提供服务的角色。")))
    out["roles"] = sorted(set(roles)) if isinstance(roles, list) else []
    facility_kind = values.get("facility_kind") or ""
    if facility_kind and facility_kind not in FacilityKind.values:
        errors.append(_err("care.facility_kind", "facility_kind", _("服务机构类型：不是可选的机构类型。")))
    out["facility_kind"] = facility_kind
    try:
        out["form"] = check_form(values.get("form") or [])
    except DomainError as exc:
        errors.append(exc)
    for flag in ("consent_required", "clinical", "active"):
        v = values.get(flag, flag == "active")
        if not isinstance(v, bool):
            errors.append(_err("care.flag", flag, _("%(f)s：应为是或否。") % {"f": flag}))
        out[flag] = bool(v)
    order = values.get("order", 100)
    out["order"] = (
        order if isinstance(order, int) and not isinstance(order, bool) and 0 <= order < 10000 else 100
    )
    DomainErrors.raise_if_any(errors)
    return out


def check_form(form) -> list[dict]:
    """A record form's definition, cleaned; a problem is one error on the field "form" naming the item."""

    def fail(i: int, why: str) -> DomainError:
        return _err("care.form", "form", _("记录项目：第%(i)d项%(why)s") % {"i": i, "why": why})

    if not isinstance(form, list) or len(form) > MAX_FORM_FIELDS:
        raise _err("care.form", "form", _("记录项目：应为不超过30项的列表。"))
    clean, seen = [], set()
    for i, item in enumerate(form, start=1):
        if not isinstance(item, dict):
            raise fail(i, _("格式不正确。"))
        name, label, kind = item.get("name"), str(item.get("label") or "").strip(), item.get("type")
        if not isinstance(name, str) or not NAME_RE.match(name):
            raise fail(i, _("的代码应以小写字母开头，只含小写字母、数字和下划线。"))
        if name in seen:
            raise fail(i, _("的代码与前面的项目重复。"))
        seen.add(name)
        if not label or len(label) > 50:
            raise fail(i, _("须有不超过50个字的名称。"))
        if kind not in FIELD_TYPES:
            raise fail(i, _("的类型应为文字、数字、选项、是否或日期之一。"))
        field = {"name": name, "label": label, "type": kind, "required": bool(item.get("required", False))}
        if item.get("clinical"):
            # Recorded and seen only by clinic staff (e.g. which contraceptive method: DOMAIN.md, "Scope").
            field["clinical"] = True
        if kind == "text":
            n = item.get("max_length", 100)
            if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= MAX_TEXT:
                raise fail(i, _("的最大长度应为1至500。"))
            field["max_length"] = n
        elif kind == "number":
            for bound in ("min", "max"):
                if bound in item:
                    if not isinstance(item[bound], int | float) or isinstance(item[bound], bool):
                        raise fail(i, _("的上下限应为数字。"))
                    field[bound] = item[bound]
            if "min" in field and "max" in field and field["min"] > field["max"]:
                raise fail(i, _("的下限大于上限。"))
        elif kind == "choice":
            choices = item.get("choices")
            if (
                not isinstance(choices, list)
                or not 2 <= len(choices) <= 30
                or not all(isinstance(c, str) and c.strip() and len(c) <= 50 for c in choices)
                or len(set(choices)) != len(choices)
            ):
                raise fail(i, _("的选项应为2至30个互不相同的文字。"))
            field["choices"] = choices
        clean.append(field)
    return clean


def visible_items(form: list[dict], *, clinical: bool) -> list[dict]:
    """The form's items an actor records and sees: all with the clinical permission, else the non-clinical ones."""
    return form if clinical else [f for f in form if not f.get("clinical")]


def check_data(form: list[dict], data) -> dict:
    """A record's values against its service's form: every problem at once, each naming the form's item."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise _err("care.data", "data", _("记录内容：格式不正确。"))
    errors: list[DomainError] = []
    out: dict = {}
    known = {f["name"] for f in form}
    for key in data:
        if key not in known:
            errors.append(
                _err("care.data_unknown", "data", _("记录内容：没有“%(k)s”这一项。") % {"k": str(key)[:40]})
            )
    for f in form:
        name, label, value = f["name"], f["label"], data.get(f["name"])
        if value is None or value == "":
            if f.get("required"):
                errors.append(_err("care.data_required", f"data.{name}", _("%(l)s：必填。") % {"l": label}))
            continue
        kind = f["type"]
        if kind == "text":
            value = str(value).strip()
            if len(value) > f.get("max_length", 100):
                errors.append(
                    _err("care.data_length", f"data.{name}",
                         _("%(l)s：不能超过%(n)d个字。") % {"l": label, "n": f.get("max_length", 100)})
                )  # fmt: skip
                continue
        elif kind == "number":
            try:
                value = (
                    float(value) if not isinstance(value, int | float) or isinstance(value, bool) else value
                )
                if isinstance(value, bool) or value != value:  # NaN
                    raise ValueError
            except (TypeError, ValueError):
                errors.append(_err("care.data_number", f"data.{name}", _("%(l)s：应为数字。") % {"l": label}))
                continue
            if ("min" in f and value < f["min"]) or ("max" in f and value > f["max"]):
                errors.append(
                    _err("care.data_range", f"data.{name}",
                         _("%(l)s：应在%(a)s至%(b)s之间。") % {"l": label, "a": f.get("min", "—"), "b": f.get("max", "—")})
                )  # fmt: skip
                continue
        elif kind == "choice":
            if value not in f["choices"]:
                errors.append(
                    _err("care.data_choice", f"data.{name}",
                         _("%(l)s：请从%(c)s中选择。") % {"l": label, "c": "、".join(f["choices"])})
                )  # fmt: skip
                continue
        elif kind == "bool":
            if value in ("true", "1", "on", "是"):
                value = True
            elif value in ("false", "0", "off", "否"):
                value = False
            if not isinstance(value, bool):
                errors.append(_err("care.data_bool", f"data.{name}", _("%(l)s：应为是或否。") % {"l": label}))
                continue
        elif kind == "date":
            try:
                value = date.fromisoformat(str(value)).isoformat()
            except ValueError:
                errors.append(
                    _err(
                        "care.data_date", f"data.{name}", _("%(l)s：日期格式应为 2026-01-31。") % {"l": label}
                    )
                )
                continue
        out[name] = value
    DomainErrors.raise_if_any(errors)
    return out


def snapshot(service) -> dict:
    """What a version of a service type said, as stored in its history and the audit log."""
    return {
        f: getattr(service, f)
        for f in (
            "code", "name", "description", "condition", "schedule", "interval_months", "event_kind",
            "event_windows", "lead_days", "roles", "facility_kind", "form", "consent_required", "clinical",
            "active", "order",
        )
    }  # fmt: skip


_WOMEN_15_49 = {"v": 1, "all": [{"sex": "F"}, {"age": {"min": 15, "max": 49}}]}
_WOMEN_35_64 = {"v": 1, "all": [{"sex": "F"}, {"age": {"min": 35, "max": 64}}]}
_OFFICERS = [Role.COMMUNITY_OFFICER, Role.ASSISTANT]
_CLINIC = [Role.CLINIC_STAFF]
# "检查结果", not "结果": the form's outcome (已服务 / 本人谢绝 …) is labelled 结果 on the same page.
_DONE_RESULT = {
    "name": "result",
    "label": "检查结果",
    "type": "choice",
    "choices": ["未见异常", "需进一步检查"],
}

# The catalogue shipped (a data migration installs it; administrators change it afterwards).
DEFAULTS: list[dict] = [
    {
        "code": "health_check", "name": "康检/访视", "order": 10,
        "description": "育龄妇女自愿参加的健康检查与随访，结果属临床信息。",
        "condition": _WOMEN_15_49, "schedule": Schedule.INTERVAL, "interval_months": 12, "lead_days": 14,
        "roles": _OFFICERS + _CLINIC, "facility_kind": "station", "clinical": True, "consent_required": True,
        "form": [_DONE_RESULT, {"name": "advice", "label": "健康建议", "type": "text", "max_length": 300}],
    },
    {
        "code": "household_visit", "name": "入户走访（核实居住）", "order": 20,
        "description": "信息员每季度核实户内人员是否仍在此居住；不询问婚育、怀孕或避孕情况。",
        "condition": {"v": 1, "household_head": True}, "schedule": Schedule.INTERVAL, "interval_months": 3,
        "lead_days": 7, "roles": [Role.BUILDING_VOLUNTEER, Role.ASSISTANT],
        "form": [{"name": "members_present", "label": "户内人员均仍在此居住", "type": "bool", "required": True},
                 {"name": "changes", "label": "变动说明", "type": "text", "max_length": 200}],
    },
    {
        "code": "contraceptive_counselling", "name": "避孕节育知情选择咨询", "order": 30,
        "description": "应本人要求或分娩后提供一次咨询，可领取免费药具；本人可以谢绝任何服务。使用何种方法属临床信息，只有服务机构人员记录和查看。",
        "condition": {"v": 1, "age": {"min": 15, "max": 49}}, "schedule": Schedule.EVENT,
        "event_kind": EventKind.CHILDBIRTH, "event_windows": [[42, 90]], "lead_days": 7,
        "roles": _OFFICERS + _CLINIC, "clinical": False, "consent_required": False,
        "form": [{"name": "supplies", "label": "免费药具（种类）", "type": "text", "max_length": 50},
                 {"name": "quantity", "label": "数量", "type": "number", "min": 0, "max": 1000},
                 {"name": "follow_up_agreed", "label": "本人同意随访", "type": "bool"},
                 {"name": "method", "label": "本人选择的方法", "type": "text", "max_length": 50,
                  "clinical": True}],
    },
    {
        "code": "cervical_screening", "name": "宫颈癌筛查", "order": 40,
        "description": "每位适龄妇女3年内至少提供一次（每年约三分之一）。",
        "condition": _WOMEN_35_64, "schedule": Schedule.INTERVAL, "interval_months": 36, "lead_days": 30,
        "roles": _CLINIC + _OFFICERS, "facility_kind": "township_hospital", "clinical": True,
        "consent_required": True, "form": [_DONE_RESULT],
    },
    {
        "code": "breast_screening", "name": "乳腺癌筛查", "order": 50,
        "description": "每位适龄妇女3年内至少提供一次（每年约三分之一）。",
        "condition": _WOMEN_35_64, "schedule": Schedule.INTERVAL, "interval_months": 36, "lead_days": 30,
        "roles": _CLINIC + _OFFICERS, "facility_kind": "township_hospital", "clinical": True,
        "consent_required": True, "form": [_DONE_RESULT],
    },
    {
        "code": "prepregnancy_check", "name": "免费孕前优生健康检查", "order": 60,
        "description": "计划怀孕的夫妇自愿报名，双方知情同意后检查。",
        "condition": {"v": 1, "age": {"min": 18, "max": 49}}, "schedule": Schedule.ON_REQUEST, "lead_days": 7,
        "roles": _CLINIC + _OFFICERS, "facility_kind": "township_hospital", "clinical": True,
        "consent_required": True, "form": [_DONE_RESULT],
    },
    {
        "code": "antenatal_follow_up", "name": "孕期随访", "order": 70,
        "description": "本人告知怀孕并同意后提供。",
        "condition": {"v": 1, "sex": "F"}, "schedule": Schedule.ON_REQUEST, "lead_days": 7,
        "roles": _CLINIC + _OFFICERS, "clinical": True, "consent_required": True, "form": [_DONE_RESULT],
    },
    {
        "code": "postnatal_visit", "name": "产后访视", "order": 80,
        "description": "分娩后第3–7天和第28–30天各一次入户访视。",
        "condition": {"v": 1, "sex": "F"}, "schedule": Schedule.EVENT, "event_kind": EventKind.CHILDBIRTH,
        "event_windows": [[3, 7], [28, 30]], "lead_days": 2, "roles": _CLINIC + _OFFICERS,
        "clinical": True, "consent_required": False, "form": [_DONE_RESULT],
    },
    {
        "code": "childcare_guidance", "name": "0–3岁婴幼儿照护指导", "order": 90,
        "description": "每半年一次，面向婴幼儿的家长。",
        "condition": {"v": 1, "age": {"under": 3}}, "schedule": Schedule.INTERVAL, "interval_months": 6,
        "lead_days": 14, "roles": _OFFICERS + _CLINIC,
        "form": [{"name": "topics", "label": "指导内容", "type": "text", "max_length": 200}],
    },
    {
        "code": "key_family_support", "name": "计生特殊家庭帮扶", "order": 100,
        "description": "不孕不育、子女残疾、失独家庭，本人同意后联系帮扶（003 四.(四)4）。",
        "condition": {"v": 1, "age": {"min": 18}}, "schedule": Schedule.ON_REQUEST, "lead_days": 7,
        "roles": [Role.ASSOCIATION_OFFICER, *_OFFICERS], "consent_required": True,
        "form": [{"name": "support", "label": "帮扶内容", "type": "text", "max_length": 300}],
    },
]  # fmt: skip
