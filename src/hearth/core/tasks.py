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
    transaction.on_commit(lambda: enqueue_once(task, **kwargs))
