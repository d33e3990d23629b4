"""Hotline temporary passwords, cabinet opt-out, sessions and devices, SMS second factor."""

import pytest
from django.test import Client

from abonent.accounts import devices, second_factor, services, tokens
from abonent.accounts.models import User, WebSession
from abonent.core.context import Actor
from abonent.core.errors import CabinetDisabled, Forbidden, NotFound, ValidationFailed
from abonent.core.models import AuditLog

pytestmark = pytest.mark.django_db


def staff(role):
    return User.objects.create_user(
        f"staff-{role}", "x" * 12, kind="staff", role=role, is_staff=True
    )


def test_hotline_temporary_password_forces_a_change(contract):
    operator = staff("operator")
    pair = tokens.issue(contract.user, Actor.system())
    temporary = services.issue_temporary_password(
        contract.user, ["contract_number", "passport"], Actor(user=operator, channel="admin")
    )
    assert len(temporary) >= 10
    user = services.authenticate_subscriber(contract.number, temporary)
    assert user.password_change_required
    assert tokens.authenticate_access(pair.access_token) is None  # old sessions ended
    row = AuditLog.objects.get(action="auth.temporary_password_issued")
    assert row.actor == operator
    assert row.after == {"checks": ["contract_number", "passport"]}
    assert temporary not in str(row.after)


@pytest.mark.parametrize("checks", [[], ["passport"], ["passport", "astrology"]])
def test_hotline_must_record_identity_checks(contract, checks):
    with pytest.raises(ValidationFailed):
        services.issue_temporary_password(
            contract.user, checks, Actor(user=staff("operator"), channel="admin")
        )
    contract.user.refresh_from_db()
    assert contract.user.check_password("correct horse battery")


@pytest.mark.parametrize("role", ["cashier", "technician"])
def test_only_hotline_roles_issue_passwords(contract, role):
    with pytest.raises(Forbidden):
        services.issue_temporary_password(
            contract.user, ["contract_number", "passport"], Actor(user=staff(role), channel="admin")
        )


def test_subscriber_cannot_issue_a_password_to_anyone(make_contract):
    me = make_contract().contract
    other = make_contract().contract
    with pytest.raises(Forbidden):
        services.issue_temporary_password(
            other.user, ["passport", "full_name"], Actor(user=me.user, channel="web")
        )


def test_opt_out_needs_the_password_and_ends_everything(contract):
    pair = tokens.issue(contract.user, Actor.system())
    with pytest.raises(ValidationFailed):
        services.opt_out_of_cabinet(contract.user, "wrong", Actor.system())
    services.opt_out_of_cabinet(contract.user, "correct horse battery", Actor.system())
    assert tokens.authenticate_access(pair.access_token) is None
    with pytest.raises(CabinetDisabled):
        services.authenticate_subscriber(contract.number, "correct horse battery")
    # Nothing was deleted; staff switch it back on.
    services.restore_cabinet(contract.user, Actor(user=staff("operator"), channel="admin"))
    assert (
        services.authenticate_subscriber(contract.number, "correct horse battery") == contract.user
    )
    assert (
        AuditLog.objects.filter(action__in=["cabinet.opted_out", "cabinet.restored"]).count() == 2
    )


def test_opted_out_state_is_only_told_after_the_right_password(contract):
    contract.user.cabinet_enabled = False
    contract.user.save()
    from abonent.core.errors import InvalidCredentials

    with pytest.raises(InvalidCredentials):
        services.authenticate_subscriber(contract.number, "wrong password")


def login(number, password="correct horse battery", agent="Firefox"):
    client = Client(HTTP_USER_AGENT=agent)
    assert (
        client.post("/login/", {"contract_number": number, "password": password}).status_code == 302
    )
    return client


def test_devices_are_listed_and_ended(contract):
    phone_browser = login(contract.number, agent="Mobile Safari")
    laptop = login(contract.number, agent="Firefox on Linux")
    app = tokens.issue(contract.user, Actor(user=contract.user, channel="api"), "Pixel 7")
    listed = devices.list_devices(contract.user, current_session_key=laptop.session.session_key)
    assert {d.kind for d in listed} == {"web", "app"}
    assert listed[0].current
    assert listed[0].name == "Firefox on Linux"
    browser = next(d for d in listed if d.name == "Mobile Safari")
    devices.end_device(contract.user, browser.id, Actor.system())
    assert phone_browser.get("/").status_code == 302
    assert laptop.get("/").status_code == 200
    devices.end_device(contract.user, f"app-{app.token.pk}", Actor.system())
    assert tokens.authenticate_access(app.access_token) is None


def test_a_subscriber_cannot_end_someone_elses_session(make_contract):
    mine = make_contract().contract
    theirs = make_contract().contract
    login(theirs.number)
    their_session = WebSession.objects.get(user=theirs.user)
    for device_id in (f"web-{their_session.pk}", "web-x", "nonsense", "app-999999"):
        with pytest.raises(NotFound):
            devices.end_device(mine.user, device_id, Actor.system())


def test_sessions_page_ends_all_others(contract):
    other = login(contract.number, agent="Other")
    me = login(contract.number, agent="Me")
    page = me.get("/profile/sessions/").content.decode()
    assert "Other" in page
    assert "Me" in page
    me.post("/profile/sessions/", {"all": "1"})
    assert other.get("/").status_code == 302
    assert me.get("/").status_code == 200


def test_sms_second_factor_at_login(contract, outbox, django_capture_on_commit_callbacks):
    second_factor.set_enabled(contract.user, True, "correct horse battery", Actor.system())
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/login/", {"contract_number": contract.number, "password": "correct horse battery"}
        )
    assert response["Location"] == "/login/code/"
    assert client.get("/").status_code == 302  # not signed in yet
    assert (
        client.post(
            "/login/code/", {"code": "000000" if outbox.code() != "000000" else "1"}
        ).status_code
        == 200
    )
    response = client.post("/login/code/", {"code": outbox.code()})
    assert response["Location"] == "/"
    assert client.get("/").status_code == 200
