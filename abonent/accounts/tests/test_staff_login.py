import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def admin_login(username, password):
    client = Client()
    response = client.post(
        "/staff/admin/login/?next=/staff/admin/",
        {"username": username, "password": password, "next": "/staff/admin/"},
    )
    return client, response


def test_staff_log_in_to_the_back_office(staff_user):
    client, response = admin_login("operator1", "staff-password-1")
    assert response.status_code == 302
    assert client.get("/staff/admin/").status_code == 200


def test_subscriber_cannot_enter_the_back_office(contract):
    client, response = admin_login(contract.number, "correct horse battery")
    assert response.status_code == 200  # the login form again, with an error
    assert client.get("/staff/admin/").status_code == 302


def test_subscriber_session_does_not_open_the_back_office(subscriber_client):
    assert subscriber_client.get("/staff/admin/").status_code == 302
