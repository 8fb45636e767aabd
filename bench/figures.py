"""Timing helpers and the figures table."""

import json
import math
import statistics
import time
import unicodedata
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass
class Figure:
    figure: str
    value: float | int | str
    unit: str
    scale: str
    database: str
    p95: float | None = None

    @property
    def shown(self) -> str:
        text = _num(self.value)
        return f"{text} (p95 {_num(self.p95)})" if self.p95 is not None else text


def _num(v: float | int | str | None) -> str:
    if v is None:
        return ""
    if isinstance(v, str):
        return v
    if isinstance(v, int):
        return f"{v:,}"
    if v >= 1000:
        return f"{v:,.0f}"
    if v >= 100:
        return f"{v:.0f}"
    if v >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


@dataclass
class Sample:
    times_ms: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.times_ms)

    @property
    def p95(self) -> float:
        ordered = sorted(self.times_ms)
        return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]  # nearest rank


def sample(fn: Callable[[], object], *, repeat: int, warmup: int = 2) -> Sample:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return Sample(times)


def rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")


class Stopwatch:
    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int, right: bool = False) -> str:
    gap = " " * (width - _width(text))
    return gap + text if right else text + gap


def render(figures: list[Figure]) -> str:
    header = ("figure", "value", "unit", "scale", "database")
    rows = [(f.figure, f.shown, f.unit, f.scale, f.database) for f in figures]
    widths = [max(_width(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = [
        " | ".join(_pad(h, w) for h, w in zip(header, widths, strict=True)),
        "-+-".join("-" * w for w in widths),
    ]
    for r in rows:
        cells = [_pad(c, w, right=(i == 1)) for i, (c, w) in enumerate(zip(r, widths, strict=True))]
        lines.append(" | ".join(cells))
    return "\n".join(lines)


def write_json(path: Path, meta: dict, figures: list[Figure], plans: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {"meta": meta, "figures": [asdict(f) for f in figures], "plans": plans}
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=2, default=str))
