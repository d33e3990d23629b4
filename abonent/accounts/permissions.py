"""Staff permissions are checked in services, not only in views (security.md).

`STAFF_ACTIONS` is the one list of who may do what (least privilege); services call
`require_action`, the back office shows only the buttons `allowed` says, and a matrix
test walks every role against every action."""

from __future__ import annotations

from abonent.core.context import Actor
from abonent.core.errors import Forbidden

from .models import User

R = User.Role
EVERY_ROLE = (R.OPERATOR, R.CASHIER, R.TECHNICIAN, R.MANAGER, R.ADMIN)
STAFF_ACTIONS: dict[str, tuple[str, ...]] = {
    # Reading a subscriber's card (audited as a read of personal data).
    "view_subscriber": EVERY_ROLE,
    "contract_copy": (R.OPERATOR, R.CASHIER, R.MANAGER, R.ADMIN),
    "temporary_password": (R.OPERATOR, R.MANAGER, R.ADMIN),
    "restore_cabinet": (R.OPERATOR, R.MANAGER, R.ADMIN),
    "lift_login_lock": (R.OPERATOR, R.MANAGER, R.ADMIN),
    "cash_payment": (R.CASHIER, R.MANAGER, R.ADMIN),
    "refund": (R.MANAGER, R.ADMIN),
    "correction": (R.MANAGER, R.ADMIN),
    "tariff_change": (R.OPERATOR, R.MANAGER, R.ADMIN),
    "suspension": (R.OPERATOR, R.MANAGER, R.ADMIN),
    "promised_payment": (R.OPERATOR, R.MANAGER, R.ADMIN),
    "terminate": (R.OPERATOR, R.MANAGER, R.ADMIN),
    "tickets": (R.OPERATOR, R.TECHNICIAN, R.MANAGER, R.ADMIN),
    "applications": (R.OPERATOR, R.TECHNICIAN, R.MANAGER, R.ADMIN),
    "sign_contract": (R.OPERATOR, R.MANAGER, R.ADMIN),
    "audit_log": (R.MANAGER, R.ADMIN),
    "reports": (R.MANAGER, R.ADMIN),
    "mass_operations": (R.MANAGER, R.ADMIN),
    "import": (R.ADMIN,),
}


def require_role(actor: Actor, *roles: str) -> User:
    user = actor.user
    if (
        user is None
        or not user.is_active
        or user.kind != User.Kind.STAFF
        or (user.role not in roles and not user.is_superuser)
    ):
        raise Forbidden()
    return user


def require_action(actor: Actor, action: str) -> User:
    """A staff member whose role may do `action`."""
    return require_role(actor, *STAFF_ACTIONS[action])


def allow_on_behalf(actor: Actor, action: str) -> None:
    """For services a subscriber uses on their own contract (the caller made sure it
    is theirs) and jobs use too: staff acting on someone's behalf need the role."""
    user = actor.user
    if user is None or user.kind == User.Kind.SUBSCRIBER:
        return
    require_action(actor, action)


def allowed(user: User, action: str) -> bool:
    return bool(
        user.is_active
        and user.kind == User.Kind.STAFF
        and (user.is_superuser or user.role in STAFF_ACTIONS[action])
    )


# Reference data kept in the admin site (outages, the coverage register, canned answers,
# thresholds...), by role: the Django permission codename's action per "app.model".
# The staff authentication backend answers has_perm from this, so a non-superuser sees
# exactly these in the admin; "*" is everything.
VIEW: tuple[str, ...] = ("view",)
EDIT: tuple[str, ...] = ("view", "add", "change")
_OPERATOR = {
    "support.outage": EDIT,
    "support.outagearea": (*EDIT, "delete"),  # the outage's streets, edited inline
    "support.cannedanswer": VIEW,
    "applications.application": VIEW,
    "network.session": VIEW,
    "notifications.message": VIEW,
}
_TECHNICIAN = {
    "support.outage": EDIT,
    "support.outagearea": (*EDIT, "delete"),
    "applications.street": EDIT,
    "applications.building": EDIT,
    "applications.installslot": EDIT,
    "applications.application": VIEW,
    "network.nas": VIEW,
    "network.session": VIEW,
    "network.credential": ("view", "change"),
}
ADMIN_MODELS: dict[str, dict[str, tuple[str, ...]] | str] = {
    R.OPERATOR: _OPERATOR,
    R.TECHNICIAN: _TECHNICIAN,
    R.CASHIER: {"payments.cashpayment": VIEW},
    R.MANAGER: {
        **_OPERATOR,
        **_TECHNICIAN,
        "support.cannedanswer": EDIT,
        "support.slatarget": ("view", "change"),
        "quality.thresholds": ("view", "change"),
        "catalog.tariff": VIEW,
        "catalog.addon": VIEW,
        "catalog.tariffprice": VIEW,
        "payments.payment": VIEW,
        "payments.refund": VIEW,
        "payments.cashpayment": VIEW,
        "billing.ledgerentry": VIEW,
        "core.auditlog": VIEW,
    },
    R.ADMIN: "*",
}


def admin_allows(user: User, perm: str) -> bool:
    """`perm` as Django writes it: "support.add_outage"."""
    if not (user.is_active and user.kind == User.Kind.STAFF):
        return False
    models = ADMIN_MODELS.get(user.role, {})
    if models == "*":
        return True
    app, _dot, codename = perm.partition(".")
    action, _us, model = codename.partition("_")
    return isinstance(models, dict) and action in models.get(f"{app}.{model}", ())


def admin_apps(user: User) -> set[str]:
    models = ADMIN_MODELS.get(user.role, {}) if user.kind == User.Kind.STAFF else {}
    if models == "*":
        return {"*"}
    return {key.split(".")[0] for key in models} if isinstance(models, dict) else set()
