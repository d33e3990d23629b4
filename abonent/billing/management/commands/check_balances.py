from typing import Any

from django.core.management.base import BaseCommand, CommandError

from abonent.billing.selectors import mismatched_balances


class Command(BaseCommand):
    help = "Prove every account's cached balance equals the sum of its ledger entries."

    def handle(self, *args: Any, **options: Any) -> None:
        bad = mismatched_balances()
        for account_id, cached, ledger in bad[:50]:
            self.stderr.write(f"account {account_id}: cached {cached}, ledger sum {ledger}")
        if bad:
            raise CommandError(f"{len(bad)} account(s) disagree with their ledger.")
        self.stdout.write("All balances equal their ledger sums.")
