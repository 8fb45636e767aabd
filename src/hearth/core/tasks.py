"""Helpers for django-tasks (the backport of django.tasks)."""

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.models import DBTaskResult, get_date_max


def enqueue_once(task, **kwargs) -> None:
    """Enqueue `task` unless an identical one is already waiting: many requests, one job run."""
    if isinstance(task.get_backend(), DatabaseBackend):
        waiting = DBTaskResult.objects.ready().filter(task_path=task.module_path, args_kwargs__kwargs=kwargs)
        if waiting.exists():
            return
    task.enqueue(**kwargs)


def enqueue_on_commit(task, *, batched: bool = False, **kwargs) -> None:
    """After the current transaction commits, enqueue `task` — once per transaction, however often asked;
    `batched`: through `enqueue_batched` (a task without arguments that processes whatever is pending)."""
    key = (task.module_path, batched, tuple(sorted(kwargs.items())))
    conn = transaction.get_connection()
    if conn.in_atomic_block and any(
        getattr(f, "hearth_key", None) == key for _sids, f, _robust in conn.run_on_commit
    ):
        return

    def callback() -> None:
        if batched:
            enqueue_batched(task)
        else:
            enqueue_once(task, **kwargs)

    callback.hearth_key = key
    transaction.on_commit(callback)


# Per process: (backend, task path) -> the start of a run known to be waiting (see enqueue_batched).
_waiting_runs: dict[tuple[str, str], datetime] = {}
_MARGIN = timedelta(milliseconds=500)  # clock skew between this process and the worker


def enqueue_batched(task, *, window: float = 2.0) -> None:
    """Make sure a run of `task` starts within `window` seconds, for a task that processes whatever is pending.

    A run deferred by `window` takes in everything committed before it starts, so while this process knows
    that such a run is still to start, it asks nothing (no query per request); otherwise it looks for a
    waiting run, and enqueues one only if none starts later than now. Backends that cannot defer (the tests'
    immediate backend) run the task now, as `enqueue_once` does.
    """
    backend = task.get_backend()
    if not backend.supports_defer:
        enqueue_once(task)
        return
    key = (backend.alias, task.module_path)
    now = timezone.now()
    if _waiting_runs.get(key, now) > now + _MARGIN:
        return
    starts = None
    if isinstance(backend, DatabaseBackend):
        starts = (
            DBTaskResult.objects.filter(
                status=TaskResultStatus.READY,
                task_path=task.module_path,
                backend_name=backend.alias,
                run_after__gt=now + _MARGIN,
            )
            .exclude(run_after=get_date_max())
            .aggregate(m=Max("run_after"))["m"]
        )
    if starts is None:
        starts = now + timedelta(seconds=window)
        task.using(run_after=starts).enqueue()
    _waiting_runs[key] = starts


def forget_waiting_runs() -> None:
    """Tests: forget what this process knew about waiting runs (their transactions were rolled back)."""
    _waiting_runs.clear()
