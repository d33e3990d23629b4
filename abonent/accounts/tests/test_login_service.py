import pytest

from abonent.accounts import services
from abonent.core.errors import InvalidCredentials, ValidationFailed

pytestmark = pytest.mark.django_db


def test_correct_credentials(contract):
    assert (
        services.authenticate_subscriber(contract.number, "correct horse battery") == contract.user
    )


@pytest.mark.parametrize("decorate", [" {} ", "{}\t", "\u00a0{}", "{}\n"])
def test_spaces_around_the_number_are_tolerated(contract, decorate):
    number = decorate.format(contract.number)
    assert services.authenticate_subscriber(number, "correct horse battery") == contract.user


def test_full_width_digits_are_read_as_digits(contract):
    wide = "".join(chr(0xFF10 + int(d)) for d in contract.number)
    assert services.authenticate_subscriber(wide, "correct horse battery") == contract.user


def test_wrong_password_and_unknown_contract_say_the_same(contract):
    with pytest.raises(InvalidCredentials) as wrong_pw:
        services.authenticate_subscriber(contract.number, "wrong password")
    with pytest.raises(InvalidCredentials) as unknown:
        services.authenticate_subscriber("9999999", "correct horse battery")
    assert str(wrong_pw.value.message) == str(unknown.value.message)
    assert wrong_pw.value.code == unknown.value.code == "invalid_credentials"


@pytest.mark.parametrize(
    ("number", "password", "field"),
    [
        ("", "x", "contract_number"),
        ("   ", "x", "contract_number"),
        ("1000001", "", "password"),
        ("1" * 10_000, "x", "contract_number"),
        ("договор", "x", "contract_number"),
        ("1000001\x00", "x", "contract_number"),
        ("10000-01", "x", "contract_number"),
    ],
)
def test_malformed_input_is_a_validation_error(db, number, password, field):
    with pytest.raises(ValidationFailed) as info:
        services.authenticate_subscriber(number, password)
    assert field in info.value.fields


def test_inactive_user_cannot_log_in(contract):
    contract.user.is_active = False
    contract.user.save()
    with pytest.raises(InvalidCredentials):
        services.authenticate_subscriber(contract.number, "correct horse battery")


def test_staff_cannot_log_in_as_subscriber(staff_user):
    staff_user.username = "1234567"
    staff_user.save()
    with pytest.raises(InvalidCredentials):
        services.authenticate_subscriber("1234567", "staff-password-1")


def test_overlong_password_is_refused_without_hashing(contract):
    with pytest.raises(InvalidCredentials):
        services.authenticate_subscriber(contract.number, "x" * 5000)
