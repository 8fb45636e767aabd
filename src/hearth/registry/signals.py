"""Keep persons' denormalised place_path in step with the place tree."""

from django.db.models import F, Value
from django.db.models.functions import Concat, Substr

from hearth.places.tree import subtree_q

from .models import Person


def move_person_paths(sender, *, old_prefix: str, new_prefix: str, **kwargs) -> None:
    # One UPDATE, like the places' own: replace the old prefix of every path in the moved subtree.
    Person.objects.for_system().filter(subtree_q("place_path", old_prefix)).update(
        place_path=Concat(Value(new_prefix), Substr(F("place_path"), len(old_prefix) + 1))
    )
