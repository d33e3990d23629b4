from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from abonent.applications.services import import_buildings


class Command(BaseCommand):
    help = (
        "Load the coverage register from CSV (';' or ','): "
        "street;house;entrances;flats;network(connected|planned|none);free_ports;planned_on"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")

    def handle(self, *args: Any, file: str, **options: Any) -> None:
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        result = import_buildings(path.read_text(encoding="utf-8-sig", errors="replace"))
        for error in result.errors:
            self.stderr.write(error)
        self.stdout.write(
            f"{result.created} building(s) added, {result.updated} updated, "
            f"{len(result.errors)} line(s) skipped."
        )
