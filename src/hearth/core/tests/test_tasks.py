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
