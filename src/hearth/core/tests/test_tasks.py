from django_tasks_db.models import DBTaskResult

from hearth.audit.tasks import seal_audit_log
from hearth.core.tasks import enqueue_once


def test_a_waiting_task_is_not_enqueued_twice(db):
    task = seal_audit_log.using(backend="database")
    for _ in range(5):
        enqueue_once(task)
    assert DBTaskResult.objects.filter(task_path=task.module_path).count() == 1
    DBTaskResult.objects.update(status="SUCCESSFUL")
    enqueue_once(task)
    assert DBTaskResult.objects.filter(task_path=task.module_path, status="READY").count() == 1


def test_a_batched_task_is_deferred_once_and_found_again_by_another_process(db):
    from datetime import timedelta

    from django.utils import timezone

    from hearth.core.tasks import enqueue_batched, forget_waiting_runs

    task = seal_audit_log.using(backend="database")
    forget_waiting_runs()
    before = timezone.now()
    for _ in range(5):
        enqueue_batched(task, window=2.0)
    runs = list(DBTaskResult.objects.filter(task_path=task.module_path))
    assert len(runs) == 1
    # Deferred: it starts about `window` seconds later and takes in every row committed before then.
    assert before + timedelta(seconds=1.5) < runs[0].run_after < timezone.now() + timedelta(seconds=2.5)

    forget_waiting_runs()  # another process knows nothing, asks the database, and finds the waiting run
    enqueue_batched(task, window=2.0)
    assert DBTaskResult.objects.filter(task_path=task.module_path).count() == 1

    # A run that has started (or is about to) covers nothing committed later: a new one is deferred.
    DBTaskResult.objects.update(status="RUNNING")
    forget_waiting_runs()
    enqueue_batched(task, window=2.0)
    assert DBTaskResult.objects.filter(task_path=task.module_path, status="READY").count() == 1
    forget_waiting_runs()


def test_a_run_about_to_start_does_not_count_as_waiting(db):
    from datetime import timedelta

    from django.utils import timezone

    from hearth.core.tasks import enqueue_batched, forget_waiting_runs

    task = seal_audit_log.using(backend="database")
    forget_waiting_runs()
    task.using(run_after=timezone.now() + timedelta(milliseconds=100)).enqueue()
    enqueue_batched(task, window=2.0)
    assert DBTaskResult.objects.filter(task_path=task.module_path, status="READY").count() == 2
    forget_waiting_runs()
