"""What makes the two busiest pages cheap must not change what they show (issue 12,
decision 0016): the menu rendered once per process, the statement rewrite psycopg
keeps, the prepared statements."""

import re

from django.db import connection


def _current(body: str) -> list[str]:
    return re.findall(r'<a href="([^"]+)" aria-current="page">', body)


def test_the_menu_marks_the_page_it_is_on(subscriber_client):
    # the menu is rendered once per section and language: each page, in any order,
    # still marks its own entry
    for path in ["/", "/services/", "/payments/", "/", "/services/"]:
        body = subscriber_client.get(path, HTTP_ACCEPT_LANGUAGE="ru").content.decode()
        assert _current(body) == [path]


def test_the_menu_follows_the_language(subscriber_client):
    russian = subscriber_client.get("/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    english = subscriber_client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Платежи</a>" in russian
    assert "Payments</a>" not in russian
    assert "Payments</a>" in english
    assert "Платежи</a>" not in english


def test_the_home_statement_is_rewritten_once_and_prepared(subscriber_client):
    from psycopg import _queries

    subscriber_client.get("/")
    before = _queries._query2pg.cache_info()
    for _ in range(6):
        assert subscriber_client.get("/").status_code == 200
    after = _queries._query2pg.cache_info()
    # every statement of the page (the user, the contract's row) found its rewrite
    assert after.misses == before.misses
    assert after.hits >= before.hits + 12
    # and PostgreSQL planned it once on this connection (psycopg prepares after 5 runs)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
            ["%subscribers_contractaddon%support_outage%"],
        )
        assert cursor.fetchone()[0] == 1


def test_a_forged_session_cookie_is_a_sign_in_page_and_writes_nothing(client, contract):
    from django.contrib.sessions.models import Session

    from abonent.accounts.models import WebSession

    before = (Session.objects.count(), WebSession.objects.count())
    for forged in [
        "x" * 5000,
        "'; DROP TABLE django_session; --",
        "\xe9t\xe9-key-123",
        "%00%ff",
        "",
    ]:
        client.cookies["sessionid"] = forged
        response = client.get("/")
        assert response.status_code == 302
        assert response["Location"].startswith("/login/")
    assert (Session.objects.count(), WebSession.objects.count()) == before
