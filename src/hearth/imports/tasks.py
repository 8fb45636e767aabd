from django_tasks import task


@task()
def run_import(job_id: int, commit: bool) -> str:
    """The dry run or the commit of one import job (services.run_job); returns the job's final status."""
    from .services import run_job

    return run_job(job_id, commit=commit).status
