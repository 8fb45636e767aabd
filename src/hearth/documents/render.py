"""Printing documents (文书) to PDF with WeasyPrint: one print stylesheet, the CJK font embedded, nothing fetched.

A document template is a fragment: the content of one sheet (a notice, later a certificate). `render_pdf` lays
one out in the print page (`documents/print.html`); `render_many` lays many out as ONE HTML document with a page
break after each sheet. WeasyPrint's cost per document (parsing the stylesheet, loading fonts, subsetting and
embedding them in the PDF) is then paid once, not once per notice: a thousand notices in one PDF take a fraction
of a thousand separate renders.

The stylesheet and the font configuration are built once per thread and reused (WeasyPrint's objects are not
shared across threads). The font is Debian's fonts-noto-cjk, found through fontconfig and embedded as a subset
(only the glyphs used) with a ToUnicode map, so the Chinese text can be searched and copied.

Nothing is fetched over the network: the fetcher serves `data:` URLs and the project's static files (by their
/static/ URL or as local files under a static directory) and refuses everything else, so a template (or text in
it) can never make the server call out.
"""

import mimetypes
import threading
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from django.apps import apps
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.exceptions import SuspiciousFileOperation
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.safestring import mark_safe

STYLESHEET = Path(__file__).parent / "static" / "documents" / "print.css"
# The base URL of every document: never fetched, it only makes `/static/…` absolute for the fetcher below.
BASE_URL = "http://hearth.invalid/"
PAGE_SIZES = ("A4", "A5")


class FetchRefused(ValueError):
    """A document asked for something other than a local static file (WeasyPrint logs it and goes on)."""


def _static_roots() -> list[Path]:
    roots = [Path(p) for p in getattr(settings, "STATICFILES_DIRS", [])]
    if settings.STATIC_ROOT:
        roots.append(Path(settings.STATIC_ROOT))
    roots += [Path(app.path) / "static" for app in apps.get_app_configs()]
    return [r.resolve() for r in roots if r.is_dir()]


def local_static_path(url: str) -> Path | None:
    """The local file a document URL stands for, if it is one of the project's static files; else None."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    path: Path | None = None
    if scheme in ("http", "https") and parts.netloc == urlsplit(BASE_URL).netloc:
        static_url = settings.STATIC_URL if settings.STATIC_URL.startswith("/") else "/" + settings.STATIC_URL
        if not parts.path.startswith(static_url):
            return None
        relative = unquote(parts.path[len(static_url) :])
        try:
            found = finders.find(relative)
        except SuspiciousFileOperation:
            return None
        if not found and settings.STATIC_ROOT:
            found = str(Path(settings.STATIC_ROOT) / relative)
        path = Path(found) if found else None
    elif scheme == "file" and parts.netloc in ("", "localhost"):
        path = Path(url2pathname(parts.path))
    if path is None:
        return None
    path = path.resolve()
    if not path.is_file() or not any(path.is_relative_to(root) for root in _static_roots()):
        return None
    return path


def _fetcher_class():
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class LocalFetcher(URLFetcher):
        """Serves data: URLs and local static files; refuses the network and any other file."""

        def __init__(self):
            super().__init__(allowed_protocols=("data", "file", "http", "https"), fail_on_errors=False)
            self.refused: list[str] = []

        def fetch(self, url, headers=None):
            if url.split(":", 1)[0].lower() == "data":
                return super().fetch(url, headers)
            path = local_static_path(url)
            if path is None:
                self.refused.append(url)
                raise FetchRefused(f"documents fetch only local static files, not {url[:200]}")
            kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return URLFetcherResponse(url, path.read_bytes(), headers={"Content-Type": kind})

    return LocalFetcher


_local = threading.local()


def _resources():
    """(FontConfiguration, the print stylesheet, a fetcher) for this thread, built on first use."""
    res = getattr(_local, "resources", None)
    if res is None:
        from weasyprint import CSS
        from weasyprint.text.fonts import FontConfiguration

        font_config = FontConfiguration()
        fetcher = _fetcher_class()()
        css = CSS(filename=str(STYLESHEET), font_config=font_config, url_fetcher=fetcher)
        res = _local.resources = (font_config, css, fetcher)
    return res


def new_fetcher():
    """A fresh fetcher (tests read its `refused` list)."""
    return _fetcher_class()()


# Documents handed to residents are official papers in Chinese, whatever language the officer's screen uses.
DOCUMENT_LANGUAGE = "zh-hans"


def html_to_pdf(html: str, *, base_url: str | None = None, url_fetcher=None) -> bytes:
    """A complete HTML document to PDF bytes with the shared stylesheet and fonts."""
    from weasyprint import HTML

    font_config, css, fetcher = _resources()
    document = HTML(string=html, base_url=base_url or BASE_URL, url_fetcher=url_fetcher or fetcher)
    return document.write_pdf(stylesheets=[css], font_config=font_config)


def _page(sheets: list[str], *, size: str, title: str) -> str:
    if size not in PAGE_SIZES:
        raise ValueError(f"page size must be one of {PAGE_SIZES}")
    return render_to_string(
        "documents/print.html", {"sheets": [mark_safe(s) for s in sheets], "size": size, "title": title}
    )


def render_pdf(
    template_name: str,
    context: Mapping,
    *,
    base_url: str | None = None,
    size: str = "A4",
    title: str = "",
    url_fetcher=None,
) -> bytes:
    """One document (a sheet template and its context) as PDF bytes."""
    with translation.override(DOCUMENT_LANGUAGE):
        sheet = render_to_string(template_name, dict(context))
        html = _page([sheet], size=size, title=title or str(context.get("title", "")))
    return html_to_pdf(html, base_url=base_url, url_fetcher=url_fetcher)


def render_many(
    template_name: str,
    contexts: Iterable[Mapping],
    *,
    base_url: str | None = None,
    size: str = "A4",
    title: str = "",
    url_fetcher=None,
    progress: Callable[[int], None] | None = None,
    chunk: int = 100,
) -> bytes:
    """Many documents of one template as one PDF, each on its own page(s), laid out as one HTML document.

    With `progress`, the sheets are laid out `chunk` at a time (progress(sheets done) after each) and the pages
    of all chunks written as one PDF: nearly as fast, and a page can show how far it got.
    """
    with translation.override(DOCUMENT_LANGUAGE):
        sheets = [render_to_string(template_name, dict(c)) for c in contexts]
    if progress is None or len(sheets) <= chunk:
        pdf = html_to_pdf(_page(sheets, size=size, title=title), base_url=base_url, url_fetcher=url_fetcher)
        if progress is not None:
            progress(len(sheets))
        return pdf
    from weasyprint import HTML

    font_config, css, fetcher = _resources()
    documents = []
    for start in range(0, len(sheets), chunk):
        html = _page(sheets[start : start + chunk], size=size, title=title)
        document = HTML(string=html, base_url=base_url or BASE_URL, url_fetcher=url_fetcher or fetcher)
        documents.append(document.render(stylesheets=[css], font_config=font_config))
        progress(min(start + chunk, len(sheets)))
    pages = [page for document in documents for page in document.pages]
    return documents[0].copy(pages).write_pdf()
