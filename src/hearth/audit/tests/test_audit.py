import threading

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction

from hearth.audit import services as audit
from hearth.audit.models import AuditEntry
from hearth.audit.triggers import drop_sql
from hearth.core.settings_store import get_setting


def rows(**kw) -> int:
    return AuditEntry.objects.filter(**kw).count()


def test_person_page_view_writes_one_row(world, client, login):
    login(world, "community_officer")
    person = world.persons["A1a"]
    before = rows()
    assert client.get(f"/persons/{person.public_id}/").status_code == 200
    assert rows() == before + 1
    entry = AuditEntry.objects.latest("id")
    assert (entry.action, entry.object_id, entry.actor_username) == (
        "person.view",
        str(person.public_id),
        "u_community_officer",
    )
    assert entry.role == "community_officer" and entry.ip == "127.0.0.1"
    assert entry.place_path == person.dwelling.place.path


def test_api_detail_and_list_write_one_row_each(world, client, login):
    login(world, "community_officer")
    before = rows()
    client.get(f"/api/v1/persons/{world.persons['A1a'].public_id}")
    assert rows() == before + 1
    client.get("/api/v1/persons?q=居民")
    assert rows() == before + 2
    entry = AuditEntry.objects.latest("id")
    assert entry.action == "person.list" and entry.row_count == 4 and entry.data == {"q": "居民"}


def test_failed_change_writes_nothing(world, client, login):
    login(world, "community_officer")
    person = world.persons["A1a"]
    before = rows()
    r = client.patch(
        f"/api/v1/persons/{person.public_id}",
        {"version": 1, "id_number": "123"},
        content_type="application/json",
    )
    assert r.status_code == 422
    assert rows() == before


def test_seal_and_verify_the_chain(world):
    sealed = audit.seal_pending()
    assert sealed == rows() > 0
    result = audit.verify_chain()
    assert result.ok and result.checked == sealed
    assert audit.seal_pending() == 0  # idempotent


def test_the_database_refuses_delete_and_rewrite(world):
    audit.seal_pending()
    entry = AuditEntry.objects.order_by("seq").first()
    with pytest.raises((IntegrityError, DatabaseError)), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).delete()
    with pytest.raises((IntegrityError, DatabaseError)), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).update(action="nothing.happened")
    with pytest.raises((IntegrityError, DatabaseError)), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).update(seq=999999)  # a sealed row cannot be resealed
    assert AuditEntry.objects.get(pk=entry.pk).action == entry.action


def test_tampering_is_found(world):
    audit.seal_pending()
    victim = AuditEntry.objects.order_by("seq")[3]
    # An attacker with database access drops the trigger and rewrites a row.
    with connection.cursor() as cur:
        for sql in drop_sql(connection.vendor):
            cur.execute(sql)
        cur.execute(
            "UPDATE audit_auditentry SET actor_username = %s WHERE id = %s", ["someone_else", victim.pk]
        )
    result = audit.verify_chain()
    assert not result.ok
    assert result.broken_seq == victim.seq and result.broken_id == victim.pk


def test_deleted_rows_are_found(world):
    audit.seal_pending()
    victim = AuditEntry.objects.order_by("seq")[2]
    with connection.cursor() as cur:
        for sql in drop_sql(connection.vendor):
            cur.execute(sql)
        cur.execute("DELETE FROM audit_auditentry WHERE id = %s", [victim.pk])
    result = audit.verify_chain()
    assert not result.ok and result.broken_seq == victim.seq + 1


def test_retention_purge_is_audited_and_the_rest_still_verifies(db, monkeypatch):
    from datetime import timedelta

    from hearth.accounts.actor import Actor
    from hearth.core import time

    actor = Actor.system("retention test")
    days = int(get_setting("audit.retention_days"))
    real_now = time.now
    monkeypatch.setattr(time, "now", lambda: real_now() - timedelta(days=days + 1))
    for i in range(5):
        audit.record(actor=actor, action="test.old", object_id=str(i))
    monkeypatch.setattr(time, "now", real_now)
    for i in range(3):
        audit.record(actor=actor, action="test.recent", object_id=str(i))
    audit.seal_pending()

    purged = audit.purge_expired(actor=actor, reason="保留期满")

    assert purged == 5
    assert rows(action="test.old") == 0 and rows(action="test.recent") == 3
    purge_row = AuditEntry.objects.get(action="audit.retention_purge")
    assert purge_row.row_count == 5 and purge_row.reason == "保留期满" and purge_row.seq == 9
    assert purge_row.data["through_seq"] == 5
    assert audit.verify_chain().ok
    # Outside the purge's own transaction the window is closed again: deletes are refused.
    with pytest.raises((IntegrityError, DatabaseError)), transaction.atomic():
        AuditEntry.objects.filter(action="test.recent").delete()


@pytest.fixture
def audit_teardown(transactional_db):
    yield
    # pytest-django flushes the database after this test; the trigger lets that happen only in a window.
    audit.clear_for_test_teardown()


@pytest.mark.postgres
def test_concurrent_writers_and_sealers_give_one_chain(audit_teardown):
    if connection.vendor != "postgresql":
        pytest.skip("concurrency is exercised on PostgreSQL")
    from hearth.accounts.actor import Actor

    errors = []

    def writer(n: int):
        try:
            actor = Actor.system(f"writer {n}")
            for i in range(40):
                with transaction.atomic():
                    audit.record(actor=actor, action="test.write", object_id=f"{n}-{i}")
                if i % 10 == 0:
                    audit.seal_pending()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    audit.seal_pending()
    assert rows(seq__isnull=True) == 0
    result = audit.verify_chain()
    assert result.ok and result.checked == rows() == 160
    seqs = list(AuditEntry.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, 161))


def test_each_audited_action_writes_exactly_one_row(world):
    from datetime import date

    from hearth.accounts import services as accounts
    from hearth.accounts.models import User
    from hearth.core import citizen_id
    from hearth.places import services as places
    from hearth.registry import services as registry

    officer = world.actor("community_officer")
    security = world.actor("security_admin")
    born = date(1991, 2, 3)

    def one(action, fn):
        before = rows()
        result = fn()
        assert rows() == before + 1, action
        assert AuditEntry.objects.latest("id").action == action
        return result

    building = one(
        "place.create",
        lambda: places.place_create(actor=officer, kind="building", name="8号楼", parent=world.places["A1a"]),
    )
    dwelling = one(
        "dwelling.create", lambda: places.dwelling_create(actor=officer, place=building, address="801室")
    )
    values = {
        "name": "甲",
        "sex": "F",
        "birth_date": born,
        "id_number": citizen_id.make("410103", born, 4),
        "dwelling": dwelling,
    }
    person = one("person.create", lambda: registry.person_register(actor=officer, values=values))
    one(
        "person.update",
        lambda: registry.person_update(actor=officer, person=person, values={"name": "乙"}, version=1),
    )
    one(
        "person.reveal_id",
        lambda: registry.person_reveal_id(
            actor=world.actor("subdistrict_officer"), person=person, reason="核对"
        ),
    )
    user = User.objects.create_user(username="new_staff", password="x-Unused-pw-77")
    grant = one(
        "grant.create",
        lambda: accounts.grant_create(actor=security, user=user, role="assistant", place=world.places["A1a"]),
    )
    one("grant.revoke", lambda: accounts.grant_revoke(actor=security, grant=grant))
    one(
        "permission.revoke",
        lambda: accounts.role_permission_set(
            actor=security, role="assistant", permission="person.create", allowed=False
        ),
    )
    token, _secret = one(
        "token.create",
        lambda: accounts.token_create(actor=officer, grant=world.grants["community_officer"], name="t"),
    )
    one("token.revoke", lambda: accounts.token_revoke(actor=officer, token=token))


def test_administrative_roles_never_gain_personal_data_rights(world):
    from hearth.accounts.services import role_permission_set
    from hearth.core.errors import DomainError

    with pytest.raises(DomainError) as exc:
        role_permission_set(
            actor=world.actor("security_admin"), role="auditor", permission="person.view", allowed=True
        )
    assert exc.value.code == "permission.separation"


def test_auditor_searches_and_exports_the_log(world, client, login):
    login(world, "auditor")
    person = world.persons["A1a"]
    r = client.get(f"/audit/?person={person.public_id}")
    assert r.status_code == 200 and "person.create" in r.content.decode()
    r = client.post("/audit/export/", {"action": "person."})
    assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.openxmlformats")
    exported = AuditEntry.objects.get(action="audit.export")
    # Six persons live in district A; the auditor of district A does not see district B's rows.
    assert exported.row_count == 6 and len(exported.data["sha256"]) == 64
    # The auditor's own reads are on the record too.
    assert AuditEntry.objects.filter(action="audit.search", actor_username="u_auditor").exists()
