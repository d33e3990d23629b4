from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from . import retention


@db_periodic_task(crontab(hour="1", minute="50"))
def anonymise_former_subscribers() -> None:
    """Nightly (04:50 Moscow; huey's crontab is UTC): people whose last contract ended
    past the retention period, settled, are anonymised (decision 0014). Safe to run twice."""
    retention.run()
