from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from abonent.network.detail import ingest_directory


class Command(BaseCommand):
    help = "Load FreeRADIUS detail files (accounting buffered with --accounting detail) into the database."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dir", required=True, help="the radacct directory of the generated config"
        )
        parser.add_argument("--all", action="store_true", help="also the file being written now")

    def handle(self, *args: Any, **options: Any) -> None:
        directory = Path(options["dir"])
        if not directory.is_dir():
            raise CommandError(f"{directory} is not a directory.")
        totals = ingest_directory(directory, include_open=options["all"])
        self.stdout.write(
            f"{totals['files']} file(s), {totals['records']} record(s), {totals['sessions']} session(s), "
            f"{totals['ignored']} ignored."
        )
