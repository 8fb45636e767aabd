from django.db import migrations

# Permissions added with the registry in full; only rows that are missing are created, so the security
# administrator's later edits are kept.
ADDED = {
    "district_admin": ["list.manage"],
    "community_officer": ["change_report.create", "change_report.decide"],
    "assistant": ["change_report.create", "change_report.decide"],
    "building_volunteer": ["change_report.create"],
}


def seed(apps, schema_editor):
    RolePermission = apps.get_model("accounts", "RolePermission")
    RolePermission.objects.bulk_create(
        [RolePermission(role=role, permission=perm) for role, perms in ADDED.items() for perm in perms],
        ignore_conflicts=True,
    )


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_permission_choices")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
