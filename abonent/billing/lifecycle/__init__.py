"""What a subscriber changes about their service, and what the calendar changes:
tariff changes, add-ons, voluntary suspension, promised payment, termination. Each
action has a preview computed by the same function that then executes it (billing.md:
"the preview and the execution share one computation"), takes the account's row lock,
writes ledger entries with keys derived from the action, and tells the network."""

from .addons import AddOnPlan, plan_addon, set_addon
from .calendar import advance, promise_outstanding
from .common import InsufficientFunds, PolicyViolation, contract_account, refund_fee
from .promise import PromisePlan, plan_promise, take_promise
from .suspension import (
    SuspensionPlan,
    cancel_suspension,
    plan_suspension,
    resume,
    suspend,
    suspension_days_used,
)
from .tariffs import (
    TariffChangePlan,
    cancel_tariff_change,
    change_tariff,
    plan_tariff_change,
    tariffs_open_to,
)
from .termination import (
    SettlementLine,
    Termination,
    TerminationDebt,
    TerminationPlan,
    plan_termination,
    terminate,
)

__all__ = [
    "AddOnPlan",
    "InsufficientFunds",
    "PolicyViolation",
    "PromisePlan",
    "SettlementLine",
    "SuspensionPlan",
    "TariffChangePlan",
    "Termination",
    "TerminationDebt",
    "TerminationPlan",
    "advance",
    "cancel_suspension",
    "cancel_tariff_change",
    "change_tariff",
    "contract_account",
    "plan_addon",
    "plan_promise",
    "plan_suspension",
    "plan_tariff_change",
    "plan_termination",
    "promise_outstanding",
    "refund_fee",
    "resume",
    "set_addon",
    "suspend",
    "suspension_days_used",
    "take_promise",
    "tariffs_open_to",
    "terminate",
]
