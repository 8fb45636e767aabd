"""Printing to PDF: a real PDF, the CJK font embedded with its text extractable, nothing fetched, N pages."""

import re
import socket
import zlib

import pytest
from django.test import override_settings

from hearth.documents import render

SHEET = """{% load i18n %}<h1>{{ title }}</h1><p class="lead">{{ name }}：您好！</p>
<p>社区为居民提供免费的健康服务。通知单第{{ n }}份。</p>"""

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": False,
        "OPTIONS": {
            "loaders": [
                ("django.template.loaders.locmem.Loader", {"t/sheet.html": SHEET}),
                "django.template.loaders.app_directories.Loader",
            ],
        },
    }
]


def inflate(pdf: bytes) -> bytes:
    """The PDF with every Flate stream decompressed after it (object streams hold the page dictionaries)."""
    out = [pdf]
    for m in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            out.append(zlib.decompress(m.group(1)))
        except zlib.error:
            continue
    return b"\n".join(out)


def page_count(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", inflate(pdf)))


def unicode_map(pdf: bytes) -> set[int]:
    """The code points the PDF's ToUnicode maps give back (what a reader extracts as text)."""
    points: set[int] = set()
    for cmap in re.findall(rb"begincmap(.*?)endcmap", inflate(pdf), re.S):
        for hexa in re.findall(rb"<([0-9A-Fa-f]{4,8})>", cmap):
            points.add(int(hexa, 16))
    return points


@pytest.fixture(scope="module")
def one_pdf():
    with override_settings(TEMPLATES=TEMPLATES):
        return render.render_pdf("t/sheet.html", {"title": "服务通知单", "name": "张三", "n": 1}, size="A5")


def test_render_pdf_is_a_pdf(one_pdf):
    assert one_pdf.startswith(b"%PDF-")
    assert one_pdf.rstrip().endswith(b"%%EOF")
    assert page_count(one_pdf) == 1


def test_the_cjk_font_is_embedded(one_pdf):
    body = inflate(one_pdf)
    assert re.search(rb"/FontFile[23]?\s", body), "no embedded font program"
    assert re.search(rb"/BaseFont\s*/[A-Z]{6}\+Noto-?Sans-?CJK", body), (
        "the Noto Sans CJK subset is not embedded"
    )


def test_the_chinese_text_is_extractable(one_pdf):
    points = unicode_map(one_pdf)
    for char in "服务通知单张三您好社区免费":
        assert ord(char) in points, f"{char} cannot be extracted from the PDF"


def test_the_chinese_text_reads_back_with_pypdf(one_pdf):
    pypdf = pytest.importorskip("pypdf")
    import io

    text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(one_pdf)).pages)
    assert "服务通知单" in text
    assert "张三" in text


def test_nothing_is_fetched_from_the_network(monkeypatch):
    calls = []

    def refuse(*args, **kwargs):
        calls.append(args)
        raise AssertionError("a document tried to open a network connection")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    fetcher = render.new_fetcher()
    html = """<!doctype html><html><head><meta charset="utf-8">
      <link rel="stylesheet" href="https://cdn.example.com/x.css">
      <link rel="stylesheet" href="/static/documents/print.css">
      <style>@import url("http://198.51.100.7/y.css"); body { background: url("file:///etc/passwd"); }</style>
      </head><body><p>外部资源</p><img src="http://example.com/tracker.png" alt="">
      <img src="data:image/gif;base64,R0lGODlhAQABAAAAACwAAAAAAQABAAA=" alt=""></body></html>"""
    pdf = render.html_to_pdf(html, url_fetcher=fetcher)
    assert pdf.startswith(b"%PDF-")
    assert calls == []
    assert any("cdn.example.com" in u for u in fetcher.refused)
    assert any("198.51.100.7" in u for u in fetcher.refused)
    assert any("tracker.png" in u for u in fetcher.refused)
    assert any(u.startswith("file:///etc/passwd") for u in fetcher.refused)
    # The project's own static file is served from disk, not refused.
    assert not any("print.css" in u for u in fetcher.refused)


def test_local_static_paths_stay_inside_static_directories():
    assert render.local_static_path("http://hearth.invalid/static/documents/print.css") == render.STYLESHEET
    assert render.local_static_path("http://hearth.invalid/static/../../etc/passwd") is None
    assert render.local_static_path("http://example.com/static/documents/print.css") is None
    assert render.local_static_path("file:///etc/passwd") is None
    assert render.local_static_path(render.STYLESHEET.as_uri()) == render.STYLESHEET


@override_settings(TEMPLATES=TEMPLATES)
def test_render_many_gives_a_page_per_document():
    contexts = [{"title": "服务通知单", "name": f"居民{i}", "n": i} for i in range(5)]
    pdf = render.render_many("t/sheet.html", contexts, size="A5")
    assert page_count(pdf) == 5


@override_settings(TEMPLATES=TEMPLATES)
def test_render_many_in_chunks_reports_progress_and_keeps_every_page():
    contexts = [{"title": "服务通知单", "name": f"居民{i}", "n": i} for i in range(5)]
    seen = []
    pdf = render.render_many("t/sheet.html", contexts, size="A5", progress=seen.append, chunk=2)
    assert seen == [2, 4, 5]
    assert page_count(pdf) == 5
    assert {ord(c) for c in "居民"} <= unicode_map(pdf)


def test_unknown_page_size_is_refused():
    with pytest.raises(ValueError):
        render._page(["x"], size="Letter", title="")
