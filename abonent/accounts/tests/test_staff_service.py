import pytest

from abonent.accounts import services
from abonent.accounts.models import User
from abonent.core.context import Actor
from abonent.core.errors import ValidationFailed
from abonent.core.models import AuditLog

pytestmark = pytest.mark.django_db


def test_create_staff_user_is_audited():
    user = services.create_staff_user(
        "Ivanova.Cashier", "long enough secret", "cashier", Actor.system("cli")
    )
    assert user.username == "ivanova.cashier"
    assert (user.kind, user.role, user.is_staff, user.is_superuser) == (
        "staff",
        "cashier",
        True,
        False,
    )
    assert AuditLog.objects.filter(action="staff.created", object_id=str(user.pk)).exists()


@pytest.mark.parametrize("username", ["1000001", "ab", "with space", "кириллица", "x" * 151])
def test_staff_login_can_never_look_like_a_contract_number(username):
    with pytest.raises(ValidationFailed):
        services.create_staff_user(username, "long enough secret", "operator", Actor.system())
    assert not User.objects.exists()


def test_unknown_role_and_weak_password_are_refused():
    with pytest.raises(ValidationFailed):
        services.create_staff_user("petrov", "long enough secret", "king", Actor.system())
    with pytest.raises(ValidationFailed):
        services.create_staff_user("petrov", "123", "operator", Actor.system())
    assert not User.objects.exists()
