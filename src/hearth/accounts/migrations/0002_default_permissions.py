from django.db import migrations

# The permission table as shipped, frozen here: later changes to the defaults ship their own migration,
# and the security administrator's edits (data) are never overwritten.
PERMISSIONS = {
    "district_admin": [
        "auth.require_2fa",
        "export.approve",
        "person.export",
        "person.reveal_id",
        "person.view",
        "person.view_full",
        "place.manage",
        "place.view",
    ],
    "subdistrict_officer": [
        "auth.require_2fa",
        "export.approve",
        "person.change",
        "person.create",
        "person.export",
        "person.reveal_id",
        "person.view",
        "person.view_full",
        "place.manage",
        "place.view",
    ],
    "community_officer": [
        "person.change",
        "person.create",
        "person.export",
        "person.view",
        "person.view_full",
        "place.manage",
        "place.view",
    ],
    "assistant": ["person.change", "person.create", "person.view", "person.view_full", "place.view"],
    "building_volunteer": ["person.view", "place.view"],
    "data_clerk": [
        "person.change",
        "person.create",
        "person.export",
        "person.view",
        "person.view_full",
        "place.manage",
        "place.view",
    ],
    "clinic_staff": ["auth.require_2fa", "person.view", "person.view_full"],
    "association_officer": ["person.view", "person.view_full", "place.view"],
    "system_admin": ["account.manage", "place.view", "settings.manage"],
    "security_admin": ["auth.require_2fa", "grant.manage", "place.view"],
    "auditor": ["audit.export", "audit.view", "auth.require_2fa"],
}


def seed(apps, schema_editor):
    RolePermission = apps.get_model("accounts", "RolePermission")
    RolePermission.objects.bulk_create(
        [RolePermission(role=role, permission=perm) for role, perms in PERMISSIONS.items() for perm in perms],
        ignore_conflicts=True,
    )


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
