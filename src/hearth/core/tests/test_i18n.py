"""The English catalog: complete, well-formed, and switched on by the header's language form."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import translation
from django.utils.translation import trans_real

LC_MESSAGES = Path(settings.LOCALE_PATHS[0]) / "en" / "LC_MESSAGES"
PO = LC_MESSAGES / "django.po"
MO = LC_MESSAGES / "django.mo"

# The same ignores as the Makefile's `messages` target.
IGNORE = [".venv/*", "node_modules/*", "static_build/*", "var/*", "bench/*"]

PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|%[sdif]")


def _unquote(line: str) -> str:
    body = line.strip()
    assert body.startswith('"') and body.endswith('"'), f"not a quoted PO string: {line!r}"
    escapes = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}
    return re.sub(r"\\(.)", lambda m: escapes.get(m.group(1), m.group(0)), body[1:-1])


def parse_po(text: str) -> list[dict]:
    """A tiny PO reader: one dict per entry with its flags and msgid/msgid_plural/msgstr[/n] fields."""
    entries: list[dict] = []
    entry: dict | None = None
    field = None
    for line in text.splitlines():
        if not line.strip() or line.startswith("#~"):
            field = None
            continue
        # A comment or a new msgctxt/msgid after a msgstr starts the next entry.
        starts = line.startswith(("#", "msgctxt ", "msgid "))
        if entry is None or (starts and any(k.startswith("msgstr") for k in entry["fields"])):
            entry = {"flags": set(), "fields": {}}
            entries.append(entry)
        if line.startswith("#,"):
            entry["flags"] |= {f.strip() for f in line[2:].split(",") if f.strip()}
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            assert field is not None, f"continuation line without a field: {line!r}"
            entry["fields"][field] += _unquote(line)
        else:
            m = re.match(r"(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?)\s+(.*)$", line)
            assert m, f"unreadable PO line: {line!r}"
            field = m.group(1)
            entry["fields"][field] = _unquote(m.group(2))
    return [e for e in entries if "msgid" in e["fields"]]


@pytest.fixture(scope="module")
def catalog() -> list[dict]:
    assert PO.exists(), f"{PO} is missing: run makemessages -l en"
    return parse_po(PO.read_text(encoding="utf-8"))


@pytest.fixture
def compiled_catalog():
    """The .mo compiled from the .po (when missing or older), and Django's translation cache reloaded."""
    if not MO.exists() or MO.stat().st_mtime < PO.stat().st_mtime:
        if shutil.which("msgfmt") is None:
            pytest.skip("msgfmt (GNU gettext) is not installed, so the English catalog cannot be compiled")
        call_command("compilemessages", locale=["en"], ignore_patterns=IGNORE, verbosity=0)
        assert MO.exists(), "compilemessages did not write django.mo"
    trans_real._translations = {}
    trans_real._default = None
    yield
    # LocaleMiddleware leaves the last request's language active on this thread: don't leak English.
    translation.deactivate()


def test_header_declares_english_and_its_two_plural_forms(catalog):
    header = next(e for e in catalog if e["fields"]["msgid"] == "")
    meta = header["fields"]["msgstr"]
    assert "fuzzy" not in header["flags"]
    assert "Language: en\n" in meta
    assert "Content-Type: text/plain; charset=UTF-8\n" in meta
    assert "Plural-Forms: nplurals=2; plural=(n != 1);\n" in meta


def test_every_entry_is_translated_and_none_is_fuzzy(catalog):
    messages = [e for e in catalog if e["fields"]["msgid"] != ""]
    assert len(messages) > 100
    fuzzy = [e["fields"]["msgid"] for e in messages if "fuzzy" in e["flags"]]
    untranslated = [
        e["fields"]["msgid"]
        for e in messages
        if not all(v.strip() for k, v in e["fields"].items() if k.startswith("msgstr"))
    ]
    assert fuzzy == [], f"fuzzy entries: {fuzzy}"
    assert untranslated == [], f"untranslated entries: {untranslated}"


def test_plural_entries_have_both_english_forms(catalog):
    plurals = [e for e in catalog if "msgid_plural" in e["fields"]]
    assert plurals
    for e in plurals:
        forms = sorted(k for k in e["fields"] if k.startswith("msgstr"))
        assert forms == ["msgstr[0]", "msgstr[1]"], e["fields"]["msgid"]


def test_translations_keep_their_placeholders(catalog):
    for e in catalog:
        fields = e["fields"]
        if fields["msgid"] == "":
            continue
        wanted = sorted(PLACEHOLDER.findall(fields.get("msgid_plural", fields["msgid"])))
        for key, value in fields.items():
            if key.startswith("msgstr"):
                assert sorted(PLACEHOLDER.findall(value)) == wanted, (fields["msgid"], value)


def test_the_catalog_compiles_cleanly(tmp_path):
    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:
        pytest.skip("msgfmt (GNU gettext) is not installed")
    result = subprocess.run(
        [msgfmt, "--check", "--statistics", "-o", str(tmp_path / "django.mo"), str(PO)],
        capture_output=True,
        text=True,
        env={"LC_ALL": "C"},
    )
    assert result.returncode == 0, result.stderr
    assert "untranslated" not in result.stderr and "fuzzy" not in result.stderr, result.stderr


def test_chinese_by_default_and_english_after_the_language_switch(world, client, login, compiled_catalog):
    login(world, "community_officer")

    home = client.get("/").content.decode()
    assert '<html lang="zh-hans">' in home
    assert "工作台" in home

    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302 and response["Location"] == "/"

    page = client.get("/persons/").content.decode()
    assert '<html lang="en">' in page
    assert re.search(r"<h1[^>]*>\s*People\s*</h1>", page), "the persons heading is not in English"
    assert re.search(r"<h1[^>]*>\s*人员\s*</h1>", page) is None
    assert "Residence type" in page and "居住类型" not in page
    assert "Sign out" in page

    home = client.get("/").content.decode()
    assert "Dashboard" in home and "工作台" not in home
