from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from hearth.care.models import Due

pytestmark = pytest.mark.django_db


def test_recompute_command(world, catalogue):
    out = StringIO()
    call_command("care", "recompute", stdout=out)
    assert "health_check:" in out.getvalue()
    assert Due.objects.for_system().filter(service=catalogue["health_check"]).exists()
    with pytest.raises(CommandError, match="--as-of"):
        call_command("care", "recompute", "--as-of", "31/01/2026")
    with pytest.raises(CommandError, match="--service"):
        call_command("care", "recompute", "--service", "nope")
    call_command("care", "recompute", "--service", "health_check", "--as-of", "2026-01-31", stdout=out)
