import datetime as dt

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from abonent.core import clock

from .models import BillingRun
from .run import run_billing

CATCH_UP_DAYS = 31


def days_to_bill(today: dt.date) -> list[dt.date]:
    """Today, preceded by any days missed since the last finished run (in order)."""
    last = (
        BillingRun.objects.filter(status=BillingRun.Status.DONE)
        .order_by("-date")
        .values_list("date", flat=True)
        .first()
    )
    if last is None or last >= today:
        return [] if last == today else [today]
    start = max(last + dt.timedelta(days=1), today - dt.timedelta(days=CATCH_UP_DAYS))
    return [start + dt.timedelta(days=i) for i in range((today - start).days + 1)]


@db_periodic_task(crontab(minute="5"))
@lock_task("daily-billing")
def daily_billing() -> None:
    """Hourly at :05; bills once the provider's day has begun (00:05 local time) and
    catches up days a stopped worker missed."""
    if (
        timezone.localtime(clock.now()).hour != 0
        and BillingRun.objects.filter(date=clock.today(), status="done").exists()
    ):
        return
    for day in days_to_bill(clock.today()):
        run_billing(day)
