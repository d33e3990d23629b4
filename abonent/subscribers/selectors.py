"""Read queries. `contract_for_user` is the one gate through which every cabinet and
API view reaches subscriber data: a user sees their own contract and nothing else."""

from __future__ import annotations

from django.db.models import Prefetch

from abonent.accounts.models import User
from abonent.core.errors import NotFound

from .models import Contract, ContractAddOn


def contract_for_user(user: User) -> Contract:
    """The contract this user may see, with what the cabinet home shows, in 2 queries."""
    if not user.is_authenticated or user.kind != User.Kind.SUBSCRIBER:
        raise NotFound()
    contract = (
        Contract.objects.select_related("subscriber", "address", "tariff", "account")
        .prefetch_related(
            Prefetch(
                "addons",
                queryset=ContractAddOn.objects.filter(disconnected_on__isnull=True).select_related(
                    "addon"
                ),
            )
        )
        .filter(user_id=user.pk)
        .first()
    )
    if contract is None:
        raise NotFound()
    return contract
