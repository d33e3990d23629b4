from __future__ import annotations

from django.http import HttpRequest
from ninja import Router

from abonent.billing.selectors import overview_for_user
from abonent.catalog.models import Tariff
from abonent.core.money import Money
from abonent.subscribers.models import Contract

from .schemas import AccountOut, AddOnOut, MoneyOut, NextChargeOut, TariffOut
from .security import me

router = Router(tags=["account"])


def tariff_out(tariff: Tariff) -> TariffOut:
    return TariffOut(
        id=tariff.pk,
        name=tariff.name,
        price=money(tariff.price),
        speed_mbps=tariff.speed_in_mbps,
        speed_out_mbps=tariff.speed_out_mbps,
        charging_mode=tariff.charging_mode,
    )


def addons_out(contract: Contract) -> list[AddOnOut]:
    return [
        AddOnOut(
            id=link.addon.pk,
            name=link.addon.name,
            price=money(link.addon.money),
            billing=link.addon.billing,
            connected_on=link.connected_on,
        )
        for link in contract.addons.all()
    ]


def money(value: Money) -> MoneyOut:
    return MoneyOut(amount=value.kopecks, currency=value.currency)


@router.get("", response=AccountOut, url_name="account")
def account(request: HttpRequest) -> AccountOut:
    overview = overview_for_user(me(request))
    contract = overview.contract
    tariff = contract.tariff
    next_charge = overview.outlook.next_charge
    return AccountOut(
        contract_number=contract.number,
        full_name=contract.subscriber.full_name,
        address=str(contract.address),
        status=contract.status,
        status_display=contract.get_status_display(),
        balance=money(overview.balance),
        tariff=tariff_out(tariff),
        addons=addons_out(contract),
        next_charge=NextChargeOut(date=next_charge.date, amount=money(next_charge.amount))
        if next_charge
        else None,
        days_left=overview.outlook.days_left,
        promised_payment={
            "amount": money(Money(overview.promise.amount)).dict(),
            "expires_on": overview.promise.expires_on,
        }
        if overview.promise
        else None,
        suspension={
            "id": overview.suspension.pk,
            "start_date": overview.suspension.start_date,
            "end_date": overview.suspension.end_date,
            "status": overview.suspension.status,
        }
        if overview.suspension
        else None,
        scheduled_tariff_change={
            "id": overview.scheduled_change.pk,
            "tariff_id": overview.scheduled_change.to_tariff_id,
            "effective_date": overview.scheduled_change.effective_date,
        }
        if overview.scheduled_change
        else None,
        notices=overview.notices,
    )
