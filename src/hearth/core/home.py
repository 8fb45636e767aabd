"""The home page is filled by the apps: each registers what it counts and what it asks the actor to do.

Apps call `register_stat` / `register_todo` from their AppConfig.ready(), so core never imports them.
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Stat:
    label: str
    value: int
    url: str | None = None


@dataclass(frozen=True)
class Todo:
    label: str
    count: int
    url: str


@dataclass(frozen=True)
class Chart:
    """A bar chart for numbers people compare (rendered with ECharts from the local static files)."""

    title: str
    labels: list[str]
    values: list[int]


_stats: list[Callable] = []
_charts: list[Callable] = []
_todos: list[Callable] = []


def register_stat(provider: Callable) -> None:
    if provider not in _stats:
        _stats.append(provider)


def register_chart(provider: Callable) -> None:
    if provider not in _charts:
        _charts.append(provider)


def register_todo(provider: Callable) -> None:
    if provider not in _todos:
        _todos.append(provider)


def stats_for(actor) -> list[Stat]:
    return [s for p in _stats for s in p(actor)]


def todos_for(actor) -> list[Todo]:
    return [t for p in _todos for t in p(actor) if t.count]


def charts_for(actor) -> list[Chart]:
    return [c for p in _charts for c in p(actor) if c.values]
