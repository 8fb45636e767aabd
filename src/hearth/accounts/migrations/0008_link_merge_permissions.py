from django.db import migrations

# Partner-list matching and merging duplicates (issue 6); only missing rows are created, so later edits are kept.
ADDED = {
    "subdistrict_officer": ["person.link", "person.merge"],
    "community_officer": ["person.link", "person.merge"],
    "data_clerk": ["person.link"],
}


def seed(apps, schema_editor):
    RolePermission = apps.get_model("accounts", "RolePermission")
    RolePermission.objects.bulk_create(
        [RolePermission(role=role, permission=perm) for role, perms in ADDED.items() for perm in perms],
        ignore_conflicts=True,
    )


class Migration(migrations.Migration):
    dependencies = [("accounts", "0007_permission_choices_import")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
