"""Hostile and broken accounting never crashes the ingest or corrupts the totals."""

import datetime as dt

import pytest
from django.test import Client

from abonent.network import radius
from abonent.network.models import AccessChange, Credential, Nas, Session, TrafficDaily

pytestmark = pytest.mark.django_db


def attrs(**values):
    return {k.replace("_", "-"): {"type": "string", "value": [v]} for k, v in values.items()}


@pytest.fixture
def lab(contract):
    Nas.objects.create(name="lab", ip="10.0.0.1", secret="s")
    credential = Credential.objects.get(contract=contract)  # issued with the contract
    credential.login, credential.password = "p1", "pw"
    credential.save()
    return contract


def acct(kind, session="A", nas="10.0.0.1", **extra):
    return radius.accounting(
        attrs(
            Acct_Status_Type=kind,
            Acct_Session_Id=session,
            NAS_IP_Address=nas,
            User_Name="p1",
            **extra,
        )
    )


def totals():
    row = TrafficDaily.objects.first()
    return (row.bytes_in, row.bytes_out) if row else (0, 0)


def test_out_of_order_and_duplicate_interims(lab):
    acct("Start")
    acct("Interim-Update", Acct_Input_Octets="500", Acct_Output_Octets="900")
    acct("Interim-Update", Acct_Input_Octets="300", Acct_Output_Octets="400")  # an older one, late
    acct("Interim-Update", Acct_Input_Octets="500", Acct_Output_Octets="900")  # a duplicate
    assert totals() == (500, 900)


def test_stop_without_start(lab):
    assert (
        acct(
            "Stop",
            session="B",
            Acct_Input_Octets="10",
            Acct_Output_Octets="20",
            Acct_Session_Time="60",
            Acct_Terminate_Cause="User-Request",
        )
        == "stop"
    )
    session = Session.objects.get(session_id="B")
    assert (session.bytes_in, session.bytes_out, session.terminate_cause) == (
        10,
        20,
        "User-Request",
    )
    assert totals() == (10, 20)
    assert acct("Interim-Update", session="B", Acct_Input_Octets="99") == "after_stop"
    assert totals() == (10, 20)


@pytest.mark.parametrize(
    "extra",
    [
        {"Acct_Input_Octets": "-5"},
        {"Acct_Input_Octets": "4294967296"},  # not a 32-bit counter
        {"Acct_Output_Gigawords": "999999999"},  # absurd: petabytes in one update
        {"Acct_Input_Octets": "lots"},
    ],
)
def test_absurd_counters_are_ignored(lab, extra):
    acct("Start")
    assert acct("Interim-Update", **extra) == "bad_counters"
    assert totals() == (0, 0)


def test_unknown_nas_and_garbage(lab, caplog):
    assert acct("Start", nas="10.9.9.9") == "unknown_nas"
    assert acct("Start", nas="not an ip") == "unknown_nas"
    assert acct("Reboot") == "ignored"
    assert radius.accounting({}) == "unknown_nas"
    assert "not in the registry" in caplog.text
    assert not Session.objects.exists()


def test_unknown_login_is_recorded_without_traffic(lab):
    radius.accounting(
        attrs(
            Acct_Status_Type="Interim-Update",
            Acct_Session_Id="X",
            NAS_IP_Address="10.0.0.1",
            User_Name="stranger",
            Acct_Input_Octets="100",
        )
    )
    assert Session.objects.get(session_id="X").contract is None
    assert not TrafficDaily.objects.exists()


def test_endpoints_need_the_key(lab, settings):
    body = '{"User-Name": {"type": "string", "value": ["p1"]}}'
    assert (
        Client().post("/radius/authorize/", body, content_type="application/json").status_code
        == 403
    )
    headers = {"X-Abonent-Radius-Key": settings.RADIUS_API_KEY}
    assert (
        Client()
        .post("/radius/authorize/", "not json", content_type="application/json", headers=headers)
        .status_code
        == 404
    )  # parsed as empty: unknown login
    assert (
        Client()
        .post("/radius/accounting/", "[1]", content_type="application/json", headers=headers)
        .status_code
        == 204
    )


def test_traffic_pages_and_api(lab, subscriber_client):
    acct("Start", Framed_IP_Address="100.64.0.10")
    acct("Interim-Update", Acct_Input_Octets="2048", Acct_Output_Octets="1048576")
    page = subscriber_client.get("/traffic/").content.decode()
    assert "100.64.0.10" in page
    assert 'data-testid="traffic-chart"' in page
    assert "1,0" in page or "1.0" in page  # 1 MB downloaded
    token = (
        Client()
        .post(
            "/api/v1/auth/login",
            {"contract_number": lab.number, "password": "correct horse battery"},
            content_type="application/json",
        )
        .json()["access_token"]
    )
    auth = {"Authorization": f"Bearer {token}"}
    rows = Client().get("/api/v1/traffic?granularity=month", headers=auth).json()
    assert rows[0]["bytes_out"] == 1048576
    sessions = Client().get("/api/v1/sessions", headers=auth).json()
    assert sessions[0]["ip"] == "100.64.0.10"
    assert Client().get("/api/v1/traffic?granularity=year", headers=auth).status_code == 400
    assert (
        Client().get("/api/v1/traffic?from=2026-12-01&to=2026-11-01", headers=auth).status_code
        == 400
    )
    for path in ("/api/v1/traffic?to=0001-01-01", "/api/v1/sessions?to=0001-01-01"):
        assert Client().get(path, headers=auth).status_code == 400  # once a 500


def test_reply_attributes_follow_the_contract(lab):
    from abonent.catalog.models import AddOn
    from abonent.subscribers.models import ContractAddOn

    credential = Credential.objects.get(contract=lab)
    accel = Nas.objects.create(name="accel", ip="10.0.0.2", secret="s", vendor=Nas.Vendor.ACCEL)
    mikrotik = Nas.objects.get(ip="10.0.0.1")
    assert (
        radius.reply_for(lab, credential, mikrotik.vendor).attributes["reply:Mikrotik-Rate-Limit"]
        == "300000k/300000k"
    )
    assert (
        radius.reply_for(lab, credential, accel.vendor).attributes["reply:Filter-Id"]
        == "300000/300000"
    )
    credential.static_ip = "198.51.100.7"
    credential.save()
    assert (
        "reply:Framed-IP-Address"
        not in radius.reply_for(lab, credential, mikrotik.vendor).attributes
    )
    ip = AddOn.objects.create(code="static-ip", name="IP", price=150_00)
    ContractAddOn.objects.create(contract=lab, addon=ip, connected_on=lab.signed_on)
    assert (
        radius.reply_for(lab, credential, mikrotik.vendor).attributes["reply:Framed-IP-Address"]
        == "198.51.100.7"
    )
    lab.status = "suspended"
    assert radius.reply_for(lab, credential, mikrotik.vendor).status == 401


def test_coa_goes_only_to_open_sessions_and_disconnects_a_suspension(lab, monkeypatch):
    from abonent.network import coa

    sent: list[tuple[int, dict]] = []

    def record(session, code, attrs):
        sent.append((code, attrs))
        return "ack", 1

    monkeypatch.setattr(coa, "_send", record)
    acct("Start", session="open")
    acct("Stop", session="closed")
    coa.push([lab.pk], "tariff changed")
    assert len(sent) == 1
    assert sent[0][1]["Mikrotik-Rate-Limit"] == "300000k/300000k"
    lab.status = "suspended"
    lab.save()
    changes = coa.push([lab.pk], "suspended")
    assert changes[0].kind == "disconnect"
    monkeypatch.setattr(
        coa, "_send", lambda session, code, attrs: ("nak" if code == 43 else "ack", 1)
    )
    lab.status = "active"
    lab.save()
    refused = coa.push([lab.pk], "refused")
    assert [(c.kind, c.result) for c in refused] == [("coa", "nak"), ("disconnect", "ack")]


def vendor_kinds(changes):
    return sorted((c.session.nas.vendor if c.session else "", c.kind) for c in changes)


def test_changes_a_coa_cannot_carry_also_end_the_session(lab, monkeypatch):
    """MikroTik sets the walled-garden address list only at login; a static IP needs a
    new login on any router."""
    from abonent.network import coa

    monkeypatch.setattr(coa, "_send", lambda session, code, attrs: ("ack", 1))
    accel = Nas.objects.create(name="accel", ip="10.0.0.2", secret="s", vendor=Nas.Vendor.ACCEL)
    acct("Start", session="mt")
    acct("Start", session="ac", nas=accel.ip)
    kinds = vendor_kinds(coa.push([lab.pk], "unblocked", "garden"))
    assert kinds == [("accel", "coa"), ("mikrotik", "coa"), ("mikrotik", "disconnect")]
    kinds = vendor_kinds(coa.push([lab.pk], "ip", "address"))
    assert kinds == [("accel", "disconnect"), ("mikrotik", "disconnect")]


def test_a_silent_nas_is_counted_skipped_and_pushed_again_later(lab, monkeypatch):
    import socket

    from huey.contrib.djhuey import HUEY

    from abonent.network import coa, tasks

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:  # bound, never answers
        silent.bind(("127.0.0.1", 0))
        nas = Nas.objects.get(ip="10.0.0.1")
        nas.ip, nas.coa_port = "127.0.0.1", silent.getsockname()[1]
        nas.save()
        for n in range(3):
            acct("Start", session=f"s{n}", nas="127.0.0.1")
        monkeypatch.setattr(coa, "TIMEOUT", 0.05)
        HUEY.flush()
        tasks.push_access.call_local([lab.pk], "tariff changed")
    changes = AccessChange.objects.order_by("pk")
    assert [(c.result, c.attempts) for c in changes] == [
        ("timeout", coa.ATTEMPTS),
        ("unreachable", 0),
        ("unreachable", 0),
    ]
    (retry,) = HUEY.scheduled()
    assert retry.args == ([lab.pk], "tariff changed", "", 2)


def test_a_garbage_framed_ip_is_dropped_not_fatal(lab):
    assert acct("Start", session="G", Framed_IP_Address="999.1.1.1") == "start"
    assert acct("Interim-Update", session="G", Acct_Input_Octets="10") == "interim-update"
    session = Session.objects.get(session_id="G")
    assert session.framed_ip is None
    assert totals() == (10, 0)


def test_reconcile_ends_sessions_the_nas_kept_after_termination(lab, monkeypatch):
    from abonent.network import coa, tasks

    sent: list[int] = []

    def record(session, code, attrs):
        sent.append(code)
        return "ack", 1

    monkeypatch.setattr(coa, "_send", record)
    acct("Start", session="still-up")
    lab.status = "terminated"
    lab.save()
    tasks.reconcile_radius_decisions.call_local()
    assert sent == [40]  # Disconnect-Request
    assert AccessChange.objects.get().reason.startswith("reconcile")


def test_credentials_are_not_deleted_in_the_admin(lab, staff_user):
    from abonent.accounts.models import User
    from abonent.staff.tests.test_staff_2fa import enrol

    staff_user.role, staff_user.is_superuser = User.Role.ADMIN, True
    staff_user.save()
    client, _codes = enrol(staff_user)
    credential = Credential.objects.get(contract=lab)
    response = client.post(
        f"/staff/admin/network/credential/{credential.pk}/delete/", {"post": "yes"}
    )
    assert response.status_code == 403
    assert Credential.objects.filter(pk=credential.pk).exists()


@pytest.fixture
def open_session_recording_coa(lab, monkeypatch, time_machine) -> list[int]:
    """An open session on the lab NAS; the codes of the requests sent to it."""
    from abonent.network import coa

    time_machine.move_to("2026-11-27 12:00:00+00:00", tick=False)
    sent: list[int] = []

    def send(session, code, attrs):
        sent.append(code)
        return "ack", 1

    monkeypatch.setattr(coa, "_send", send)
    acct("Start", session="open")
    return sent


def test_an_access_change_committed_while_the_queue_is_down_is_pushed_later(
    lab, monkeypatch, django_capture_on_commit_callbacks, time_machine, open_session_recording_coa
):
    """The change commits (the decision table is current); the job that tells the
    routers could not be queued. The outbox row is pushed by the sweep once the queue is
    back: the open session gets its CoA, once."""
    from django.db import transaction

    from abonent.network import services, tasks
    from abonent.network.models import PendingPush

    sent = open_session_recording_coa
    queue = tasks.push_access

    def queue_down(*args, **kwargs):
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks, "push_access", queue_down)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        services.apply_access([lab.pk], "tariff changed")
    assert sent == []
    assert PendingPush.objects.get().contract_ids == [lab.pk]

    monkeypatch.setattr(tasks, "push_access", queue)  # Redis is back
    tasks.retry_access_pushes.call_local()  # too young: its own job may be running
    assert sent == []
    time_machine.shift(dt.timedelta(minutes=3))
    tasks.retry_access_pushes.call_local()
    assert sent == [43]  # a CoA-Request
    assert not PendingPush.objects.exists()
    tasks.retry_access_pushes.call_local()
    assert sent == [43]


def test_a_pushed_change_leaves_nothing_pending(
    lab, monkeypatch, django_capture_on_commit_callbacks
):
    from django.db import transaction

    from abonent.network import coa, services
    from abonent.network.models import PendingPush

    monkeypatch.setattr(coa, "_send", lambda session, code, attrs: ("ack", 1))
    acct("Start", session="open")
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        services.apply_access([lab.pk], "tariff changed")
    assert AccessChange.objects.filter(kind="coa", result="ack").count() == 1
    assert not PendingPush.objects.exists()


def test_a_slow_queue_and_the_sweep_push_a_change_once(
    lab, monkeypatch, django_capture_on_commit_callbacks, time_machine, open_session_recording_coa
):
    """The job queued with the change waits longer than the sweep's 2 minutes: the
    sweep pushes it, and the job, when it finally runs, finds it done."""
    from django.db import transaction

    from abonent.network import services, tasks
    from abonent.network.models import PendingPush

    sent = open_session_recording_coa
    queued: list[tuple] = []
    real = tasks.push_access
    monkeypatch.setattr(tasks, "push_access", lambda *a, **kw: queued.append((a, kw)))
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        services.apply_access([lab.pk], "unblocked", relogin="garden")
    monkeypatch.setattr(tasks, "push_access", real)
    assert len(queued) == 1  # queued, not run yet
    time_machine.shift(dt.timedelta(minutes=3))
    tasks.retry_access_pushes.call_local()
    pushed = list(sent)
    assert pushed  # the CoA (and the Disconnect MikroTik needs for the garden)
    args, kwargs = queued[0]
    tasks.push_access.call_local(*args, **kwargs)  # the job, late
    assert sent == pushed  # nothing sent twice
    assert not PendingPush.objects.exists()


def test_a_push_that_fails_leaves_its_change_for_the_retry(lab, monkeypatch, time_machine):
    from abonent.network import coa, tasks
    from abonent.network.models import PendingPush

    time_machine.move_to("2026-11-27 12:00:00+00:00", tick=False)
    row = PendingPush.objects.create(contract_ids=[lab.pk], reason="tariff changed")

    def broken(*args):
        raise RuntimeError("database went away")

    monkeypatch.setattr(coa, "push", broken)
    with pytest.raises(RuntimeError):
        tasks.push_access.call_local([lab.pk], "tariff changed", pending=row.pk)
    row.refresh_from_db()
    assert row.claimed_at is None  # free again for the job's retry or the sweep
    monkeypatch.setattr(coa, "push", lambda *args: [])
    tasks.push_access.call_local([lab.pk], "tariff changed", pending=row.pk)
    assert not PendingPush.objects.exists()
