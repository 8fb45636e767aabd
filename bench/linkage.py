"""Record-linkage figures (issue 6): a generated partner list as large as the registry, matched against it.

Everything runs in a child process, so its peak memory is its own: the registry's persons are read (IDs
decrypted, only here, to generate the list), a partner list with realistic errors and hard non-matches is
generated (`hearth.linkage.synthetic`), its rows are cleaned as an uploaded file's are (the list's import),
then matched as the tasks worker does for a new list — PostgreSQL extract, Splink on DuckDB, the rows stored
once with their results. Precision and recall are measured against the generated truth. The list is deleted
afterwards, so the loaded registry stays as it was (--reuse).

`python -m bench.linkage --list ID --grant GRANT_ID --rows N` is the child: it prints one JSON line.
"""

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from .figures import Figure, rate

if TYPE_CHECKING:  # the child process imports this module before Django is set up
    from .scenarios import Subject


def _registry_persons(place_path: str):
    from hearth.core import crypto
    from hearth.linkage.synthetic import RegistryPerson
    from hearth.places.tree import subtree_q
    from hearth.registry.models import Person

    ring = crypto.keyring()
    qs = (
        Person.objects.for_system()
        .filter(subtree_q("place_path", place_path), status="active", id_cipher__isnull=False)
        .values_list("id", "public_id", "name", "sex", "birth_date", "id_key", "id_cipher",
                     "dwelling__full_address", "phone", "dwelling_id")
    )  # fmt: skip
    out = []
    for pk, public_id, name, sex, born, key, cipher, address, phone, dwelling in qs.iterator(
        chunk_size=20_000
    ):
        number = ring.decrypt(key, bytes(cipher), b"registry.person.id:" + public_id.bytes)
        out.append(RegistryPerson(pk, name, sex, born, number, address or "", phone or "", dwelling))
    return out


def _clean(plist, rows) -> list:
    """The generated rows as an uploaded file's rows become records (the list's import, before matching)."""
    from hearth.linkage import services

    addresses = services.Addresses(plist.place)
    out = []
    for r in rows:
        values = {"name": r.name, "id_number": r.id_number, "sex": r.sex, "birth_date": r.birth_date,
                  "address": r.address, "phone": r.phone}  # fmt: skip
        out.append(services._record(lambda f, v=values: v.get(f, ""), r.row, addresses, plist.place.path))
    return out


def _quality(plist, rows) -> dict:
    """Precision and recall of the automatic decision (sure) and of sure + review queue (best candidate)."""
    from hearth.linkage.models import PartnerRecord, RecordStatus

    truth = {row: person for row, person, _case in rows}
    found = (
        PartnerRecord.objects.for_system()
        .filter(partner_list=plist)
        .values_list("row", "status", "person_id")
    )
    out = {}
    for label, statuses in (
        ("sure", {RecordStatus.SURE}),
        ("sure+review", {RecordStatus.SURE, RecordStatus.POSSIBLE}),
    ):
        predicted = {(row, person) for row, status, person in found if status in statuses and person}
        true = {(row, p) for row, p in truth.items() if p is not None}
        hits = len(predicted & true)
        out[label] = {
            "precision": hits / len(predicted) if predicted else 1.0,
            "recall": hits / len(true) if true else 1.0,
            "predicted": len(predicted),
            "true": len(true),
        }
    by_case: dict[str, list[int]] = {}
    status_of = {row: (status, person) for row, status, person in found}
    for row, expected, cases in rows:
        status, person = status_of[row]
        ok = (
            person == expected
            if expected is not None
            else status not in (RecordStatus.SURE, RecordStatus.POSSIBLE)
        )
        for case in cases.split("+"):
            tally = by_case.setdefault(case, [0, 0])
            tally[0] += 1
            tally[1] += 0 if ok else 1
    out["errors_by_case"] = {k: f"{v[1]}/{v[0]}" for k, v in sorted(by_case.items()) if v[1]}
    return out


def link_figures(subject: "Subject", *, rows: int, db: str, log) -> list[Figure]:
    from hearth.linkage.models import ListStatus, PartnerList

    from .scenarios import check

    rows = min(rows, round(subject.active / 0.85))
    plist = PartnerList.objects.create(
        place=subject.place, created_by=subject.grant, kind="police_hukou", source="bench", filename="bench",
        file_sha256="0" * 64, file_size=0, status=ListStatus.LINKING, progress_total=rows,
    )  # fmt: skip
    try:
        child = _run_child(plist.pk, subject.grant.pk, rows)
        plist.refresh_from_db()
        check(plist.status == ListStatus.LINKED, f"linkage ended {plist.status}: {plist.message}")
    finally:
        PartnerList.objects.for_system().filter(pk=plist.pk).delete()
    quality = child["quality"]
    scale = f"{rows:,}-row list × {subject.persons:,} persons"
    pairs = sum(plist.candidate_pairs.values())
    log(f"linkage: {child}; {plist.counts}")
    figures = [
        Figure(
            "linkage: registry read + list generated (not part of the match)",
            child["prepare"],
            "s",
            scale,
            db,
        ),
        Figure(
            "linkage: list rows cleaned (the list's import)", rate(rows, child["clean"]), "rows/s", scale, db
        ),
        Figure(
            "linkage: match, whole (extract, Splink, rows stored with results)",
            child["seconds"],
            "s",
            scale,
            db,
        ),
        Figure(
            "linkage: peak memory of the process (generation included)", child["max_rss_mb"], "MB", scale, db
        ),
        Figure("linkage: candidate pairs (all blocking rules)", pairs, "pairs", scale, db),
    ]
    figures += [
        Figure(f"linkage: candidate pairs: {rule}", n, "pairs", scale, db)
        for rule, n in plist.candidate_pairs.items()
    ]
    figures += [Figure(f"linkage: stage: {k}", v, "s", scale, db) for k, v in plist.stage_seconds.items()]
    for label in ("sure", "sure+review"):
        q = quality[label]
        detail = f"{q['predicted']:,} predicted, {q['true']:,} true matches"
        figures.append(Figure(f"linkage: precision ({label})", round(q["precision"], 5), "", detail, db))
        figures.append(Figure(f"linkage: recall ({label})", round(q["recall"], 5), "", detail, db))
    figures.append(
        Figure("linkage: result counts", json.dumps(plist.counts, ensure_ascii=False), "", scale, db)
    )
    if quality["errors_by_case"]:
        figures.append(
            Figure(
                "linkage: wrong rows by generated case", json.dumps(quality["errors_by_case"]), "", scale, db
            )
        )
    return figures


def _run_child(list_id: int, grant_id: int, rows: int) -> dict:
    env = dict(os.environ)
    root = Path(__file__).resolve().parents[1]
    env["PYTHONPATH"] = f"{root}{os.pathsep}{env.get('PYTHONPATH', '')}"
    out = subprocess.run(
        [sys.executable, "-m", "bench.linkage", "--list", str(list_id), "--grant", str(grant_id), "--rows", str(rows)],
        env=env, cwd=root, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if out.returncode != 0:
        from .scenarios import BenchError

        raise BenchError(f"linkage child failed: {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _child(argv: list[str]) -> int:
    import argparse
    import gc

    import django

    parser = argparse.ArgumentParser()
    parser.add_argument("--list", type=int, required=True)
    parser.add_argument("--grant", type=int, required=True)
    parser.add_argument("--rows", type=int, required=True)
    args = parser.parse_args(argv)
    django.setup()
    from hearth.accounts.actor import actor_for
    from hearth.accounts.models import Grant
    from hearth.linkage import services, synthetic
    from hearth.linkage.models import PartnerList

    actor = actor_for(Grant.objects.get(pk=args.grant))
    plist = PartnerList.objects.for_system().select_related("place").get(pk=args.list)
    t = time.perf_counter()
    persons = _registry_persons(plist.place.path)
    generated = synthetic.partner_list(persons, size=args.rows, seed=11)
    truth = [(r.row, r.truth, r.case) for r in generated]
    del persons
    prepare = time.perf_counter() - t
    t = time.perf_counter()
    records = _clean(plist, generated)
    clean = time.perf_counter() - t
    del generated
    gc.collect()
    t = time.perf_counter()
    services.link(plist, actor=actor, fresh=records)
    seconds = time.perf_counter() - t
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    del records
    quality = _quality(plist, truth)
    print(
        json.dumps(
            {"prepare": prepare, "clean": clean, "seconds": seconds, "max_rss_mb": rss, "quality": quality}
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(_child(sys.argv[1:]))
