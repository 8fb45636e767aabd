from hearth.accounts.actor import permissions_for
from hearth.accounts.roles import DEFAULT_PERMISSIONS


def test_shipped_table_matches_the_migrated_rows(db):
    """roles.DEFAULT_PERMISSIONS documents the table the migrations install; they must not drift apart."""
    for role, perms in DEFAULT_PERMISSIONS.items():
        assert permissions_for(role) == frozenset(str(p) for p in perms), role


def test_permission_table_page_toggles_and_audits(world, client, login):
    from hearth.audit.models import AuditEntry

    login(world, "security_admin")
    assert "必须使用双因素认证" in client.get("/admin/permissions/").content.decode()
    client.post("/admin/permissions/", {"role": "assistant", "permission": "person.create", "allowed": "0"})
    assert "person.create" not in permissions_for("assistant")
    assert AuditEntry.objects.filter(action="permission.revoke", object_id="assistant").count() == 1
