from django.db import migrations

# Care services (issue 7); only missing rows are created, so later edits of the table are kept.
ADDED = {
    "district_admin": ["care.view", "care.manage"],
    "subdistrict_officer": ["care.view", "care.record"],
    "community_officer": ["care.view", "care.record"],
    "assistant": ["care.view", "care.record"],
    "building_volunteer": ["care.view", "care.record"],
    "data_clerk": ["care.view"],
    "clinic_staff": ["care.view", "care.record", "care.clinical"],
    "association_officer": ["care.view", "care.record"],
}


def seed(apps, schema_editor):
    RolePermission = apps.get_model("accounts", "RolePermission")
    RolePermission.objects.bulk_create(
        [RolePermission(role=role, permission=perm) for role, perms in ADDED.items() for perm in perms],
        ignore_conflicts=True,
    )


class Migration(migrations.Migration):
    dependencies = [("accounts", "0009_permission_choices_link_merge")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
