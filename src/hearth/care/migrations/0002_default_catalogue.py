from django.db import migrations

# The catalogue shipped (hearth.care.catalogue.DEFAULTS when this was written, frozen here): administrators
# change it afterwards as data. Each service gets its first version row.
DEFAULTS = [
    {
        "code": "health_check",
        "name": "康检/访视",
        "description": "育龄妇女自愿参加的健康检查与随访，结果属临床信息。",
        "condition": {"v": 1, "all": [{"sex": "F"}, {"age": {"min": 15, "max": 49}}]},
        "schedule": "interval",
        "interval_months": 12,
        "event_kind": "",
        "event_windows": [],
        "lead_days": 14,
        "roles": ["assistant", "clinic_staff", "community_officer"],
        "facility_kind": "station",
        "form": [
            {
                "name": "result",
                "label": "检查结果",
                "type": "choice",
                "required": False,
                "choices": ["未见异常", "需进一步检查"],
            },
            {"name": "advice", "label": "健康建议", "type": "text", "required": False, "max_length": 300},
        ],
        "consent_required": True,
        "clinical": True,
        "active": True,
        "order": 10,
    },
    {
        "code": "household_visit",
        "name": "入户走访（核实居住）",
        "description": "信息员每季度核实户内人员是否仍在此居住；不询问婚育、怀孕或避孕情况。",
        "condition": {"v": 1, "household_head": True},
        "schedule": "interval",
        "interval_months": 3,
        "event_kind": "",
        "event_windows": [],
        "lead_days": 7,
        "roles": ["assistant", "building_volunteer"],
        "facility_kind": "",
        "form": [
            {"name": "members_present", "label": "户内人员均仍在此居住", "type": "bool", "required": True},
            {"name": "changes", "label": "变动说明", "type": "text", "required": False, "max_length": 200},
        ],
        "consent_required": False,
        "clinical": False,
        "active": True,
        "order": 20,
    },
    {
        "code": "contraceptive_counselling",
        "name": "避孕节育知情选择咨询",
        "description": "应本人要求或分娩后提供一次咨询，可领取免费药具；本人可以谢绝任何服务。使用何种方法属临床信息，只有服务机构人员记录和查看。",
        "condition": {"v": 1, "age": {"min": 15, "max": 49}},
        "schedule": "event",
        "interval_months": None,
        "event_kind": "childbirth",
        "event_windows": [[42, 90]],
        "lead_days": 7,
        "roles": ["assistant", "clinic_staff", "community_officer"],
        "facility_kind": "",
        "form": [
            {
                "name": "supplies",
                "label": "免费药具（种类）",
                "type": "text",
                "required": False,
                "max_length": 50,
            },
            {"name": "quantity", "label": "数量", "type": "number", "required": False, "min": 0, "max": 1000},
            {"name": "follow_up_agreed", "label": "本人同意随访", "type": "bool", "required": False},
            {
                "name": "method",
                "label": "本人选择的方法",
                "type": "text",
                "required": False,
                "clinical": True,
                "max_length": 50,
            },
        ],
        "consent_required": False,
        "clinical": False,
        "active": True,
        "order": 30,
    },
    {
        "code": "cervical_screening",
        "name": "宫颈癌筛查",
        "description": "每位适龄妇女3年内至少提供一次（每年约三分之一）。",
        "condition": {"v": 1, "all": [{"sex": "F"}, {"age": {"min": 35, "max": 64}}]},
        "schedule": "interval",
        "interval_months": 36,
        "event_kind": "",
        "event_windows": [],
        "lead_days": 30,
        "roles": ["assistant", "clinic_staff", "community_officer"],
        "facility_kind": "township_hospital",
        "form": [
            {
                "name": "result",
                "label": "检查结果",
                "type": "choice",
                "required": False,
                "choices": ["未见异常", "需进一步检查"],
            }
        ],
        "consent_required": True,
        "clinical": True,
        "active": True,
        "order": 40,
    },
    {
        "code": "breast_screening",
        "name": "乳腺癌筛查",
        "description": "每位适龄妇女3年内至少提供一次（每年约三分之一）。",
        "condition": {"v": 1, "all": [{"sex": "F"}, {"age": {"min": 35, "max": 64}}]},
        "schedule": "interval",
        "interval_months": 36,
        "event_kind": "",
        "event_windows": [],
        "lead_days": 30,
        "roles": ["assistant", "clinic_staff", "community_officer"],
        "facility_kind": "township_hospital",
        "form": [
            {
                "name": "result",
                "label": "检查结果",
                "type": "choice",
                "required": False,
                "choices": ["未见异常", "需进一步检查"],
            }
        ],
        "consent_required": True,
        "clinical": True,
        "active": True,
        "order": 50,
    },
    {
        "code": "prepregnancy_check",
        "name": "免费孕前优生健康检查",
        "description": "计划怀孕的夫妇自愿报名，双方知情同意后检查。",
        "condition": {"v": 1, "age": {"min": 18, "max": 49}},
        "schedule": "on_request",
        "interval_months": None,
        "event_kind": "",
        "event_windows": [],
        "lead_days": 7,
        "roles": ["assistant", "clinic_staff", "community_officer"],
        "facility_kind": "township_hospital",
        "form": [
            {
                "name": "result",
                "label": "检查结果",
                "type": "choice",
                "required": False,
                "choices": ["未见异常", "需进一步检查"],
            }
        ],
        "consent_required": True,
        "clinical": True,
        "active": True,
        "order": 60,
    },
    {
        "code": "antenatal_follow_up",
        "name": "孕期随访",
        "description": "本人告知怀孕并同意后提供。",
        "condition": {"v": 1, "sex": "F"},
        "schedule": "on_request",
        "interval_months": None,
        "event_kind": "",
        "event_windows": [],
        "lead_days": 7,
        "roles": ["assistant", "clinic_staff", "community_officer"],
        "facility_kind": "",
        "form": [
            {
                "name": "result",
                "label": "检查结果",
                "type": "choice",
                "required": False,
                "choices": ["未见异常", "需进一步检查"],
            }
        ],
        "consent_required": True,
        "clinical": True,
        "active": True,
        "order": 70,
    },
    {
        "code": "postnatal_visit",
        "name": "产后访视",
        "description": "分娩后第3–7天和第28–30天各一次入户访视。",
        "condition": {"v": 1, "sex": "F"},
        "schedule": "event",
        "interval_months": None,
        "event_kind": "childbirth",
        "event_windows": [[3, 7], [28, 30]],
        "lead_days": 2,
        "roles": ["assistant", "clinic_staff", "community_officer"],
        "facility_kind": "",
        "form": [
            {
                "name": "result",
                "label": "检查结果",
                "type": "choice",
                "required": False,
                "choices": ["未见异常", "需进一步检查"],
            }
        ],
        "consent_required": False,
        "clinical": True,
        "active": True,
        "order": 80,
    },
    {
        "code": "childcare_guidance",
        "name": "0–3岁婴幼儿照护指导",
        "description": "每半年一次，面向婴幼儿的家长。",
        "condition": {"v": 1, "age": {"under": 3}},
        "schedule": "interval",
        "interval_months": 6,
        "event_kind": "",
        "event_windows": [],
        "lead_days": 14,
        "roles": ["assistant", "clinic_staff", "community_officer"],
        "facility_kind": "",
        "form": [
            {"name": "topics", "label": "指导内容", "type": "text", "required": False, "max_length": 200}
        ],
        "consent_required": False,
        "clinical": False,
        "active": True,
        "order": 90,
    },
    {
        "code": "key_family_support",
        "name": "计生特殊家庭帮扶",
        "description": "不孕不育、子女残疾、失独家庭，本人同意后联系帮扶（003 四.(四)4）。",
        "condition": {"v": 1, "age": {"min": 18}},
        "schedule": "on_request",
        "interval_months": None,
        "event_kind": "",
        "event_windows": [],
        "lead_days": 7,
        "roles": ["assistant", "association_officer", "community_officer"],
        "facility_kind": "",
        "form": [
            {"name": "support", "label": "帮扶内容", "type": "text", "required": False, "max_length": 300}
        ],
        "consent_required": True,
        "clinical": False,
        "active": True,
        "order": 100,
    },
]

FIELDS = (
    "code", "name", "description", "condition", "schedule", "interval_months", "event_kind", "event_windows",
    "lead_days", "roles", "facility_kind", "form", "consent_required", "clinical", "active", "order",
)  # fmt: skip


def install(apps, schema_editor):
    from django.utils import timezone

    ServiceType = apps.get_model("care", "ServiceType")
    ServiceTypeVersion = apps.get_model("care", "ServiceTypeVersion")
    for values in DEFAULTS:
        if ServiceType.objects.filter(code=values["code"]).exists():
            continue
        service = ServiceType.objects.create(**values)
        snapshot = {f: getattr(service, f) for f in FIELDS}
        ServiceTypeVersion.objects.create(
            service=service, version=1, snapshot=snapshot, changed_at=timezone.now()
        )


class Migration(migrations.Migration):
    dependencies = [("care", "0001_initial")]
    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
