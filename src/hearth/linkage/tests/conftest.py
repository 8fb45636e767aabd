import pytest

from hearth.accounts.roles import Role
from hearth.registry.models import Person


@pytest.fixture
def officer(world):
    for key, name, phone in (("A1a", "张秀兰", "13800000001"), ("A1a-b1", "刘桂英", ""), ("B1a", "陈静", "")):
        Person.objects.for_system().filter(pk=world.persons[key].pk).update(name=name, phone=phone, pinyin="")
        world.persons[key].refresh_from_db()
    return world.actor(Role.COMMUNITY_OFFICER)
