import datetime as dt

from django.db.models import Q
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task, lock_task

from abonent.core import clock

from .models import MassOperation, Message
from .services import deliver_now, expire_stale_codes, stalled_messages

RETRY_DELAYS = [30, 120, 600, 1800]  # seconds after the 1st, 2nd... failed attempt


@db_task()
def deliver(message_id: int) -> None:
    message = deliver_now(message_id)
    if message.status == Message.Status.QUEUED:  # a retryable failure: try again later
        delay = RETRY_DELAYS[min(message.attempts - 1, len(RETRY_DELAYS) - 1)]
        deliver.schedule((message_id,), delay=delay)


@db_task()
def deliver_batch(message_ids: list[int]) -> None:
    for message_id in message_ids:
        deliver.call_local(message_id)


@db_periodic_task(crontab(minute="*/2"))
@lock_task("deliver-stalled")
def deliver_stalled() -> None:
    """Messages whose delivery job was lost (the queue was down when they were queued,
    or lost the scheduled retry): sent from here. Sending twice is impossible:
    `deliver_now` sends only a queued message, under its row lock."""
    now = clock.now()
    expire_stale_codes(now)
    for message_id in stalled_messages(now):
        deliver.call_local(message_id)


@db_task(retries=2, retry_delay=60)
def run_mass_operation(operation_id: int) -> None:
    """A price change's notices or a message to a segment (notifications.mass)."""
    from .mass import run

    run(operation_id)


@db_periodic_task(crontab(minute="*/10"))
def resume_mass_operations() -> None:
    """A price change's notices are owed by law: an operation that failed, whose job
    never started (a worker restart), or whose worker died mid-way (no progress for 10
    minutes; a chunk takes seconds) is taken up again from where it stopped. Running it
    beside a live but slow worker is safe: chunks lock the operation, messages have
    dedupe keys."""
    stale = clock.now() - dt.timedelta(minutes=10)
    for op_id in MassOperation.objects.filter(
        Q(status=MassOperation.Status.FAILED)
        | Q(status=MassOperation.Status.QUEUED, created_at__lt=stale)
        | Q(status=MassOperation.Status.RUNNING, heartbeat_at__lt=stale)
        | Q(status=MassOperation.Status.RUNNING, heartbeat_at__isnull=True, created_at__lt=stale)
    ).values_list("pk", flat=True):
        run_mass_operation.call_local(op_id)
