"""The one spreadsheet reader every import uses (xlsx/xls/ods through python-calamine, csv), and the staging
of uploaded files between a dry run and its commit.

Uploaded files are hostile until proven otherwise. python-calamine builds a dense cell grid in Rust: a 5 KB
xlsx with one cell at A1 and one at XFD1048576 asks for half a terabyte and aborts the whole worker process
(an abort, not an exception). So before calamine opens a zip-based file we inflate every entry ourselves with
a hard cap (declared sizes can lie) and measure the grid the sheets describe; calamine only ever sees files
whose grid is known to be small.
"""

import codecs
import csv
import datetime as dt
import io
import json
import os
import re
import secrets
import struct
import time
import unicodedata
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import chain, islice
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _

from .errors import DomainError

MAX_BYTES = 20 * 1024 * 1024  # the uploaded file itself
MAX_ROWS = 200_000  # non-blank data rows
MAX_COLUMNS = 200
MAX_CELLS = 5_000_000  # rows × columns of the grid calamine would allocate (about 32 bytes a cell)
MAX_UNZIPPED = 250 * 1024 * 1024  # all entries of an xlsx/ods, inflated
MAX_ZIP_RATIO = 100  # inflated size / file size; real workbooks stay well under 20
MAX_ZIP_ENTRIES = 5_000

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
_SPREADSHEET_EXTENSIONS = {".xlsx", ".xlsm", ".xls", ".ods"}
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Row:
    number: int  # the row number in the original sheet or file (1-based), for error reports
    cells: list[str]

    def get(self, index: int | None) -> str:
        if index is None or index >= len(self.cells):
            return ""
        return self.cells[index]


@dataclass
class Table:
    """The first sheet of a workbook (or a csv file): a header row and the non-blank rows below it."""

    header: list[str]
    rows: list[Row] = field(default_factory=list)
    header_number: int = 1  # the (first) header row's number
    format: str = "csv"
    # The header as written (a two-row header combined), before normalisation, for showing to the user.
    header_cells: list[str] = field(default_factory=list)
    # Non-blank rows above the header: a title, 填报单位/填报日期 (found only with `header_synonyms`).
    preamble: list[Row] = field(default_factory=list)
    # Rows that are not data, as (row number, reason): totals rows (found only with `header_synonyms`).
    skipped: list[tuple[int, str]] = field(default_factory=list)


def _refuse(code: str, message: str) -> DomainError:
    return DomainError(f"spreadsheet.{code}", message, "file")


# ---------------------------------------------------------------------------------------------- cells


def normalize_header(text: str) -> str:
    """`姓　名 ` → `姓名`: NFKC (full-width letters and digits to half-width), no spaces or invisible marks."""
    text = unicodedata.normalize("NFKC", str(text))
    return "".join(ch for ch in text if not ch.isspace() and unicodedata.category(ch) != "Cf")


def _clean(text: str) -> str:
    # Zero-width spaces and stray byte-order marks are invisible in Excel but break equality.
    return text.strip().strip("\u200b\ufeff").strip()


def cell_text(value) -> str:
    """One cell as text: whole numbers without `.0`, dates as ISO 8601, nothing as ''."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        # Beyond 2**53 a float no longer holds every digit: an 18-digit ID typed into a number cell has already
        # lost its last ones. Show it as Excel does (4.10103E+17), so no reader takes it for a number.
        if abs(value) > 2**53:
            return f"{value:.5E}"
        # Codes and house numbers typed into number cells come back as 410103001001.0.
        if value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    return _clean(str(value))


def _row_text(raw: list) -> list[str]:
    """`[cell_text(v) for v in raw]`, faster: the reader's hot loop, run for every cell of a sheet.

    For a text cell `cell_text` is `_clean`, whose second and third strips change only text with a
    zero-width space or byte-order mark in it; those are rare, so plain `strip` is done inline and a row
    holding either mark is converted again the long way.
    """
    cells = [v.strip() if type(v) is str else cell_text(v) for v in raw]
    joined = "".join(cells)
    if "\u200b" in joined or "\ufeff" in joined:
        return [cell_text(v) for v in raw]
    return cells


def _trim(cells: list[str]) -> list[str]:
    end = len(cells)
    while end and not cells[end - 1]:
        end -= 1
    return cells[:end]


# --------------------------------------------------------------------------------------------- reading


def read_table(
    source: bytes | str | os.PathLike,
    filename: str | None = None,
    *,
    max_bytes: int = MAX_BYTES,
    max_rows: int = MAX_ROWS,
    max_columns: int = MAX_COLUMNS,
    max_cells: int = MAX_CELLS,
    header_synonyms: dict[str, list[str]] | None = None,
) -> Table:
    """Read the first sheet of an xlsx/xls/ods workbook or a csv file (UTF-8 with or without BOM, GBK/GB18030).

    `source` is the file's bytes or a path; `filename` (or the path) gives the extension when the content does
    not tell. The header is the first non-blank row, normalised with `normalize_header`; fully blank rows are
    skipped; each row keeps its original row number. Every refusal is a `DomainError` with code
    `spreadsheet.*` and field `file`.

    With `header_synonyms` (as for `map_headers`) the reader copes with the files communities really send:
    the header is found among the first rows (a title and a 填报单位 row above it become `preamble`), a
    two-row header with merged parent cells is combined, and totals rows (合计/总计/小计) go to `skipped`
    instead of `rows`. See `_find_header` and `_sub_header` for the exact rules.
    """
    path: Path | None = None
    if isinstance(source, bytes | bytearray | memoryview):
        data: bytes | None = bytes(source)
        size = len(data)
    else:
        path = Path(source)
        filename = filename or path.name
        data = None
        try:
            size = path.stat().st_size
        except OSError:
            raise _refuse("unreadable", _("无法读取该文件。")) from None
    if size > max_bytes:
        raise _refuse(
            "too_large",
            _("文件过大（%(size)s MB），上限为 %(max)s MB。")
            % {"size": round(size / 1048576, 1), "max": round(max_bytes / 1048576, 1)},
        )
    if size == 0:
        raise _refuse("empty", _("文件是空的。"))
    if data is None:
        with open(path, "rb") as fh:
            head = fh.read(8)
    else:
        head = data[:8]
    ext = os.path.splitext(filename or "")[1].lower()

    if head.startswith(_ZIP_MAGIC):
        fmt = _check_zip(
            data if data is not None else path, size, max_columns=max_columns, max_cells=max_cells
        )
        rows = _read_workbook(data, path, max_columns)
    elif head.startswith(_OLE_MAGIC):
        fmt = "xls"
        # Legacy .xls has at most 65,536 × 256 cells, so its grid is bounded without a scan.
        rows = _read_workbook(data, path, max_columns)
    elif ext in _SPREADSHEET_EXTENSIONS:
        raise _refuse("format", _("文件内容不是有效的 Excel 或 ODS 表格，请检查文件是否损坏。"))
    else:
        fmt = "csv"
        if data is None:
            data = path.read_bytes()
        delimiter = "\t" if ext in {".tsv", ".txt"} else ","
        rows = _read_csv(data, delimiter, max_rows=max_rows, max_columns=max_columns, max_cells=max_cells)
    if header_synonyms is not None:
        return _to_table_detected(
            rows, fmt, max_rows=max_rows, max_columns=max_columns, synonyms=header_synonyms
        )
    return _to_table(rows, fmt, max_rows=max_rows, max_columns=max_columns)


def _to_table(rows: Iterable[tuple[int, list[str]]], fmt: str, *, max_rows: int, max_columns: int) -> Table:
    table: Table | None = None
    for number, cells in rows:
        cells = _trim(cells)
        if not cells:
            continue
        if len(cells) > max_columns:
            raise _refuse("too_many_columns", _("列数超过上限 %(max)d 列。") % {"max": max_columns})
        if table is None:
            table = Table(
                header=[normalize_header(c) for c in cells],
                header_number=number,
                format=fmt,
                header_cells=list(cells),
            )
            continue
        if len(table.rows) >= max_rows:
            raise _refuse("too_many_rows", _("数据行数超过上限 %(max)d 行，请分批导入。") % {"max": max_rows})
        table.rows.append(Row(number=number, cells=cells))
    if table is None:
        raise _refuse("no_header", _("表格中没有内容（第一行应为表头）。"))
    return table


HEADER_SEARCH_ROWS = 20  # the header is looked for among this many non-blank rows at the top
_HEADER_MIN_MATCHES = 2
_TOTALS = ("合计", "总计", "小计")
_TOTALS_INITIALS = frozenset(word[0] for word in _TOTALS)


def _non_blank(rows: Iterable[tuple[int, list[str]]], max_columns: int) -> Iterator[Row]:
    for number, cells in rows:
        if cells and not cells[-1]:
            cells = _trim(cells)
            if not cells:
                continue
        elif not cells:
            continue
        if len(cells) > max_columns:
            raise _refuse("too_many_columns", _("列数超过上限 %(max)d 列。") % {"max": max_columns})
        yield Row(number=number, cells=cells)


def _to_table_detected(
    rows: Iterable[tuple[int, list[str]]],
    fmt: str,
    *,
    max_rows: int,
    max_columns: int,
    synonyms: dict[str, list[str]],
) -> Table:
    stream = _non_blank(rows, max_columns)
    # One row more than the search window: the last candidate may have a sub-header below it.
    top = list(islice(stream, HEADER_SEARCH_ROWS + 1))
    if not top:
        raise _refuse("no_header", _("表格中没有内容（第一行应为表头）。"))
    lookup = _header_lookup(synonyms)
    at = _find_header(top[:HEADER_SEARCH_ROWS], lookup)
    header_row = top[at if at is not None else 0]
    header_cells = list(header_row.cells)
    rest_start = (at if at is not None else 0) + 1
    # A two-row header is only looked for under a header the synonyms recognised: under a fallback first row
    # (perhaps a lone title) the real header would look like sub-headers.
    if at is not None and rest_start < len(top):
        combined = _sub_header(header_row, top[rest_start], lookup)
        if combined is not None:
            header_cells = combined
            rest_start += 1
    table = Table(
        header=[normalize_header(c) for c in header_cells],
        header_number=header_row.number,
        format=fmt,
        header_cells=header_cells,
        preamble=top[:at] if at is not None else [],
    )
    for row in chain(top[rest_start:], stream):
        if _is_totals(row):
            table.skipped.append((row.number, _("合计行")))
            continue
        if len(table.rows) >= max_rows:
            raise _refuse("too_many_rows", _("数据行数超过上限 %(max)d 行，请分批导入。") % {"max": max_rows})
        table.rows.append(row)
    return table


def _find_header(candidates: list[Row], lookup: dict[str, str]) -> int | None:
    """The index of the row naming the most fields (at least two; the first of equals), or None."""
    best, best_count = None, _HEADER_MIN_MATCHES - 1
    for index, row in enumerate(candidates):
        count = len({f for f in (_field_of(c, lookup) for c in row.cells) if f is not None})
        if count > best_count:
            best, best_count = index, count
    return best


def _sub_header(header: Row, below: Row, lookup: dict[str, str]) -> list[str] | None:
    """Combine a two-row header, or None when `below` is not a sub-header row.

    calamine puts a merged cell's text in its top-left cell only. A parent such as 户籍地 merged over three
    columns reads as `户籍地, "", ""` with `省, 市, 县` below it, while headers merged down over both rows
    (姓名) leave an empty cell below them. So `below` is a sub-header when it is the very next sheet row and
    every text in it sits under an empty header cell or under a merged parent (a header cell whose right
    neighbour is empty), at least one of them under an empty header cell. A data row always has a value
    under some ordinary column and is never taken. Each column with a sub-header text becomes that text when
    the synonyms know it (手机 under 联系方式), else parent + text (户籍地省); the others keep their header.
    """
    if below.number != header.number + 1:
        return None
    width = max(len(header.cells), len(below.cells))
    top = header.cells + [""] * (width - len(header.cells))
    sub = below.cells + [""] * (width - len(below.cells))
    parents: list[str] = []  # for each column, the nearest header text at or left of it
    current = ""
    for text in top:
        current = text or current
        parents.append(current)
    under_empty = False
    for col, text in enumerate(sub):
        if not text:
            continue
        if not top[col]:
            under_empty = True
        elif not (col + 1 < width and not top[col + 1]):
            return None  # a value under an ordinary column: a data row
    if not under_empty:
        return None
    combined = []
    for col, text in enumerate(sub):
        if not text:
            combined.append(top[col])
        elif _field_of(text, lookup) is not None:
            combined.append(text)
        else:
            combined.append(parents[col] + text)
    return _trim(combined)


def _is_totals(row: Row) -> bool:
    cells = row.cells
    first = cells[0] if cells and cells[0] else next((c for c in cells if c), "")
    # Most first cells are names. One already in NFKC whose first character normalize_header keeps (not a
    # space, not a format mark) normalises to text that starts with that character: no need to normalise it.
    head = first[:1]
    if (
        head
        and head not in _TOTALS_INITIALS
        and not head.isspace()
        and unicodedata.category(head) != "Cf"
        and unicodedata.is_normalized("NFKC", first)
    ):
        return False
    return normalize_header(first).startswith(_TOTALS)


def _read_workbook(
    data: bytes | None, path: Path | None, max_columns: int
) -> Iterator[tuple[int, list[str]]]:
    from python_calamine import CalamineWorkbook, PasswordError

    try:
        if data is not None:
            book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        else:
            book = CalamineWorkbook.from_path(str(path))
        sheet = book.get_sheet_by_index(0)
        values = sheet.to_python(skip_empty_area=True)
        first_row = sheet.start[0] if sheet.start else 0
    except PasswordError:
        raise _refuse("encrypted", _("文件设有密码，请取消密码后再上传。")) from None
    except Exception:  # calamine raises several error types for damaged files; all mean the same to a user
        raise _refuse("unreadable", _("无法读取该表格：文件已损坏、已加密或格式不受支持。")) from None
    for offset, raw in enumerate(values):
        yield first_row + offset + 1, _row_text(raw[: max_columns + 1])


def _decode(data: bytes) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encodings = ["utf-16"]  # Excel's "Unicode text"
    else:
        # UTF-8 first: GB18030 would also accept many UTF-8 byte strings, as mojibake.
        encodings = ["utf-8-sig", "gb18030"]
    for encoding in encodings:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" in text:
            break
        return text
    raise _refuse("encoding", _("无法识别文件编码，请另存为 UTF-8 或 GBK 编码的 CSV 文件，或 Excel 文件。"))


def _read_csv(
    data: bytes, delimiter: str, *, max_rows: int, max_columns: int, max_cells: int
) -> Iterator[tuple[int, list[str]]]:
    text = _decode(data)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    cells_seen = 0
    try:
        # Row numbers are record numbers, as Excel shows them when it opens the file.
        for number, raw in enumerate(reader, start=1):
            cells = list(map(str.strip, raw))
            joined = "".join(cells)
            if "\u200b" in joined or "\ufeff" in joined:  # see _row_text
                cells = [_clean(c) for c in raw]
            cells_seen += len(cells)
            if cells_seen > max_cells:
                raise _refuse("too_many_cells", _("表格内容过多，请分批导入。"))
            yield number, cells
    except csv.Error:
        raise _refuse("csv", _("CSV 文件格式有误（可能有未闭合的引号或超长的单元格）。")) from None


# ------------------------------------------------------------------------------------- zip inspection


def _check_zip(source: bytes | Path, size: int, *, max_columns: int, max_cells: int) -> str:
    """Refuse zip bombs and oversized grids before calamine sees the file; return 'xlsx' or 'ods'."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes) else source)
    except (zipfile.BadZipFile, OSError):
        raise _refuse("format", _("文件内容不是有效的 Excel 或 ODS 表格，请检查文件是否损坏。")) from None
    bomb = _refuse("zip_bomb", _("文件解压后异常庞大（疑似压缩炸弹），已拒绝。"))
    with zf:
        infos = zf.infolist()
        names = {i.filename for i in infos}
        if len(infos) > MAX_ZIP_ENTRIES:
            raise bomb
        declared = sum(i.file_size for i in infos)
        if declared > MAX_UNZIPPED or declared > MAX_ZIP_RATIO * size:
            raise bomb
        if "xl/workbook.xml" in names:
            fmt = "xlsx"
        elif "mimetype" in names and zf.read("mimetype").strip() == _ODS_MIMETYPE:
            fmt = "ods"
        else:
            raise _refuse("format", _("不支持该文件格式，请上传 xlsx、xls、ods 或 csv 文件。"))
        raw = source if isinstance(source, bytes) else None
        total = 0
        for info in infos:
            if info.flag_bits & 0x1 or info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise _refuse("unreadable", _("无法读取该表格：文件已损坏、已加密或格式不受支持。"))
            # An entry may not inflate past its declared size (which the totals above already accepted).
            budget = min(MAX_UNZIPPED - total, MAX_ZIP_RATIO * size - total, info.file_size)
            # Every part, not just xl/worksheets/: the workbook's relationships may point a sheet anywhere.
            if fmt == "xlsx":
                try:
                    produced = _scan_entry(zf, raw, info, budget, _XlsxGrid(max_columns, max_cells))
                except _SlowScan:
                    grid = _XlsxGrid(max_columns, max_cells, exact=True)
                    produced = _scan_entry(zf, raw, info, budget, grid)
            elif fmt == "ods" and info.filename == "content.xml":
                produced = _scan_entry(zf, raw, info, budget, _OdsGrid(max_columns, max_cells))
            else:
                produced = _scan_entry(zf, raw, info, budget, None)
            total += produced
    return fmt


def _scan_entry(zf: zipfile.ZipFile, raw: bytes | None, info: zipfile.ZipInfo, budget: int, scanner) -> int:
    produced = 0
    for chunk in _inflate(zf, raw, info, limit=budget):
        produced += len(chunk)
        if scanner is not None:
            scanner.feed(chunk)
    if scanner is not None:
        scanner.close()
    return produced


def _inflate(zf: zipfile.ZipFile, raw: bytes | None, info: zipfile.ZipInfo, *, limit: int) -> Iterator[bytes]:
    """Yield an entry's inflated bytes, read straight from its local header and capped at `limit`.

    zipfile itself stops at the declared size, but other readers (calamine's among them) inflate the whole
    stream, so the stream is what is measured.
    """
    fp = io.BytesIO(raw) if raw is not None else open(zf.filename, "rb")  # noqa: SIM115
    bomb = _refuse("zip_bomb", _("文件解压后异常庞大（疑似压缩炸弹），已拒绝。"))
    try:
        fp.seek(info.header_offset)
        header = fp.read(30)
        if len(header) != 30 or header[:4] != _ZIP_MAGIC:
            raise _refuse("format", _("文件内容不是有效的 Excel 或 ODS 表格，请检查文件是否损坏。"))
        name_len, extra_len = struct.unpack("<HH", header[26:30])
        fp.seek(info.header_offset + 30 + name_len + extra_len)
        left = info.compress_size
        produced = 0
        inflater = zlib.decompressobj(-zlib.MAX_WBITS) if info.compress_type == zipfile.ZIP_DEFLATED else None
        while left > 0:
            block = fp.read(min(_CHUNK, left))
            if not block:
                break
            left -= len(block)
            for out in _inflate_block(inflater, block):
                produced += len(out)
                if produced > limit:
                    raise bomb
                yield out
        if inflater is not None:
            out = inflater.flush()
            produced += len(out)
            if produced > limit:
                raise bomb
            if out:
                yield out
    finally:
        if raw is None:
            fp.close()


def _inflate_block(inflater, block: bytes) -> Iterator[bytes]:
    if inflater is None:
        yield block
        return
    try:
        # A megabyte of output at a time, so a bomb is caught after one step, not after it has exploded.
        while block and not inflater.eof:
            out = inflater.decompress(block, _CHUNK)
            block = inflater.unconsumed_tail
            if out:
                yield out
    except zlib.error:
        raise _refuse("unreadable", _("无法读取该表格：文件已损坏、已加密或格式不受支持。")) from None


def _grid_too_large() -> DomainError:
    return _refuse("grid", _("表格范围过大（行数或列数超出上限），请删除多余的空白行列或分批导入。"))


# Attributes before the one we want, each consumed whole, so an `r="A1"` inside another attribute's quoted
# value (or a `>` in one) cannot hide the real attribute from the scan.
_ATTRS_BEFORE = rb"""(?:\s+[\w:.-]+\s*=\s*(?:"[^"]*"|'[^']*'))*?"""
_ATTR = re.compile(rb"""([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_TAG_BODY = rb"""((?:[^>"']|"[^"]*"|'[^']*')*)>"""


class _TagStream:
    """Split an XML byte stream into buffers that end just before a tag, so no tag is cut in two.

    Everything from the last `<` on is carried into the next buffer (and scanned there), whether or not that
    tag looks complete: a `>` inside a quoted value must not fool the split.
    """

    _MAX_CARRY = 1 << 20

    def __init__(self):
        self.carry = b""

    def push(self, chunk: bytes) -> bytes:
        buf = self.carry + chunk
        cut = buf.rfind(b"<")
        if cut == -1:
            self.carry = b""
            return buf
        buf, self.carry = buf[:cut], buf[cut:]
        if len(self.carry) > self._MAX_CARRY:
            raise _grid_too_large()
        return buf

    def end(self) -> bytes:
        buf, self.carry = self.carry, b""
        return buf


class _SlowScan(Exception):
    """The worksheet has cells without an `r` reference: scan it again, tag by tag."""


class _XlsxGrid:
    """Bound the cell grid calamine will allocate for a worksheet (rows × columns, from A1).

    Writers (Excel, WPS, openpyxl, xlsxwriter) give every `<c>` an `r="B7"`, so the fast scan reads those
    references with a few C-level regex passes. A cell without one sits after the previous cell of its row;
    the exact scan (`exact=True`) follows `<row r>` and `<c>` one by one, as calamine places them.
    """

    _C_OPENINGS = (b"<c ", b"<c\t", b"<c\n", b"<c\r", b"<c>", b"<c/")
    _PREFIXED = re.compile(rb":(?:c|row)[\s/>]")
    _C_REF = re.compile(rb'<c r="([A-Za-z]{1,3}[0-9]{1,7})"')
    _DIGITS = b"0123456789"
    _LETTERS = bytes(range(ord("A"), ord("Z") + 1)) + bytes(range(ord("a"), ord("z") + 1))
    _TAG = re.compile(rb"<(?:[\w.-]+:)?(row|c)(?=[\s/>])" + _TAG_BODY)
    _R = re.compile(_ATTRS_BEFORE + rb"""\s+r\s*=\s*(?:"([^"]*)"|'([^']*)')""")
    _CELL_REF = re.compile(rb"([A-Za-z]{1,3})([0-9]{1,7})")

    def __init__(self, max_columns: int, max_cells: int, *, exact: bool = False):
        self.stream = _TagStream()
        self.max_columns, self.max_cells, self.exact = max_columns, max_cells, exact
        self.height = self.width = 0
        self.row = self.col = -1

    def feed(self, chunk: bytes) -> None:
        self._scan(self.stream.push(chunk))

    def close(self) -> None:
        self._scan(self.stream.end())

    def _scan(self, buf: bytes) -> None:
        if self.exact:
            self._exact(buf)
        else:
            self._fast(buf)

    def _grow(self, height: int, width: int) -> None:
        self.height, self.width = max(self.height, height), max(self.width, width)
        if self.width > self.max_columns or self.width * self.height > self.max_cells:
            raise _grid_too_large()

    def _fast(self, buf: bytes) -> None:
        # Every cell opening must be a plain `<c r="B7"`; anything else (a prefix, `r` not first, no `r`)
        # sends the whole sheet to the exact scan. When all cells carry references, rows do not matter.
        if self._PREFIXED.search(buf):
            raise _SlowScan
        refs = self._C_REF.findall(buf)
        # Every reference is a cell opening and every opening starts with `<c`, so when there are as many
        # references as `<c`s (every buffer after the one with `<cols>`), one count settles it instead of six.
        if len(refs) != buf.count(b"<c") and len(refs) != sum(map(buf.count, self._C_OPENINGS)):
            raise _SlowScan
        if refs:
            # A reference is letters then digits: deleting the digits leaves its column and deleting the
            # letters its row, one word per reference, without a regex pass or a Python step per cell.
            joined = b" ".join(refs)
            cols = {c.upper() for c in set(joined.translate(None, self._DIGITS).split())}
            rows = set(joined.translate(None, self._LETTERS).split())
            self._grow(max(map(int, rows)), max(map(_column_index, cols)) + 1)

    def _exact(self, buf: bytes) -> None:
        for name, attrs in self._TAG.findall(buf):
            m = self._R.match(attrs)
            value = (m.group(1) if m.group(1) is not None else m.group(2)) if m else None
            if name == b"row":
                if value is None:
                    self.row += 1
                elif value.isdigit():
                    self.row = int(value) - 1
                else:
                    raise _grid_too_large()
                self.col = -1
                continue
            if value is None:
                self.col += 1
            else:
                ref = self._CELL_REF.fullmatch(value)
                if ref is None:
                    raise _grid_too_large()
                self.col, self.row = _column_index(ref.group(1)), int(ref.group(2)) - 1
            self._grow(self.row + 1, self.col + 1)


def _column_index(letters: bytes) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + (ch - 64)
    return n - 1


class _OdsGrid:
    """ODS repeats rows and cells by attribute (`number-rows-repeated`); count them as calamine expands them.

    Trailing empty cells and rows (LibreOffice writes a million of them) cost nothing; repeated cells with
    content are what is measured, table by table.
    """

    _TAG = re.compile(rb"<(/?)table:(table-row|table-cell|covered-table-cell|table)(?=[\s/>])" + _TAG_BODY)

    def __init__(self, max_columns: int, max_cells: int):
        self.stream = _TagStream()
        self.max_columns, self.max_cells = max_columns, max_cells
        self._new_table()

    def _new_table(self) -> None:
        self.rows = 0  # rows so far in this table
        self.used_rows = 0  # up to the last row with content
        self.width = 0
        self.repeat = 1
        self.pos = 0
        self.row_width = 0

    def feed(self, chunk: bytes) -> None:
        self._scan(self.stream.push(chunk))

    def close(self) -> None:
        self._scan(self.stream.end())

    @staticmethod
    def _repeat(attrs: bytes, name: bytes) -> int:
        for key, v1, v2 in _ATTR.findall(attrs):
            if key == name:
                value = v1 or v2
                return int(value) if value.isdigit() else 1
        return 1

    def _scan(self, buf: bytes) -> None:
        for closing, name, body in self._TAG.findall(buf):
            selfclosing = body.rstrip().endswith(b"/")
            if name == b"table":
                if not closing:
                    self._new_table()
            elif name == b"table-row":
                if closing:
                    self._end_row()
                else:
                    self.repeat = self._repeat(body, b"table:number-rows-repeated")
                    self.pos = self.row_width = 0
                    if selfclosing:
                        self._end_row()
            elif not closing:
                self.pos += self._repeat(body, b"table:number-columns-repeated")
                if not selfclosing or b"value-type" in body:
                    self.row_width = self.pos

    def _end_row(self) -> None:
        self.rows += self.repeat
        if self.row_width:
            self.used_rows = self.rows
            self.width = max(self.width, self.row_width)
        if self.width > self.max_columns or self.width * self.used_rows > self.max_cells:
            raise _grid_too_large()


# ------------------------------------------------------------------------------------------- headers


def map_headers(
    header: list[str], synonyms: dict[str, list[str]], required: Iterable[str] | None = None
) -> dict[str, int]:
    """Find each field's column by its accepted header names: {field: column index}.

    The first name in each synonym list is the column's proper name, used in messages. Headers match after
    `normalize_header` and case-folding, and a trailing note such as `（选填）` or `*` is ignored. Missing
    optional fields are simply absent from the result; a missing required one is a DomainError naming it.
    """
    required = set(synonyms if required is None else required)
    lookup = _header_lookup(synonyms)
    found: dict[str, int] = {}
    for index, cell in enumerate(header):
        fld = _field_of(cell, lookup)
        if fld is None:
            continue
        if fld in found:
            raise DomainError(
                "spreadsheet.duplicate_column",
                _("表头中“%(name)s”出现了两次。") % {"name": synonyms[fld][0]},
                "file",
            )
        found[fld] = index
    missing = [synonyms[f][0] for f in synonyms if f in required and f not in found]
    if missing:
        raise DomainError(
            "spreadsheet.missing_columns",
            _("表头缺少必填列：%(names)s。") % {"names": "、".join(missing)},
            "file",
        )
    return found


def _strip_note(key: str) -> str:
    return re.sub(r"(\([^)]*\)|\*)+$", "", key)


def _header_lookup(synonyms: dict[str, list[str]]) -> dict[str, str]:
    """{normalised, case-folded header name: field}; a later field wins a name two fields share."""
    return {normalize_header(name).casefold(): fld for fld, names in synonyms.items() for name in names}


def _field_of(cell: str, lookup: dict[str, str]) -> str | None:
    """The field a header cell names (a trailing note such as `（选填）` or `*` ignored), or None."""
    key = normalize_header(cell).casefold()
    return lookup.get(key) or lookup.get(_strip_note(key))


# ------------------------------------------------------------------------------------------- staging

STAGE_MAX_AGE = 24 * 3600
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32,64}$")


def _stage_dir() -> Path:
    return Path(settings.VAR_DIR) / "uploads"


def stage_upload(data: bytes, *, owner_id: int, meta: dict) -> str:
    """Keep an uploaded file between a dry run and its commit; return the token that names it.

    The file lives in VAR_DIR/uploads (not the session: files can be megabytes) and belongs to one user.
    Files older than a day are swept on each new upload.
    """
    directory = _stage_dir()
    directory.mkdir(parents=True, exist_ok=True)
    _sweep(directory)
    token = secrets.token_urlsafe(32)
    blob = directory / f"{token}.bin"
    fd = os.open(blob, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    _write_meta(token, {**meta, "owner_id": owner_id, "staged_at": time.time()})
    return token


def load_staged(token: str, *, owner_id: int) -> tuple[bytes, dict]:
    """The staged file and its metadata; another user's, expired and unknown tokens look the same."""
    missing = DomainError("upload.missing", _("上传的文件已过期或不存在，请重新上传。"), "file")
    if not isinstance(token, str) or not _TOKEN.match(token):
        raise missing
    directory = _stage_dir()
    try:
        meta = json.loads((directory / f"{token}.json").read_text("utf-8"))
        data = (directory / f"{token}.bin").read_bytes()
    except (OSError, ValueError):
        raise missing from None
    if meta.get("owner_id") != owner_id or time.time() - meta.get("staged_at", 0) > STAGE_MAX_AGE:
        raise missing
    return data, meta


def update_staged(token: str, *, owner_id: int, meta: dict) -> None:
    _, old = load_staged(token, owner_id=owner_id)
    _write_meta(token, {**old, **meta, "owner_id": owner_id, "staged_at": old["staged_at"]})


def discard_staged(token: str) -> None:
    if not isinstance(token, str) or not _TOKEN.match(token):
        return
    for suffix in (".bin", ".json"):
        (_stage_dir() / f"{token}{suffix}").unlink(missing_ok=True)


def _write_meta(token: str, meta: dict) -> None:
    target = _stage_dir() / f"{token}.json"
    tmp = target.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(meta, fh, ensure_ascii=False)
    os.replace(tmp, target)


def _sweep(directory: Path) -> None:
    cutoff = time.time() - STAGE_MAX_AGE
    for entry in directory.iterdir():
        try:
            if entry.suffix in {".bin", ".json", ".tmp"} and entry.stat().st_mtime < cutoff:
                entry.unlink(missing_ok=True)
        except OSError:
            continue
