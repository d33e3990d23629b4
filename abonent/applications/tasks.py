from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from . import services


@db_periodic_task(crontab(minute="20"))
def notify_coverage_watchers() -> None:
    """Hourly: people waiting for their house hear once it can be connected."""
    services.notify_watchers()
