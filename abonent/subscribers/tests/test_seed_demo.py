import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from abonent.accounts import services
from abonent.accounts.models import User
from abonent.billing.models import Account, LedgerEntry
from abonent.billing.selectors import mismatched_balances
from abonent.subscribers.models import Contract

pytestmark = pytest.mark.django_db


def test_refuses_without_debug_or_force():
    with override_settings(DEBUG=False), pytest.raises(CommandError, match="DEBUG"):
        call_command("seed_demo", verbosity=0)
    assert not Contract.objects.exists()


def test_demo_data_as_documented_and_idempotent():
    call_command("seed_demo", "--force", "--subscribers", "25", verbosity=0)
    call_command("seed_demo", "--force", "--subscribers", "25", verbosity=0)
    assert Contract.objects.count() == 25
    assert LedgerEntry.objects.count() == 26  # one payment each, plus 1000002's debt
    statuses = dict(
        Contract.objects.filter(number__in=["1000001", "1000002", "1000003"]).values_list(
            "number", "status"
        )
    )
    assert statuses == {"1000001": "active", "1000002": "blocked_debt", "1000003": "suspended"}
    assert Account.objects.get(contract__number="1000002").balance < 0
    assert Account.objects.filter(balance__lte=0).count() == 1
    assert mismatched_balances() == []
    first = Contract.objects.select_related("subscriber").get(number="1000001")
    assert first.subscriber.phone == "+79000000001"
    assert Contract.objects.get(number="1000025").subscriber.phone == "+79000000025"
    # Both the Argon2id logins and the bulk fast-hashed ones work, and don't force a change.
    for number in ("1000001", "1000025"):
        user = services.authenticate_subscriber(number, f"demo-{number}")
        assert not user.password_change_required
    assert User.objects.get(username="1000025").password.startswith("argon2$")
    assert User.objects.filter(username="admin", is_superuser=True).exists()
    # New contracts continue after the demo range.
    from abonent.subscribers.services import allocate_contract_numbers

    assert allocate_contract_numbers(1) == ["1000026"]
