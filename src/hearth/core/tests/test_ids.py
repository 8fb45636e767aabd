import time
import uuid
from unittest import mock

import pytest

from hearth.core import ids


def test_a_public_id_is_a_version_7_uuid_with_the_current_millisecond():
    before = time.time_ns() // 1_000_000
    u = ids.new_public_id()
    after = time.time_ns() // 1_000_000
    assert u.version == 7
    assert u.variant == uuid.RFC_4122
    assert before <= int.from_bytes(u.bytes[:6], "big") <= after


def test_later_ids_sort_after_earlier_ones():
    with mock.patch.object(ids.time, "time_ns", return_value=1_800_000_000_000 * 10**6):
        early = [ids.new_public_id() for _ in range(50)]
    with mock.patch.object(ids.time, "time_ns", return_value=(1_800_000_000_000 + 1) * 10**6):
        late = [ids.new_public_id() for _ in range(50)]
    assert max(early) < min(late)
    assert max(str(u) for u in early) < min(str(u) for u in late)  # as text too (the URLs' form)


def test_ids_of_one_millisecond_differ():
    with mock.patch.object(ids.time, "time_ns", return_value=1_800_000_000_000 * 10**6):
        made = {ids.new_public_id() for _ in range(10_000)}
    assert len(made) == 10_000


@pytest.mark.parametrize("n", [1, 2, 8192])
def test_a_block_holds_n_distinct_version_7_ids_of_one_millisecond(n):
    raw = ids.block(n)
    assert len(raw) == 16 * n
    made = [uuid.UUID(bytes=raw[i : i + 16]) for i in range(0, len(raw), 16)]
    assert len(set(made)) == n
    assert {u.version for u in made} == {7}
    assert {u.variant for u in made} == {uuid.RFC_4122}
    assert len({u.bytes[:6] for u in made}) == 1


@pytest.mark.django_db
def test_records_get_time_ordered_public_ids():
    from hearth.registry.models import LifeEvent
    from hearth.testing import build_world

    person = next(iter(build_world().persons.values()))
    assert person.public_id.version == 7
    events = LifeEvent.objects.filter(person=person)
    assert events.exists()
    assert {e.public_id.version for e in events} == {7}
