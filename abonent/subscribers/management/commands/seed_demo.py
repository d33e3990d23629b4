from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from abonent.applications import demo as applications_demo
from abonent.subscribers import demo
from abonent.support import demo as support_demo


class Command(BaseCommand):
    help = "Create demo tariffs, staff and subscribers 1000001.. (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--subscribers", type=int, default=20, help="how many (default 20)")
        parser.add_argument("--force", action="store_true", help="run even with DEBUG off")

    def handle(self, *args: Any, subscribers: int, force: bool, **options: Any) -> None:
        if not settings.DEBUG and not force:
            raise CommandError(
                "seed_demo creates known passwords: it runs only with DEBUG or --force."
            )
        if subscribers < 3 or subscribers > 2_000_000:
            raise CommandError("--subscribers must be between 3 and 2,000,000.")
        demo.ensure_catalog()
        demo.ensure_staff()
        support_demo.ensure_canned_answers()
        applications_demo.ensure_coverage()
        applications_demo.ensure_slots()
        show = options.get("verbosity", 1) > 0
        with tqdm(
            total=subscribers, disable=not show, unit="subscr", desc="demo subscribers"
        ) as bar:
            bar.update(0)
            result = demo.seed_subscribers(subscribers, progress=bar.update)
        if show:
            self.stdout.write(
                f"Demo data ready: {result.created} subscribers created, "
                f"{result.existing} already there."
            )
