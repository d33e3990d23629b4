import datetime as dt

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from abonent.core import clock

from . import services

# In the first runs after midnight the last minutes of yesterday are looked at too.
LATE_CHECK_UNTIL = dt.time(0, 20)


@db_periodic_task(crontab(minute="*/10"))
def detect_line_trouble() -> None:
    """Flapping lines today (and yesterday, just after midnight)."""
    now = clock.now()
    today = timezone.localdate(now)
    if timezone.localtime(now).time() < LATE_CHECK_UNTIL:
        services.detect_line_trouble(today - dt.timedelta(days=1))
    services.detect_line_trouble(today)


@db_periodic_task(crontab(minute="*/5"))
def detect_building_trouble() -> None:
    """Houses where several subscribers dropped within the window."""
    services.detect_building_trouble(clock.now())
