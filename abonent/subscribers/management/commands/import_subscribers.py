from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from abonent.accounts.models import User
from abonent.core.context import Actor
from abonent.core.errors import DomainError
from abonent.subscribers import importing


class Command(BaseCommand):
    help = (
        "Import subscribers, balances and tariffs from another billing system: a CSV "
        "(';' or ',', UTF-8 or Windows-1251) with the header "
        f"{importing.HEADER}. Every row is checked first; with any error nothing is "
        "loaded and the command exits with code 1."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")
        parser.add_argument("--check", action="store_true", help="only validate, load nothing")
        parser.add_argument(
            "--as",
            dest="username",
            default="",
            help="the administrator the import is recorded under (required to load)",
        )

    def handle(self, *args: Any, file: str, check: bool, username: str, **options: Any) -> None:
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        data = path.read_bytes()
        if check:
            report = importing.check(data)
            self._print(report)
            if report.errors:
                raise CommandError(f"{len(report.errors)} error(s).", returncode=1)
            self.stdout.write(f"{len(report.rows)} row(s) can be loaded.")
            return
        if not username:
            raise CommandError("Loading needs --as <administrator username>.")
        user = User.objects.filter(username=username, kind=User.Kind.STAFF).first()
        if user is None:
            raise CommandError(f"No staff account {username!r}.")
        try:
            result = importing.load(data, Actor(user=user, channel="cli"), source=path.name)
        except DomainError as exc:
            raise CommandError(str(exc.message)) from exc
        self._print(result.report)
        if not result.loaded:
            raise CommandError(
                f"{len(result.report.errors)} error(s): nothing loaded.", returncode=1
            )
        self.stdout.write(
            f"Loaded {result.created} contract(s) in {result.seconds:.1f} s "
            f"(batch {result.batch}); new contract numbers start after "
            f"{result.highest_number}."
        )
        self.stdout.write(str(importing.PASSWORD_NOTE))

    def _print(self, report: importing.Report) -> None:
        for error in report.errors:
            where = f"line {error.line}" if error.line else "file"
            column = f", {error.column}" if error.column else ""
            value = f" [{error.value}]" if error.value else ""
            self.stderr.write(f"{where}{column}: {error.message}{value}")
        self.stdout.write(
            f"{report.row_count} row(s) read ({report.encoding}, '{report.delimiter}'), "
            f"{len(report.errors)} error(s) on {len(report.error_lines)} line(s)."
        )
