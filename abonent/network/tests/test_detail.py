"""The detail-file reader: the same accounting rules as the per-packet path, in bulk."""

import datetime as dt
import os
import time
import zoneinfo
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command

from abonent.network.detail import ingest, ingest_directory, parse
from abonent.network.models import Credential, Nas, Session, TrafficDaily
from abonent.network.tasks import ingest_buffered_accounting

pytestmark = pytest.mark.django_db
MSK = zoneinfo.ZoneInfo("Europe/Moscow")

FILE = """Fri Nov 27 15:19:31 2026
\tNAS-IP-Address = 10.0.0.1
\tAcct-Status-Type = Interim-Update
\tAcct-Session-Id = "S1"
\tUser-Name = "p1"
\tAcct-Input-Octets = 500
\tAcct-Output-Octets = 900
\tAcct-Session-Time = 60

Fri Nov 27 15:19:32 2026
\tNAS-IP-Address = 10.0.0.1
\tAcct-Status-Type = Interim-Update
\tAcct-Session-Id = "S1"
\tUser-Name = "p1"
\tAcct-Input-Octets = 300
\tAcct-Output-Octets = 400

Fri Nov 27 15:19:33 2026
\tNAS-IP-Address = 10.0.0.1
\tAcct-Status-Type = Interim-Update
\tAcct-Session-Id = "S1"
\tUser-Name = "p1"
\tAcct-Input-Octets = "not a number"

Fri Nov 27 15:19:34 2026
\tNAS-IP-Address = 192.0.2.99
\tAcct-Status-Type = Start
\tAcct-Session-Id = "X"
\tUser-Name = "p1"
"""


@pytest.fixture
def lab(contract):
    Nas.objects.create(name="lab", ip="10.0.0.1", secret="s")
    credential = Credential.objects.get(contract=contract)
    credential.login = "p1"
    credential.save()
    return contract


def traffic():
    row = TrafficDaily.objects.get()
    return row.bytes_in, row.bytes_out


def test_parse_reads_records_and_unquotes():
    records = parse(FILE)
    assert len(records) == 4
    assert records[0]["Acct-Session-Id"] == "S1"
    assert records[0]["Acct-Input-Octets"] == "500"


def test_batch_keeps_maxima_ignores_garbage_and_unknown_nas(lab):
    stats = ingest(parse(FILE))
    assert stats == {"records": 4, "sessions": 1, "ignored": 2}
    assert traffic() == (500, 900)
    session = Session.objects.get(session_id="S1")
    assert session.contract == lab
    assert session.stopped_at is None
    assert session.framed_ip is None  # "10.1.2." is not an address: dropped, not fatal


def test_later_batches_add_only_the_growth_and_a_replay_adds_nothing(lab):
    ingest(parse(FILE))
    ingest(parse(FILE))  # the same file loaded again
    assert traffic() == (500, 900)
    later = FILE.replace("= 500", "= 800").replace("= 900", "= 1000")
    stop = later.replace("Interim-Update", "Stop", 1)
    ingest(parse(stop))
    assert traffic() == (800, 1000)
    assert Session.objects.get(session_id="S1").stopped_at is not None
    ingest(parse(later.replace("= 800", "= 5000")))  # after Stop a session is closed
    assert traffic() == (800, 1000)


def test_directory_loads_settled_files_once(lab, tmp_path):
    (tmp_path / "detail-20261127-1519").write_text(FILE)
    assert ingest_directory(tmp_path, settle_seconds=3600)["files"] == 0  # still being written
    assert ingest_directory(tmp_path, settle_seconds=0)["files"] == 1
    assert ingest_directory(tmp_path, settle_seconds=0)["files"] == 0
    assert (tmp_path / "detail-20261127-1519.done").exists()
    assert traffic() == (500, 900)


def test_command_and_worker_job_load_the_directory(lab, tmp_path, settings):
    with pytest.raises(CommandError):
        call_command("ingest_accounting", "--dir", str(tmp_path / "missing"))
    (tmp_path / "detail-20261127-1519").write_text(FILE)
    out = StringIO()
    call_command("ingest_accounting", "--dir", str(tmp_path), "--all", stdout=out)
    assert "1 file(s), 4 record(s), 1 session(s), 2 ignored." in out.getvalue()
    later = FILE.replace("= 500", "= 800")
    (tmp_path / "detail-20261127-1520").write_text(later)
    settings.RADIUS_DETAIL_DIR = ""
    ingest_buffered_accounting.call_local()  # not configured: leaves the file alone
    assert traffic() == (500, 900)
    settings.RADIUS_DETAIL_DIR = str(tmp_path)
    old = time.time() - 60
    os.utime(tmp_path / "detail-20261127-1520", (old, old))
    ingest_buffered_accounting.call_local()
    assert traffic() == (800, 900)


def _record(session: str, kind: str, octets: int, stamp: dt.datetime, **extra: str) -> str:
    lines = [
        "Fri Nov 27 23:59:59 2026",
        "\tNAS-IP-Address = 10.0.0.1",
        f"\tAcct-Status-Type = {kind}",
        f'\tAcct-Session-Id = "{session}"',
        '\tUser-Name = "p1"',
        f"\tAcct-Input-Octets = {octets}",
        f"\tAcct-Output-Octets = {octets}",
        f"\tTimestamp = {int(stamp.timestamp())}",
        *(f"\t{name} = {value}" for name, value in extra.items()),
    ]
    return "\n".join(lines) + "\n\n"


def test_traffic_is_dated_by_the_record_not_by_the_load(lab):
    """A file written at 23:59 and loaded after midnight keeps its traffic on its day;
    a stamp from the future or years back is not believed."""
    with time_machine.travel(dt.datetime(2026, 11, 28, 0, 1, tzinfo=MSK), tick=False):
        ingest(
            parse(
                _record("S1", "Interim-Update", 700, dt.datetime(2026, 11, 27, 23, 59, tzinfo=MSK))
                + _record("S2", "Interim-Update", 50, dt.datetime(2031, 1, 1, tzinfo=MSK))
                + _record("S3", "Interim-Update", 9, dt.datetime(2020, 1, 1, tzinfo=MSK))
            )
        )
    days = dict(TrafficDaily.objects.values_list("day", "bytes_in"))
    assert days == {dt.date(2026, 11, 27): 700, dt.date(2026, 11, 28): 59}


def test_the_real_stop_of_a_stale_closed_session_counts_on_both_paths(lab):
    from abonent.network import radius
    from abonent.network.tasks import close_stale_sessions

    stamp = dt.datetime(2026, 11, 27, 12, 0, tzinfo=MSK)
    with time_machine.travel(stamp, tick=False):
        ingest(parse(_record("S1", "Interim-Update", 100, stamp)))
        radius.accounting(
            {
                "Acct-Status-Type": {"value": ["Interim-Update"]},
                "Acct-Session-Id": {"value": ["P1"]},
                "NAS-IP-Address": {"value": ["10.0.0.1"]},
                "User-Name": {"value": ["p1"]},
                "Acct-Input-Octets": {"value": ["100"]},
                "Acct-Output-Octets": {"value": ["100"]},
            }
        )
    later = stamp + dt.timedelta(hours=1)
    with time_machine.travel(later, tick=False):
        close_stale_sessions.call_local()
        assert Session.objects.filter(terminate_cause="Stale").count() == 2
        ingest(parse(_record("S1", "Stop", 300, later, **{"Acct-Terminate-Cause": "NAS-Reboot"})))
        ingest(parse(_record("S1", "Interim-Update", 900, later)))  # after the Stop: ignored
        radius.accounting(
            {
                "Acct-Status-Type": {"value": ["Stop"]},
                "Acct-Session-Id": {"value": ["P1"]},
                "NAS-IP-Address": {"value": ["10.0.0.1"]},
                "User-Name": {"value": ["p1"]},
                "Acct-Input-Octets": {"value": ["300"]},
                "Acct-Output-Octets": {"value": ["300"]},
                "Acct-Terminate-Cause": {"value": ["NAS-Reboot"]},
            }
        )
    assert traffic() == (600, 600)
    for session in Session.objects.all():
        assert (session.terminate_cause, session.stopped_at) == ("NAS-Reboot", later)
