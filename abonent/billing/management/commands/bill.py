from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from abonent.billing.run import DEFAULT_BATCH, run_billing
from abonent.core import clock


class Command(BaseCommand):
    help = "Run the daily billing for a date (default: today). Safe to run again."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", help="YYYY-MM-DD (default: today in the provider's zone)")
        parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH)
        parser.add_argument(
            "--pause",
            type=float,
            default=0.0,
            help="seconds to rest between batches (spares live traffic)",
        )

    def handle(
        self, *args: Any, date: str | None, batch_size: int, pause: float, **options: Any
    ) -> None:
        try:
            day = dt.date.fromisoformat(date) if date else clock.today()
        except ValueError as exc:
            raise CommandError("--date must look like 2026-11-27.") from exc
        if not 1 <= batch_size <= 200_000:
            raise CommandError("--batch-size must be between 1 and 200,000.")
        if not 0 <= pause <= 60:
            raise CommandError("--pause must be between 0 and 60 seconds.")
        show = options.get("verbosity", 1) > 0
        with tqdm(disable=not show, unit="contracts", desc=f"billing {day}") as bar:

            def progress(done: int, total: int) -> None:
                bar.total = total
                bar.update(done)

            run = run_billing(day, batch_size=batch_size, progress=progress, pause=pause)
        run.refresh_from_db()
        if show:
            self.stdout.write(
                f"Billing {day}: {run.charges_created} charges, {run.amount_charged / 100:.2f} RUB, "
                f"{run.blocked} blocked, {run.reminders} reminders."
            )
