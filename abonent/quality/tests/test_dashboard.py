"""The staff dashboard and the monthly report show the hand-counted figures of the
`november` fixture for November 2026 (the page is in Russian: decimal commas)."""

import csv
import io

import pytest
from django.test import Client
from django.utils import translation

from abonent.core import clock
from abonent.staff.tests.test_staff_2fa import enrol

pytestmark = pytest.mark.django_db

URL = "/staff/quality/"


@pytest.fixture
def staff_client(staff_user) -> Client:
    client, _codes = enrol(staff_user)
    return client


def test_the_dashboard_shows_the_month(staff_client, november, django_assert_max_num_queries):
    with django_assert_max_num_queries(25):
        response = staff_client.get(URL, {"month": "2026-11"})
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-testid="kpi-stability">70,0 %<' in page  # 7 of 10 subscriber-days
    assert 'data-testid="kpi-drops">6<' in page
    assert 'data-testid="kpi-opened">6<' in page
    assert 'data-testid="kpi-first-response">25,0<' in page  # median of 10, 20, 30, 50
    assert 'data-testid="kpi-first-response-breaches">33,3 %<' in page
    assert 'data-testid="kpi-resolution">120,0<' in page
    assert 'data-testid="kpi-csat">66,7 %<' in page
    assert 'data-testid="kpi-installation">—<' in page
    # Stability, CSAT and first-response breaches miss their thresholds.
    assert page.count('data-testid="badge-warn"') == 3
    assert "badge-ok" in page  # no line over 5 drops a day
    # The worst line links to the contract in the admin.
    assert f'href="/staff/admin/subscribers/contract/{november.a.pk}/change/">' in page
    assert november.a.number in page
    assert "Невский пр., 1" in page
    # The chart: the 1st is the peak (3 drops), the 2nd two thirds, the 4th one third.
    assert page.count('class="bar"') == 30
    assert '<span class="h100">' in page
    assert '<span class="h67">' in page
    assert '<span class="h33">' in page
    assert "style=" not in page  # the CSP allows no inline styles…
    assert "<script>" not in page  # …and no inline scripts


def test_without_a_month_the_current_one_is_shown(staff_client):
    response = staff_client.get(URL)
    assert response.status_code == 200
    month = clock.today().strftime("%Y-%m")
    assert f"report.pdf?month={month}" in response.content.decode()


def test_a_bad_month_is_an_error_on_the_form(staff_client):
    for value in ("garbage", "2026-13", "1900-01", "2026-1", "<script>"):
        response = staff_client.get(URL, {"month": value})
        assert response.status_code == 200
        page = response.content.decode()
        with translation.override("ru"):
            expected = translation.gettext("Enter a month as YYYY-MM, for example %(example)s.")
        assert expected.split("%")[0].strip() in page
        assert 'class="error" role="alert"' in page
        assert 'data-testid="kpis-network"' not in page
    # The downloads send a bad month back to the form.
    response = staff_client.get(URL + "report.csv", {"month": "garbage"})
    assert response.status_code == 302
    assert response["Location"] == URL + "?month=garbage"


def test_the_pdf_report(staff_client, november):
    response = staff_client.get(URL + "report.pdf", {"month": "2026-11"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert 'filename="quality-2026-11.pdf"' in response["Content-Disposition"]
    assert response.content.startswith(b"%PDF")


def test_the_csv_report(staff_client, november):
    response = staff_client.get(URL + "report.csv", {"month": "2026-11"})
    assert response.status_code == 200
    assert 'filename="quality-2026-11.csv"' in response["Content-Disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs for UTF-8
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    values = {row[0]: row[1:] for row in rows if row}
    with translation.override("ru"):
        _ = translation.gettext
        assert values[_("Stability (subscriber-days without drops), %")][:2] == [
            "70,00",
            "≥ 99,00",
        ]
        assert values[_("Drops")][0] == "6"
        assert values[_("Subscriber-days online")][0] == "10"
        assert values[_("Subscriber-days with drops")][0] == "3"
        assert values[_("Tickets opened")][0] == "6"
        assert values[_("First response, median, min")][0] == "25,0"
        assert values[_("First response, average, min")][0] == "27,5"
        assert values[_("Resolution, median, min")][0] == "120,0"
        assert values[_("Resolution, average, min")][0] == "140,0"
        assert values[_("First response breaches, %")][:2] == ["33,3", "≤ 10"]
        assert values[_("CSAT (ratings 4–5), %")][:2] == ["66,7", "≥ 80"]
        assert values[_("Average rating")][0] == "3,67"
        assert values[_("Installation lead time, days")][0] == "—"
    # Worst lines: contract; address; drops; days with drops; reconnects; last drop.
    assert values[november.a.number][1:4] == ["3", "1", "2"]
    assert values[november.b.number][1:4] == ["2", "1", "1"]
    assert values["ул. Садовая, 10"][:4] == ["5", "2", "3", "66,7"]
    assert values["01.11.2026"] == ["3", "1", "2", "2", "50,00"]


def test_anonymous_and_subscribers_go_to_the_staff_login(subscriber_client):
    for client in (Client(), subscriber_client):
        for path in ("", "report.pdf", "report.csv"):
            response = client.get(URL + path)
            assert response.status_code == 302
            assert response["Location"].startswith("/staff/login/")


def test_thresholds_are_edited_in_the_admin(staff_user):
    from abonent.quality.selectors import thresholds

    staff_user.is_superuser = True
    staff_user.save()
    client, _codes = enrol(staff_user)
    response = client.get("/staff/admin/quality/thresholds/")
    assert response["Location"] == "/staff/admin/quality/thresholds/1/change/"
    assert client.get(response["Location"]).status_code == 200
    form = {
        "line_drops_per_day": "7",
        "building_min_subscribers": "4",
        "building_window_minutes": "15",
        "stability_target_percent": "99.5",
        "csat_target_percent": "85",
        "first_response_breach_max_percent": "5",
    }
    assert client.post(response["Location"], form).status_code == 302
    limits = thresholds()
    assert (limits.line_drops_per_day, limits.building_window_minutes) == (7, 15)
    assert str(limits.stability_target_percent) == "99.50"
