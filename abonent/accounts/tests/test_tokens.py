import datetime as dt

import pytest
import time_machine

from abonent.accounts import tokens
from abonent.accounts.models import ApiToken
from abonent.core.context import Actor
from abonent.core.errors import InvalidCredentials

pytestmark = pytest.mark.django_db
API = Actor.system("cli")


def test_tokens_are_stored_only_as_hashes(contract):
    pair = tokens.issue(contract.user, API, "Pixel")
    row = ApiToken.objects.get()
    assert pair.access_token not in (row.access_hash, row.refresh_hash)
    assert len(row.access_hash) == 64
    assert tokens.authenticate_access(pair.access_token) == row


def test_access_token_expires(contract):
    pair = tokens.issue(contract.user, API)
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(minutes=16)):
        assert tokens.authenticate_access(pair.access_token) is None


def test_refresh_rotates_and_the_old_refresh_dies(contract):
    first = tokens.issue(contract.user, API)
    second = tokens.refresh(first.refresh_token, API)
    assert tokens.authenticate_access(first.access_token) is None
    assert tokens.authenticate_access(second.access_token) is not None
    # Replaying the used refresh token is theft: the device session ends entirely.
    with pytest.raises(InvalidCredentials):
        tokens.refresh(first.refresh_token, API)
    assert tokens.authenticate_access(second.access_token) is None
    with pytest.raises(InvalidCredentials):
        tokens.refresh(second.refresh_token, API)


def test_revoked_token_is_dead(contract):
    pair = tokens.issue(contract.user, API)
    tokens.revoke(pair.token, API)
    assert tokens.authenticate_access(pair.access_token) is None
    with pytest.raises(InvalidCredentials):
        tokens.refresh(pair.refresh_token, API)


@pytest.mark.parametrize("garbage", ["", "aa_", "aa_" + "x" * 500, "Bearer", "ar_abc"])
def test_garbage_is_not_a_token(db, garbage):
    assert tokens.authenticate_access(garbage) is None
