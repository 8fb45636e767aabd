from django_tasks import task


@task()
def run_link_task(list_id: int) -> str:
    """Match one partner list with the registry (services.run_link); returns the list's final status."""
    from .services import run_link

    return run_link(list_id).status
