import datetime as dt
import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task, lock_task

from abonent.core import clock
from abonent.core.context import Actor

from .models import Payment
from .services import process_webhook_now, refresh, unprocessed_webhooks

logger = logging.getLogger("abonent.payments")
STUCK_AFTER = dt.timedelta(minutes=10)
GIVE_UP_AFTER = dt.timedelta(days=3)
# Longer than the provider's timeout: the request that booked the refund has had its
# answer by then.
REFUND_ASKED_AGAIN_AFTER = dt.timedelta(minutes=2)


@db_task(retries=5, retry_delay=30)
def process_webhook(event_id: int) -> None:
    process_webhook_now(event_id)


@db_periodic_task(crontab(minute="*/2"))
@lock_task("retry-unprocessed-webhooks")
def retry_unprocessed_webhooks() -> None:
    """A notification stored while the queue was down (or whose job gave up) is
    processed here; a payment is credited once whichever job gets there first."""
    for event_id in unprocessed_webhooks(clock.now()):
        try:
            process_webhook_now(event_id)
        except Exception:  # one bad event must not starve the others
            logger.exception("webhook event %s could not be processed", event_id)


@db_periodic_task(crontab(minute="*/10"))
def reconcile_pending() -> None:
    """A payment still pending after 10 minutes: ask the provider instead of waiting for
    a notification that may never come."""
    from .autopay import resume_charge

    now = clock.now()
    for payment in Payment.objects.filter(
        status__in=[Payment.Status.PENDING, Payment.Status.WAITING_FOR_CAPTURE],
        created_at__lt=now - STUCK_AFTER,
        created_at__gt=now - GIVE_UP_AFTER,
    ).exclude(provider_payment_id=""):
        refresh(payment, Actor.system("job"))
    for payment in Payment.objects.filter(
        status=Payment.Status.PENDING,
        provider_payment_id="",
        autopay_rule__isnull=False,
        created_at__lt=now - STUCK_AFTER,
    ).select_related("contract"):
        resume_charge(payment, now)


@db_periodic_task(crontab(minute="*/5"))
@lock_task("retry-pending-refunds")
def retry_pending_refunds() -> None:
    """A refund booked while the provider did not answer is asked again with the same
    key (the provider answers it with the same refund) until it says done or refused —
    for a day at most (`office.pending_refunds`; then staff settle it)."""
    from .office import pending_refunds, settle_refund

    for refund_id in pending_refunds(clock.now(), REFUND_ASKED_AGAIN_AFTER):
        try:
            settle_refund(refund_id)
        except Exception:  # one bad refund must not starve the others
            logger.exception("refund %s could not be settled", refund_id)


@db_periodic_task(crontab(hour="7", minute="30"))
def daily_autopay() -> None:
    """Once a day, in the morning (07:30 UTC = 10:30 Moscow), not at night."""
    from .autopay import run_autopay

    run_autopay(clock.today())
