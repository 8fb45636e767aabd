"""The demo's partner lists: matched for the demo community officer, loaded once."""

import pytest

from hearth.linkage.demo import DEATHS, POLICE, load_demo_lists
from hearth.linkage.models import FactProposal, ListStatus, PartnerList, RecordStatus


def test_demo_lists_need_demo_mode(db, settings):
    settings.HEARTH_DEMO = False
    with pytest.raises(RuntimeError):
        load_demo_lists()


@pytest.mark.django_db
def test_demo_lists_are_matched_once(settings):
    from hearth.registry.demo import load_demo

    settings.HEARTH_DEMO = True
    load_demo(persons=600, seed=3)
    assert load_demo_lists() == 2
    police = PartnerList.objects.for_system().get(source=POLICE)
    assert police.status == ListStatus.LINKED
    assert (
        police.counts[RecordStatus.SURE] > 0.7 * police.counts["rows"]
        and police.counts[RecordStatus.UNMATCHED] > 0
    )
    deaths = PartnerList.objects.for_system().get(source=DEATHS)
    assert (
        FactProposal.objects.for_system().filter(record__partner_list=deaths).count() == deaths.counts["rows"]
    )
    assert load_demo_lists() == 0  # a second run changes nothing
