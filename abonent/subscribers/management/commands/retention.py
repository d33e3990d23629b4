from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from abonent.network import retention as accounting
from abonent.subscribers import retention as personal


class Command(BaseCommand):
    help = (
        "Apply the data retention policy (docs/decisions/0014-data-retention.md): old daily "
        "traffic into months, old sessions and detail files deleted, former subscribers "
        "anonymised. The nightly jobs do the same; safe to run twice."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="print what would happen, change nothing"
        )
        parser.add_argument(
            "--only",
            choices=["accounting", "personal"],
            help="one of the two parts (default: both)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        dry = options["dry_run"]
        would = "would be " if dry else ""
        if options["only"] in (None, "accounting"):
            report = accounting.run(dry_run=dry)
            self.stdout.write(
                f"Traffic before {report.cutoff_day}: {report.days_folded} daily row(s) of "
                f"{report.contracts} contract(s) {would}folded into months"
                + ("." if dry else f" ({report.months_written} month row(s) written).")
            )
            self.stdout.write(
                f"Sessions ended before {report.cutoff_session:%Y-%m-%d %H:%M %Z}: "
                f"{report.sessions_deleted} {would}deleted."
            )
            self.stdout.write(f"Loaded detail files: {report.files_deleted} {would}deleted.")
        if options["only"] in (None, "personal"):
            people = personal.run(dry_run=dry)
            self.stdout.write(
                f"Subscribers whose last contract was terminated before {people.cutoff}: "
                f"{len(people.subscribers)} ({people.contracts} contract(s)) {would}anonymised"
                + ("." if dry else f", {people.attachments} attachment file(s) deleted.")
            )
            if dry and people.subscribers:
                shown = ", ".join(str(pk) for pk in people.subscribers[:50])
                more = len(people.subscribers) - 50
                self.stdout.write(
                    f"  subscriber ids: {shown}" + (f" and {more} more" if more > 0 else "")
                )
