from django.db import migrations

# The import permission (issue 6); only missing rows are created, so later edits are kept.
ADDED = {
    "subdistrict_officer": ["person.import"],
    "community_officer": ["person.import"],
    "data_clerk": ["person.import"],
}


def seed(apps, schema_editor):
    RolePermission = apps.get_model("accounts", "RolePermission")
    RolePermission.objects.bulk_create(
        [RolePermission(role=role, permission=perm) for role, perms in ADDED.items() for perm in perms],
        ignore_conflicts=True,
    )


class Migration(migrations.Migration):
    dependencies = [("accounts", "0005_permission_choices_registry")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
