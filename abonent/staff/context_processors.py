from typing import Any

from django.http import HttpRequest

from abonent.accounts.permissions import STAFF_ACTIONS, allowed


def staff_may(request: HttpRequest) -> dict[str, Any]:
    """What the signed-in staff member may do, for the back-office menu (the pages and
    services check again)."""
    user: Any = getattr(request, "user", None)
    if user is None or getattr(user, "kind", None) != "staff":
        return {}
    return {"staff_may": {action: allowed(user, action) for action in STAFF_ACTIONS}}
