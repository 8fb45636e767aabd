from django.db import migrations

TABLE = "registry_lifeevent"

# The derived lists shipped, as data in the condition language (registry/conditions.py). Editing them
# later is an administrator's change with its own version; this migration only creates what is missing.
LISTS = [
    (
        "women_15_49",
        "育龄妇女（15–49周岁）",
        {"v": 1, "all": [{"sex": "F"}, {"age": {"min": 15, "max": 49}}]},
    ),
    (
        "married_women_15_49",
        "已婚育龄妇女（15–49周岁）",
        {"v": 1, "all": [{"list": "women_15_49"}, {"marital": ["20"]}]},
    ),
    ("children_0_3", "0–3岁儿童（未满3周岁）", {"v": 1, "age": {"min": 0, "under": 3}}),
    ("children_0_6", "0–6岁儿童（未满7周岁）", {"v": 1, "age": {"min": 0, "under": 7}}),
    ("elderly_60", "60岁及以上老年人", {"v": 1, "age": {"min": 60}}),
    ("inflow", "流入人口", {"v": 1, "residence": ["inflow"]}),
    ("outflow", "流出人口", {"v": 1, "residence": ["outflow"]}),
    ("unverified_ids", "证件号码待核实人员", {"v": 1, "id_unverified": True}),
]
DESCRIPTIONS = {
    "married_women_15_49": "各地康检任务表的基数，保留以便复现原任务表；服务对象的条件不以婚姻状况为准。",
}


def install(apps, schema_editor):
    from hearth.audit.triggers import append_only_sql

    for sql in append_only_sql(schema_editor.connection.vendor, TABLE):
        schema_editor.execute(sql, params=None)


def drop(apps, schema_editor):
    from hearth.audit.triggers import drop_append_only_sql

    for sql in drop_append_only_sql(schema_editor.connection.vendor, TABLE):
        schema_editor.execute(sql, params=None)


def seed_lists(apps, schema_editor):
    ListDefinition = apps.get_model("registry", "ListDefinition")
    for code, name, spec in LISTS:
        ListDefinition.objects.get_or_create(
            code=code, defaults={"name": name, "spec": spec, "description": DESCRIPTIONS.get(code, "")}
        )


class Migration(migrations.Migration):
    dependencies = [("registry", "0002_registry_in_full"), ("audit", "0002_append_only_triggers")]
    operations = [
        migrations.RunPython(install, drop),
        migrations.RunPython(seed_lists, migrations.RunPython.noop),
    ]
