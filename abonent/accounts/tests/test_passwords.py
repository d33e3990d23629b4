import pytest
from argon2 import extract_parameters
from argon2.low_level import Type
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.utils import translation

from abonent.accounts import passwords, services
from abonent.accounts.models import User
from abonent.core.context import Actor
from abonent.core.errors import ValidationFailed

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def test_hash_is_argon2id_with_the_documented_parameters():
    user = User(username="1000001", kind=User.Kind.SUBSCRIBER)
    user.set_password("correct horse battery")
    algorithm, encoded = user.password.split("$", 1)
    params = extract_parameters("$" + encoded)
    assert algorithm == "argon2"
    assert params.type is Type.ID
    assert params.memory_cost >= 19 * 1024
    assert params.time_cost >= 2


def test_old_hash_upgrades_at_login(contract):
    user = contract.user
    old = PBKDF2PasswordHasher()
    user.password = old.encode("correct horse battery", "somesalt", iterations=1000)
    user.save()
    services.authenticate_subscriber(contract.number, "correct horse battery")
    user.refresh_from_db()
    assert user.password.startswith("argon2$argon2id$")


def test_issued_passwords_are_long_random_and_unambiguous():
    issued = {passwords.generate() for _ in range(200)}
    assert len(issued) == 200
    for pw in issued:
        assert len(pw) >= 10
        assert not set(pw) & set("0O1lI")


@pytest.mark.parametrize(
    ("new", "expected"),
    [
        ("short", "at least 8"),
        ("password123", "too common"),
        ("x" * 129, "at most 128"),
    ],
)
def test_new_password_policy(contract, new, expected):
    with pytest.raises(ValidationFailed) as info:
        services.change_password(contract.user, "correct horse battery", new, Actor.system())
    assert expected in " ".join(map(str, info.value.fields["new_password"]))


def test_contract_number_cannot_be_the_password(contract):
    with pytest.raises(ValidationFailed) as info:
        services.change_password(
            contract.user, "correct horse battery", f"my{contract.number}pw", Actor.system()
        )
    assert "contract number" in str(info.value.fields["new_password"][0])


def test_composition_rules_are_not_imposed(contract):
    # NIST 800-63B: a long all-lowercase phrase is a fine password.
    services.change_password(
        contract.user, "correct horse battery", "purple monkey dishwasher", Actor.system()
    )
    contract.user.refresh_from_db()
    assert contract.user.check_password("purple monkey dishwasher")
