from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from . import services


@db_periodic_task(crontab(minute="*/5"))
def flag_sla_breaches() -> None:
    services.flag_breaches()


@db_periodic_task(crontab(minute="15", hour="3"))
def close_resolved_tickets() -> None:
    """A resolved ticket the subscriber neither rated nor answered closes itself."""
    services.autoclose()
