"""ID numbers encrypted at rest: nothing in the clear, lookups through blind indexes, keys that rotate."""

import base64
import json
from datetime import date

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection

from hearth.accounts.actor import Actor
from hearth.audit.models import AuditEntry
from hearth.core import citizen_id, crypto
from hearth.core.errors import DomainError
from hearth.registry import identity, keys
from hearth.registry.models import Person
from hearth.registry.selectors import PersonFilter, person_search
from hearth.registry.services import person_register

SYSTEM = Actor.system("test")
BORN = date(1950, 3, 4)


@pytest.fixture(autouse=True)
def _fresh_keyring():
    crypto.reset_keyring_cache()
    yield
    crypto.reset_keyring_cache()


def _values(world, **kw):
    return {
        "name": "钱七",
        "sex": "M",
        "birth_date": BORN,
        "id_number": citizen_id.make("410103", BORN, 7),
        "dwelling": world.dwellings["A1a"],
    } | kw


def _raw_row(person) -> dict:
    with connection.cursor() as cur:
        cur.execute("SELECT * FROM registry_person WHERE id = %s", [person.pk])
        names = [c[0] for c in cur.description]
        return dict(zip(names, cur.fetchone(), strict=True))


def test_no_column_holds_the_number_or_its_tail(world):
    number = citizen_id.make("410103", BORN, 7)
    person = person_register(actor=SYSTEM, values=_values(world))
    row = _raw_row(person)
    for name, value in row.items():
        text = bytes(value).decode("latin-1") if isinstance(value, bytes | memoryview) else str(value)
        assert number not in text, name
        assert number[-6:] not in text, name
    assert identity.reveal(person) == number


def test_a_ciphertext_moved_to_another_row_does_not_decrypt(world):
    a = person_register(actor=SYSTEM, values=_values(world))
    b = world.persons["A1b"]
    b.id_cipher, b.id_key = a.id_cipher, a.id_key
    with pytest.raises(crypto.DecryptionError):
        identity.reveal(b)


def test_one_person_per_number_whatever_form_it_is_given_in(world):
    person_register(actor=SYSTEM, values=_values(world))
    number = citizen_id.make("410103", BORN, 7)
    fifteen = number[:6] + number[8:17]  # the old 15-digit form of the same number
    spaced = f" {number[:6]} {number[6:14]}-{number[14:]} "
    for raw in (number, fifteen, spaced):
        with pytest.raises(DomainError) as exc:
            person_register(
                actor=SYSTEM, values=_values(world, id_number=raw, dwelling=world.dwellings["B1a"])
            )
        assert "id.duplicate" in {e.code for e in getattr(exc.value, "errors", [exc.value])}
    assert Person.objects.for_system().filter(name="钱七").count() == 1


def test_duplicate_message_does_not_say_where(world, client, login):
    other = world.persons["B1a"]
    login(world, "community_officer")
    r = client.post(
        "/api/v1/persons",
        {
            "name": "重复",
            "sex": "F",
            "birth_date": other.birth_date.isoformat(),
            "id_number": identity.reveal(other),
            "dwelling_id": str(world.dwellings["A1a"].public_id),
        },
        content_type="application/json",
    )
    assert r.status_code == 422
    detail = r.json()["detail"][0]
    assert detail["type"] == "id.duplicate" and detail["loc"][-1] == "id_number"
    assert "建设路" not in detail["msg"] and other.name not in detail["msg"]
    assert "迁移" in detail["msg"]


def test_spreadsheet_float_is_refused_not_rounded(world):
    with pytest.raises(DomainError) as exc:
        person_register(actor=SYSTEM, values=_values(world, id_number="4.10103E+17"))
    assert "id.spreadsheet_number" in {e.code for e in getattr(exc.value, "errors", [exc.value])}


def test_legacy_import_may_keep_an_unverified_number(world):
    person = person_register(
        actor=SYSTEM, values=_values(world, id_number="410103195003040071"), allow_unverified=True
    )
    assert person.id_unverified and identity.reveal(person) == "410103195003040071"
    officer = world.actor("community_officer")
    _rows, total = person_search(
        actor=officer, flt=PersonFilter(id_number="410103195003040071"), limit=5, offset=0
    )
    assert total == 1


def test_other_document_types(world):
    person = person_register(
        actor=SYSTEM, values=_values(world, id_type="hk_macao_permit", id_number="h12345678")
    )
    assert identity.reveal(person) == "H12345678"
    with pytest.raises(DomainError) as exc:
        person_register(actor=SYSTEM, values=_values(world, name="错", id_type="passport", id_number="E1"))
    assert exc.value.code == "id.format_other"


@pytest.mark.parametrize("tail_len", [4, 5, 6])
def test_tail_search_through_the_indexes(world, tail_len):
    officer = world.actor("community_officer")
    number = identity.reveal(world.persons["A1a"])
    rows, _total = person_search(
        actor=officer, flt=PersonFilter(id_number=number[-tail_len:]), limit=10, offset=0
    )
    assert [p.pk for p in rows] == [world.persons["A1a"].pk]
    # The same tail of a person out of scope is not found.
    foreign = identity.reveal(world.persons["B1a"])
    rows, _total = person_search(
        actor=officer, flt=PersonFilter(id_number=foreign[-tail_len:]), limit=10, offset=0
    )
    assert world.persons["B1a"].pk not in [p.pk for p in rows]


def test_search_writes_only_the_last_four_to_the_audit_log(world):
    officer = world.actor("community_officer")
    number = identity.reveal(world.persons["A1a"])
    person_search(actor=officer, flt=PersonFilter(id_number=number), limit=10, offset=0)
    entry = AuditEntry.objects.filter(action="person.list").latest("id")
    assert number not in json.dumps(entry.data) and entry.data["id_tail"] == number[-4:]


def _ring(current: str, *keys_: tuple[str, str, bytes]) -> dict:
    index = base64.b64encode(b"i" * 32).decode()
    return {
        "current": current,
        "keys": {k: {"alg": alg, "key": base64.b64encode(raw).decode()} for k, alg, raw in keys_},
        "index": {"alg": crypto.HMAC_SHA256, "key": index},
    }


def test_rotation_re_encrypts_in_batches_and_resumes(world, settings):
    # The fixture world was encrypted under the test keyring's t1; keep it, and its index key.
    t1 = settings.HEARTH_KEYRING["keys"]["t1"]
    index = settings.HEARTH_KEYRING["index"]
    old = ("t1", t1["alg"], base64.b64decode(t1["key"]))

    def ring(current, *ks):
        return _ring(current, *ks) | {"index": index}

    settings.HEARTH_KEYRING = ring("t1", old)
    crypto.reset_keyring_cache()
    for i in range(5):
        born = date(1960, 1, i + 1)
        person_register(
            actor=SYSTEM,
            values=_values(
                world, name=f"轮换{i}", birth_date=born, id_number=citizen_id.make("410103", born, 9)
            ),
        )
    numbers = {p.pk: identity.reveal(p) for p in Person.objects.for_system().filter(name__startswith="轮换")}
    settings.HEARTH_KEYRING = ring("n2", old, ("n2", crypto.SM4, b"n" * 16))
    crypto.reset_keyring_cache()

    class Stop(Exception):
        pass

    def stop_after_first(done, total):
        raise Stop

    with pytest.raises(Stop):
        keys.rotate(actor=SYSTEM, batch=2, progress=stop_after_first)
    total = sum(keys.key_usage().values())
    assert keys.key_usage()["n2"] == 2  # the first batch committed before the interruption
    assert keys.rotate(actor=SYSTEM, batch=2) == total - 2
    assert set(keys.key_usage()) == {"n2"}
    for p in Person.objects.for_system().filter(name__startswith="轮换"):
        assert identity.reveal(p) == numbers[p.pk]
    # Blind indexes did not change: exact search still finds them.
    officer = world.actor("community_officer")
    _rows, found = person_search(
        actor=officer, flt=PersonFilter(id_number=next(iter(numbers.values()))), limit=5, offset=0
    )
    assert found == 1
    assert AuditEntry.objects.filter(action="keys.rotate").exists()


def test_sm4_and_hmac_sm3_keyring_round_trip():
    data = crypto.new_keyring_data(crypto.SM4, crypto.HMAC_SM3)
    ring = crypto.parse_keyring(data)
    key_id, blob = ring.encrypt("410103195003040071", b"aad")
    assert ring.decrypt(key_id, blob, b"aad") == "410103195003040071"
    with pytest.raises(crypto.DecryptionError):
        ring.decrypt(key_id, blob, b"other")
    assert ring.blind_index("id", "x") == ring.blind_index("id", "x") != ring.blind_index("tail4", "x")


def test_bad_keyrings_are_refused():
    with pytest.raises(ImproperlyConfigured):
        crypto.parse_keyring(_ring("missing", ("k1", crypto.AES, b"k" * 32)))
    with pytest.raises(ImproperlyConfigured):
        crypto.parse_keyring(_ring("k1", ("k1", crypto.AES, b"short")))


def test_keys_command_init_add_status(tmp_path, settings):
    path = tmp_path / "keys.json"
    settings.HEARTH_KEYRING = None
    settings.HEARTH_KEY_FILE = str(path)
    settings.HEARTH_KEYS_AUTOCREATE = False
    crypto.reset_keyring_cache()
    with pytest.raises(ImproperlyConfigured):
        crypto.keyring()
    call_command("keys", "init")
    assert path.stat().st_mode & 0o777 == 0o600
    call_command("keys", "add", "--alg", crypto.SM4)
    crypto.reset_keyring_cache()
    ring = crypto.keyring()
    assert ring.current == "k2" and ring.keys["k2"].alg == crypto.SM4 and "k1" in ring.keys


@pytest.mark.postgres
def test_blind_index_columns_compare_in_byte_order_on_postgresql(db):
    """Migration 0011: a later AlterField of these columns would silently drop COLLATE "C" (and with it the
    faster index builds); this says so."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    with connection.cursor() as cur:
        cur.execute(
            "SELECT column_name, collation_name FROM information_schema.columns"
            " WHERE table_name = 'registry_person' AND column_name IN ('id_index', 'id_tail6', 'id_tail4')"
        )
        assert dict(cur.fetchall()) == {"id_index": "C", "id_tail6": "C", "id_tail4": "C"}
