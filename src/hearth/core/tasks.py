"""Helpers for django-tasks (the backport of django.tasks)."""

from django.db import transaction
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.models import DBTaskResult


def enqueue_once(task, **kwargs) -> None:
    """Enqueue `task` unless an identical one is already waiting: many requests, one job run."""
    if isinstance(task.get_backend(), DatabaseBackend):
        waiting = DBTaskResult.objects.ready().filter(task_path=task.module_path, args_kwargs__kwargs=kwargs)
        if waiting.exists():
            return
    task.enqueue(**kwargs)


def enqueue_on_commit(task, **kwargs) -> None:
    """After the current transaction commits, enqueue `task` — once per transaction, however often asked."""
    key = (task.module_path, tuple(sorted(kwargs.items())))
    conn = transaction.get_connection()
    if conn.in_atomic_block and any(
        getattr(f, "hearth_key", None) == key for _sids, f, _robust in conn.run_on_commit
    ):
        return

    def callback() -> None:
        enqueue_once(task, **kwargs)

    callback.hearth_key = key
    transaction.on_commit(callback)
