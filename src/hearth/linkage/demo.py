"""Demo partner lists (HEARTH_DEMO=1 only): a police list and a death list for 祥和社区, matched as an officer's
upload is, so the 部门名单比对 pages, the review queue, 漏档 and the facts to confirm have something to show."""

from datetime import date, timedelta

from django.conf import settings

from hearth.accounts.actor import actor_for
from hearth.accounts.models import Grant
from hearth.accounts.roles import Role
from hearth.core import crypto
from hearth.places.tree import subtree_q
from hearth.registry.models import Person, PersonStatus

from . import services, synthetic
from .models import PartnerKind, PartnerList

POLICE = "演示：幸福派出所"
DEATHS = "演示：区殡仪馆"


def _people(place_path: str, limit: int) -> list[synthetic.RegistryPerson]:
    ring = crypto.keyring()
    qs = (
        Person.objects.for_system()
        .filter(subtree_q("place_path", place_path), status=PersonStatus.ACTIVE, id_cipher__isnull=False)
        .select_related("dwelling")
        .order_by("id")[:limit]
    )
    return [
        synthetic.RegistryPerson(
            p.id,
            p.name,
            p.sex,
            p.birth_date,
            ring.decrypt(p.id_key, bytes(p.id_cipher), b"registry.person.id:" + p.public_id.bytes),
            p.dwelling.full_address,
            p.phone,
            p.dwelling_id,
        )
        for p in qs
    ]


def _link(grant: Grant, kind: str, source: str, rows: list[synthetic.PartnerRow], event_dates=None) -> None:
    place = grant.place
    plist = PartnerList.objects.create(
        place=place, created_by=grant, kind=kind, source=source, filename=f"{source}.xlsx", file_sha256="0" * 64,
        file_size=0, progress_total=len(rows), mapping={"name": 0, "id_number": 1},
    )  # fmt: skip
    addresses = services.Addresses(place)
    records = []
    for r in rows:
        values = {"name": r.name, "id_number": r.id_number, "sex": r.sex, "birth_date": r.birth_date,
                  "address": r.address, "phone": r.phone}  # fmt: skip
        if event_dates:
            values["event_date"] = event_dates.get(r.row, "")
        records.append(services._record(lambda f, v=values: v.get(f, ""), r.row, addresses, place.path))
    services.list_start(actor=actor_for(grant), plist=plist, enqueue=False)
    services.link(plist, actor=actor_for(grant), fresh=records)


def load_demo_lists() -> int:
    """Idempotent: lists already loaded are left as they are. Returns the number of lists created."""
    if not settings.HEARTH_DEMO:
        raise RuntimeError("demo lists are created only when HEARTH_DEMO=1")
    grant = (
        Grant.objects.active()
        .filter(user__username="community_officer", role=Role.COMMUNITY_OFFICER)
        .select_related("place")
        .first()
    )
    if grant is None:
        return 0
    created = 0
    people = _people(grant.place.path, 400)
    if people and not PartnerList.objects.for_system().filter(source=POLICE).exists():
        size = min(300, int(len(people) / 0.9))  # 85% of the rows are registry persons, each once
        _link(grant, PartnerKind.POLICE_HUKOU, POLICE, synthetic.partner_list(people, size=size, seed=7))
        created += 1
    elderly = [p for p in people if p.birth_date < date(1950, 1, 1)][:3]
    if elderly and not PartnerList.objects.for_system().filter(source=DEATHS).exists():
        rows = [
            synthetic.PartnerRow(
                i, p.name, p.id_number, "", p.birth_date.isoformat(), "", "", p.person_id, "clean"
            )
            for i, p in enumerate(elderly, start=1)
        ]
        when = {r.row: (date.today() - timedelta(days=10 * r.row)).isoformat() for r in rows}
        _link(grant, PartnerKind.DEATH, DEATHS, rows, when)
        created += 1
    return created
