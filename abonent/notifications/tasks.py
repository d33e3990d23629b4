from huey.contrib.djhuey import db_task

from .models import Message
from .services import deliver_now

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


@db_task()
def run_mass_operation(operation_id: int) -> None:
    """A price change's notices or a message to a segment (notifications.mass)."""
    from .mass import run

    run(operation_id)
