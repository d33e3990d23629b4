"""Security acceptance (issue 12; security.md): the one place that proves the list.

1. Security headers on every response: every URL pattern of config.urls, walked as an
   anonymous visitor, a subscriber, a staff member with TOTP and the app's Bearer token,
   plus error pages, static files, and HSTS under the production settings.
2. CSRF: every form POST without a token is refused with the translated page and writes
   nothing; the same POST with the token works; the API never takes the session cookie.
3. Session fixation: the session id changes at every login step and privilege change; a
   planted id is worthless afterwards; logout kills the session on the server.
4. A subscriber gets nothing from /staff/ or /staff/admin/ (roles among staff:
   abonent/accounts/tests/test_role_matrix.py, referenced below, not repeated).
5. Uploads: disguised markup is refused by content; files reach only their owner and
   staff, as downloads (images inline), unsniffable, uncached, sandboxed, never by name.

Existing narrower tests this builds on rather than repeats: tests/test_site.py (headers
on /login/, no inline scripts there), abonent/cabinet/tests/test_login.py (rotation at
password login, CSRF page on /login/, cookie flags), abonent/support/tests/test_web.py
(another subscriber's attachment is 404 on the web, bad file names),
abonent/api/tests/test_support_api.py (API download headers)."""

from __future__ import annotations

import re
import sys
import uuid
from collections.abc import Iterator
from importlib import import_module
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, path
from django.urls.resolvers import RegexPattern
from django_otp.plugins.otp_totp.models import TOTPDevice

from abonent.accounts import second_factor
from abonent.accounts.models import User, WebSession
from abonent.accounts.tests.test_role_matrix import _application
from abonent.core.context import Actor
from abonent.staff.tests.test_staff_2fa import enrol, totp
from abonent.support import services as support
from abonent.support.models import Attachment, Ticket

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PASSWORD = "correct horse battery"  # conftest.make_contract's
CSRF_PAGE_RU = "Страница устарела"  # "The page has expired", the CSRF failure page


# --- the URL map --------------------------------------------------------------------------


def _pieces(pattern: Any) -> str:
    """A pattern's text; a regex group becomes its first alternative (the admin's app
    list, `(?P<app_label>auth|core|...)`, is the only regex in the project)."""
    text = str(pattern)
    if isinstance(pattern, RegexPattern):
        text = re.sub(r"\(\?P<\w+>([^|)]+)[^)]*\)", r"\1", text).lstrip("^").rstrip("$")
        text = text.replace("\\", "")
    return text


def every_route() -> list[tuple[str, URLPattern]]:
    """(route text, pattern) for every URL pattern of config.urls, resolvers expanded."""

    def walk(resolver: URLResolver, prefix: str) -> Iterator[tuple[str, URLPattern]]:
        for item in resolver.url_patterns:
            if isinstance(item, URLResolver):
                yield from walk(item, prefix + _pieces(item.pattern))
            else:
                yield prefix + _pieces(item.pattern), item

    return list(walk(get_resolver(), "/"))


PLACEHOLDER = re.compile(r"<(?:(\w+):)?(\w+)>")


class World:
    """Real objects to put in the URLs: the subscriber's own ticket, attachment, payment,
    application; a staff member (admin role) who passed TOTP; the app's token."""

    def __init__(self, contract: Any, stranger: Any, staff_user: User) -> None:
        from abonent.payments import services as payments

        self.contract, self.stranger, self.staff_user = contract, stranger, staff_user
        self.ticket = support.open_ticket(
            contract,
            category="other",
            subject="Роутер",
            text="Фото роутера",
            files=[SimpleUploadedFile("router.png", PNG, content_type="image/png")],
            actor=Actor(user=contract.user, channel="web"),
        )
        self.attachment = Attachment.objects.get(message__ticket=self.ticket)
        self.payment = payments.start_payment(
            contract,
            "100",
            idempotency_key="security-walk",
            return_url="http://testserver/payments/{payment}/",
            actor=Actor.system(),
        )
        self.application_id = _application()
        from abonent.applications.models import Application

        self.application = Application.objects.get(pk=self.application_id)
        staff_user.role = User.Role.ADMIN
        staff_user.save()
        self.staff, _codes = enrol(staff_user)
        self.subscriber = login(contract)
        self.token = api_token(contract)

    def value(self, route: str, converter: str | None, name: str, pattern: URLPattern) -> str:
        model_admin = getattr(pattern.callback, "model_admin", None)
        if name == "object_id" and model_admin is not None:
            first = model_admin.model._default_manager.order_by("pk").first()
            return str(first.pk if first is not None else 1)
        by_name: dict[str, object] = {
            "ticket_id": self.ticket.pk,
            "attachment_id": self.attachment.pk,
            "contract_id": self.contract.pk,
            "application_id": self.application_id,
            "payment_id": (
                self.payment.provider_payment_id
                if route.startswith("/sandbox-pay/")
                else self.payment.public_id
            ),
            "public_id": (
                self.payment.public_id
                if route.startswith("/payments/")
                else self.application.public_id
            ),
            "device_id": f"web-{WebSession.objects.filter(user=self.contract.user).first().pk}",
            "tariff_id": self.contract.tariff_id,
            "provider": "sandbox",
            "name": "debtors",
            "fmt": "csv",
            "id": self.staff_user.pk,
            "content_type_id": ContentType.objects.get_for_model(Ticket).pk,
            "object_id": self.ticket.pk,
            "rest": "no/such/thing",
        }
        actions = {"/support/": "close", "/services/addons/": "connect", "/staff/": "cash"}
        by_name["action"] = next((a for p, a in actions.items() if route.startswith(p)), "cancel")
        if name in by_name:
            return str(by_name[name])
        return str(uuid.uuid4()) if converter == "uuid" else "1"

    def urls(self, prefix: str = "/") -> list[str]:
        found = []
        for route, pattern in every_route():
            if route.startswith(prefix):
                found.append(
                    PLACEHOLDER.sub(
                        lambda m, r=route, p=pattern: self.value(r, m.group(1), m.group(2), p),
                        route,
                    )
                )
        return sorted(set(found))


def login(contract: Any, client: Client | None = None) -> Client:
    client = client or Client()
    response = client.post("/login/", {"contract_number": contract.number, "password": PASSWORD})
    assert response.status_code == 302, response.content
    return client


def api_token(contract: Any) -> str:
    response = Client().post(
        "/api/v1/auth/login",
        {"contract_number": contract.number, "password": PASSWORD},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    return response.json()["access_token"]


@pytest.fixture
def world(make_contract, staff_user) -> World:
    contract = make_contract().contract
    stranger = make_contract(last_name="Иванов", phone="+7 900 555-66-77").contract
    return World(contract, stranger, staff_user)


def row_counts() -> dict[str, int]:
    return {m._meta.label: m._default_manager.count() for m in apps.get_models()}


# --- 1. security headers --------------------------------------------------------------------

SAFE_REFERRER = {"no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin"}


def csp_directives(value: str) -> dict[str, list[str]]:
    directives = {}
    for part in value.split(";"):
        words = part.split()
        if words:
            directives[words[0].lower()] = words[1:]
    return directives


def header_problems(response: Any, *, document: bool = True) -> list[str]:
    """What security.md asks of a response. `document`: a response Django's views make
    (HTML, JSON, PDF, CSV, the manifest, sw.js, redirects, errors) must carry the CSP and
    X-Frame-Options too; see test_static_files_are_unsniffable for why static files
    need only nosniff and a referrer policy."""
    problems = []
    if response.get("X-Content-Type-Options") != "nosniff":
        problems.append("X-Content-Type-Options")
    if response.get("Referrer-Policy") not in SAFE_REFERRER:
        problems.append("Referrer-Policy")
    if not document:
        return problems
    if response.get("X-Frame-Options") != "DENY":
        problems.append("X-Frame-Options")
    csp = csp_directives(response.get("Content-Security-Policy", ""))
    if not csp:
        return [*problems, "Content-Security-Policy"]
    if csp.get("frame-ancestors") != ["'none'"]:
        problems.append("CSP frame-ancestors")
    scripts = csp.get("script-src", csp.get("default-src"))
    if scripts is None:
        problems.append("CSP script-src")
    for name in ("script-src", "script-src-elem", "script-src-attr", "default-src"):
        if "'unsafe-inline'" in csp.get(name, []) or "'unsafe-eval'" in csp.get(name, []):
            problems.append(f"CSP {name} unsafe")
    return problems


# An inline script or event handler (a JSON data block is not a script).
INLINE_SCRIPT = re.compile(
    r"<script(?![^>]*\b(?:src=|type=[\"']application/(?:ld\+)?json))[^>]*>|\son[a-z]+\s*=\s*[\"']",
    re.I,
)


def walk(client: Client, urls: list[str], method: str = "get", **extra: Any) -> dict[str, Any]:
    return {url: getattr(client, method)(url, **extra) for url in urls}


def report(responses: dict[str, Any], **kw: Any) -> list[str]:
    failures = []
    for url, response in responses.items():
        problems = header_problems(response, **kw)
        content_type = response.get("Content-Type", "")
        html = content_type.startswith("text/html") and not response.streaming
        if html and INLINE_SCRIPT.search(response.content.decode(errors="replace")):
            problems.append("inline script or on* handler in the HTML")
        if problems:
            failures.append(f"{url} [{response.status_code} {content_type}]: {', '.join(problems)}")
    return failures


def test_every_url_has_the_security_headers_for_everyone(world):
    """GET every URL pattern as each kind of visitor: redirects, 200s, 404s, 403s, 405s,
    JSON, PDFs, CSV, the manifest and sw.js alike; the API also by POST and with the
    app's token. (A subscriber's requests to /staff/ are checked, headers included, by
    test_a_subscriber_gets_nothing_from_any_staff_url; every POST a browser can make
    outside the API, by the CSRF walk below; both report missing headers too.)"""
    everything = world.urls()
    api_urls = world.urls("/api/")
    assert len(everything) > 150  # the walk really covers the project
    runs = {
        "anonymous": walk(Client(), everything),
        "anonymous POST": walk(Client(), api_urls, "post"),
        "subscriber": walk(world.subscriber, [u for u in everything if not is_staff(u)]),
        "staff": walk(world.staff, everything),
        "app (Bearer)": walk(Client(headers={"Authorization": f"Bearer {world.token}"}), api_urls),
    }
    # The walk reached the real pages, not only the doors to them.
    assert runs["subscriber"]["/"].status_code == 200
    assert runs["subscriber"]["/profile/contract.pdf"]["Content-Type"] == "application/pdf"
    assert runs["staff"]["/staff/admin/"].status_code == 200
    assert runs["staff"][f"/staff/contracts/{world.contract.pk}/"].status_code == 200
    assert runs["staff"]["/staff/reports/debtors.csv"].status_code == 200
    assert runs["app (Bearer)"]["/api/v1/account"].status_code == 200
    statuses = {r.status_code for run in runs.values() for r in run.values()}
    assert {200, 302, 401, 403, 404, 405} <= statuses
    errors = [
        f"{who}: {u}" for who, run in runs.items() for u, r in run.items() if r.status_code >= 500
    ]
    assert not errors, "server errors:\n" + "\n".join(errors)

    failures = [f"{who}: {line}" for who, run in runs.items() for line in report(run)]
    assert not failures, f"{len(failures)} responses lack security headers:\n" + "\n".join(failures)


def is_staff(url: str) -> bool:
    return url.startswith("/staff/")


def _boom(exception: type[Exception]) -> Any:
    def view(request: Any) -> Any:
        raise exception("boom")

    return view


# Error pages need a view that fails: this module doubles as a URLconf for them.
urlpatterns = [
    path("boom/400/", _boom(SuspiciousOperation)),
    path("boom/403/", _boom(PermissionDenied)),
    path("boom/500/", _boom(RuntimeError)),
    path("api/boom/500/", _boom(RuntimeError)),
    *get_resolver("config.urls").url_patterns,
]
handler400 = "abonent.cabinet.views.errors.bad_request"
handler403 = "abonent.cabinet.views.errors.permission_denied"
handler404 = "abonent.cabinet.views.errors.page_not_found"
handler500 = "abonent.cabinet.views.errors.server_error"


@pytest.mark.urls(__name__)
def test_error_pages_have_the_security_headers(db):
    client = Client(raise_request_exception=False)
    responses = {
        url: client.get(url)
        for url in ("/boom/400/", "/boom/403/", "/boom/500/", "/api/boom/500/", "/no/such/")
    }
    assert [r.status_code for r in responses.values()] == [400, 403, 500, 500, 404]
    assert responses["/api/boom/500/"]["Content-Type"].startswith("application/json")
    assert not report(responses)


STATIC = {
    "/static/css/app.css": "text/css",
    "/static/js/htmx.min.js": "text/javascript",
    "/static/icons/icon-192.png": "image/png",
    "/static/admin/css/base.css": "text/css",
}


def test_static_files_are_unsniffable():
    """Static files are answered by whitenoise before the CSP and clickjacking middleware
    run, so they carry nosniff and the referrer policy (SecurityMiddleware is outermost)
    but no CSP or X-Frame-Options. That is enough: they are our own CSS, JS and PNG,
    never user content; a browser applies CSP only to documents, and an image or style
    sheet in a frame offers nothing to click. nosniff plus the right type keeps them from
    being run as anything else."""
    client = Client()
    responses = {url: client.get(url) for url in STATIC}
    for url, content_type in STATIC.items():
        assert responses[url].status_code == 200, url
        assert responses[url]["Content-Type"].startswith(content_type), url
    assert not report(responses, document=False)


def production_transport(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The transport settings of config/settings/production.py, as it sets them."""
    monkeypatch.setenv("SECRET_KEY", "p" * 60)
    monkeypatch.setenv("ALLOW_SANDBOX_PAYMENTS", "1")
    for name in ("SECURE_HSTS_SECONDS", "SECURE_SSL_REDIRECT", "SECURE_HSTS_PRELOAD"):
        monkeypatch.delenv(name, raising=False)  # the file's own defaults
    sys.modules.pop("config.settings.production", None)
    prod = import_module("config.settings.production")
    sys.modules.pop("config.settings.production", None)
    names = (
        "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "SECURE_HSTS_PRELOAD",
        "SECURE_SSL_REDIRECT",
        "SECURE_PROXY_SSL_HEADER",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
    )
    return {name: getattr(prod, name) for name in names}


def test_hsts_on_every_response_under_production_settings(world, monkeypatch):
    transport = production_transport(monkeypatch)
    with override_settings(**transport):  # new Clients: middleware reads settings once
        urls = world.urls()
        subscriber = Client()
        signed_in = subscriber.post(
            "/login/",
            {"contract_number": world.contract.number, "password": PASSWORD},
            secure=True,
        )
        runs = {
            "anonymous": walk(Client(), urls, secure=True),
            "subscriber": walk(subscriber, ["/", "/profile/", "/support/"], secure=True),
            "static": walk(Client(), list(STATIC), secure=True),
        }
        assert runs["subscriber"]["/"].status_code == 200
        plain = Client().get("/login/")  # over http: sent to https first
    assert plain.status_code == 301
    assert plain["Location"] == "https://testserver/login/"
    assert signed_in.cookies[settings.SESSION_COOKIE_NAME]["secure"]
    failures = []
    for who, run in runs.items():
        for url, response in run.items():
            hsts = response.get("Strict-Transport-Security", "")
            age = re.search(r"max-age=(\d+)", hsts)
            if not age or int(age.group(1)) < 365 * 86400 or "includeSubDomains" not in hsts:
                failures.append(f"{who}: {url} [{response.status_code}] {hsts!r}")
    assert not failures, "no or weak HSTS:\n" + "\n".join(failures)


# --- 2. CSRF ----------------------------------------------------------------------------------

# Machine-to-machine endpoints, each authenticated another way (provider signature or
# source address + re-fetch; the RADIUS key); /api/ takes Bearer tokens only (below).
CSRF_EXEMPT = {"/webhooks/<str:provider>/", "/radius/authorize/", "/radius/accounting/"}


def csrf_client(client: Client) -> Client:
    """The same visitor (cookies, session, a valid csrftoken cookie), now with CSRF
    checks on, as a browser submitting a form from another site would be."""
    client.get("/login/")  # sets the csrftoken cookie, as any page with a form does
    client.handler.enforce_csrf_checks = True
    client.cookies["abonent_language"] = "ru"
    return client


def token_of(client: Client, url: str = "/login/") -> str:
    client.get(url)
    return client.cookies["csrftoken"].value


def test_every_form_post_without_a_token_is_refused_and_writes_nothing(world):
    """Every URL outside the API, POSTed by the visitor who could use it (staff for
    /staff/, the subscriber for the cabinet, and an anonymous visitor for the public
    forms too) with a valid CSRF cookie but no token, as a page on another site would:
    403 with the translated page, not one row more, the password untouched."""
    exempt = {
        route
        for route, pattern in every_route()
        if getattr(pattern.callback, "csrf_exempt", False) and not route.startswith("/api/")
    }
    assert exempt == CSRF_EXEMPT, "a new csrf_exempt view: justify it here or protect it"
    urls = [u for u in world.urls() if not u.startswith(("/api/", "/webhooks/", "/radius/"))]
    anonymous = csrf_client(Client())
    subscriber = csrf_client(world.subscriber)
    staff = csrf_client(world.staff)
    before = row_counts()
    password = User.objects.get(pk=world.contract.user.pk).password
    responses, failures = {}, []
    for url in urls:
        for who, client in (
            [("staff", staff)]
            if is_staff(url)
            else [("subscriber", subscriber), ("anonymous", anonymous)]
        ):
            response = client.post(url, {"text": "x", "key": "k", "amount": "100", "post": "yes"})
            responses[f"{who}: {url}"] = response
            if response.status_code != 403 or CSRF_PAGE_RU not in response.content.decode():
                failures.append(f"{who}: POST {url} -> {response.status_code}")
    assert not failures, "accepted without a CSRF token:\n" + "\n".join(failures)
    assert row_counts() == before
    assert User.objects.get(pk=world.contract.user.pk).password == password
    assert not report(responses)
    # Still signed in: the refusals were not just the effect of a lost session.
    assert subscriber.get("/").status_code == 200
    assert staff.get("/staff/contracts/").status_code == 200


def test_real_forms_work_only_with_the_token(world, tariff):
    """The same complete, valid POSTs: refused without the token, done with it."""
    from abonent.applications import services as applications
    from abonent.applications.models import Application
    from abonent.support.models import Outage

    applications.import_buildings("Невский пр.;28;4;120;connected;10;\n")
    visitor = csrf_client(Client())
    subscriber = csrf_client(world.subscriber)
    staff = csrf_client(world.staff)
    cases = [
        (
            visitor,
            "/apply/",
            "/apply/",
            {
                "full_name": "Сидоров Пётр",
                "phone": "8 900 123-45-67",
                "street": "Невский проспект",
                "house": "28",
                "flat": "5",
                "call_time": "evening",
                "consent": "on",
            },
            Application.objects.count,
        ),
        (
            subscriber,
            "/support/new/",
            "/support/new/",
            {"category": "other", "subject": "Вопрос", "text": "Текст", "key": "csrf-1"},
            Ticket.objects.count,
        ),
        (
            staff,
            "/staff/admin/support/outage/add/",
            "/staff/admin/support/outage/add/",
            {
                "title": "Авария",
                "text": "Чиним кабель",
                "starts_at_0": "27.11.2026",
                "starts_at_1": "10:00",
                "areas-TOTAL_FORMS": "0",
                "areas-INITIAL_FORMS": "0",
            },
            Outage.objects.count,
        ),
    ]
    for client, page, url, data, count in cases:
        before = count()
        refused = client.post(url, data)
        assert refused.status_code == 403, url
        assert CSRF_PAGE_RU in refused.content.decode(), url
        assert count() == before, url
        done = client.post(url, {**data, "csrfmiddlewaretoken": token_of(client, page)})
        assert done.status_code == 302, (url, done.content.decode()[:1000])
        assert count() == before + 1, url

    # Login itself (login CSRF): refused without the token, signs in with it.
    fresh = csrf_client(Client())
    form = {"contract_number": world.stranger.number, "password": PASSWORD}
    assert fresh.post("/login/", form).status_code == 403
    assert fresh.get("/").status_code == 302
    form["csrfmiddlewaretoken"] = token_of(fresh)
    assert fresh.post("/login/", form)["Location"] == "/"
    assert fresh.get("/").status_code == 200


def api_operations() -> list[tuple[str, str, bool]]:
    """(method, path, needs a Bearer token) for every operation of /api/v1."""
    from abonent.api.api import api

    schema = api.get_openapi_schema()
    return [
        (method, route, bool(operation.get("security")))
        for route, operations in schema["paths"].items()
        for method, operation in operations.items()
    ]


def test_the_api_never_accepts_the_session_cookie(world):
    """ninja's views are CSRF-exempt, which is safe only because a browser's cookies
    never authenticate them: with the subscriber's (or staff's) session and even a valid
    CSRF token, every write operation that needs a login answers 401 and writes
    nothing. The operations without auth (login, recovery, the public application) do
    not look at the session either: the same request works without any cookie."""
    writes = [
        (m, PLACEHOLDER_API.sub(lambda g: api_value(world, g.group(1)), p))
        for m, p, secured in api_operations()
        if secured and m in ("post", "put", "patch", "delete")
    ]
    assert len(writes) > 20
    before = row_counts()
    failures = []
    for who, client in (("subscriber", world.subscriber), ("staff", world.staff)):
        token = token_of(client)
        for method, url in writes:
            response = getattr(client, method)(
                url,
                "{}",
                content_type="application/json",
                HTTP_X_CSRFTOKEN=token,
            )
            if response.status_code != 401:
                failures.append(f"{who}: {method.upper()} {url} -> {response.status_code}")
    assert not failures, "the API acted on a session cookie:\n" + "\n".join(failures)
    assert row_counts() == before


PLACEHOLDER_API = re.compile(r"\{(\w+)\}")


def api_value(world: World, name: str) -> str:
    return str(
        {
            "ticket_id": world.ticket.pk,
            "attachment_id": world.attachment.pk,
            "payment_id": world.payment.public_id,
            "public_id": world.application.public_id,
            "device_id": "web-1",
        }.get(name, 1)
    )


# --- 3. session fixation ----------------------------------------------------------------------


def store() -> Any:
    return import_module(settings.SESSION_ENGINE).SessionStore


def planted() -> str:
    """A session id the attacker got from the site (their own visit) and put into the
    victim's browser."""
    session = store()()
    session["planted"] = True
    session.create()
    return session.session_key


def with_cookie(key: str) -> Client:
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = key
    return client


def key_of(client: Client) -> str:
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def assert_dead(key: str, page: str) -> None:
    assert not store()().exists(key), "the old session still exists on the server"
    response = with_cookie(key).get(page)
    assert response.status_code == 302, f"{page} opened with an old session id"


def test_subscriber_password_login_rotates_a_planted_session(contract):
    key = planted()
    victim = with_cookie(key)
    login(contract, victim)
    assert key_of(victim) != key
    assert victim.get("/").status_code == 200
    assert_dead(key, "/")


def test_sms_code_login_rotates_a_planted_session(
    contract, outbox, django_capture_on_commit_callbacks
):
    second_factor.set_enabled(contract.user, True, PASSWORD, Actor.system())
    key = planted()
    victim = with_cookie(key)
    with django_capture_on_commit_callbacks(execute=True):
        response = victim.post(
            "/login/", {"contract_number": contract.number, "password": PASSWORD}
        )
    assert response["Location"] == "/login/code/"
    halfway = key_of(victim)
    assert victim.post("/login/code/", {"code": outbox.code()})["Location"] == "/"
    assert key_of(victim) not in (key, halfway)
    assert victim.get("/").status_code == 200
    assert_dead(key, "/")
    assert_dead(halfway, "/")


def test_staff_login_rotates_at_the_password_and_again_at_the_code(staff_user):
    enrol(staff_user)  # the authenticator is set up; now a later login
    TOTPDevice.objects.filter(user=staff_user).update(last_t=-1)  # the code may be reused
    key = planted()
    victim = with_cookie(key)
    victim.post("/staff/login/", {"username": "operator1", "password": "staff-password-1"})
    after_password = key_of(victim)
    assert after_password != key
    assert_dead(key, "/staff/contracts/")
    response = victim.post("/staff/login/verify/", {"token": totp(staff_user)})
    assert response["Location"] == "/staff/contracts/"
    assert key_of(victim) != after_password, "no new session id when the second factor passed"
    assert victim.get("/staff/contracts/").status_code == 200
    assert_dead(after_password, "/staff/contracts/")


def test_staff_enrolment_rotates_the_session(staff_user):
    client = Client()
    client.post("/staff/login/", {"username": "operator1", "password": "staff-password-1"})
    after_password = key_of(client)
    client.get("/staff/login/setup/")
    response = client.post("/staff/login/setup/", {"token": totp(staff_user)})
    assert response["Location"].startswith("/staff/login/recovery-codes/")
    assert key_of(client) != after_password
    assert_dead(after_password, "/staff/contracts/")


def test_forced_password_change_rotates_and_keeps_the_device_list_true(make_contract):
    new = make_contract(keep_initial=True)
    contract = new.contract
    client = Client()
    client.post("/login/", {"contract_number": contract.number, "password": new.initial_password})
    before = key_of(client)
    response = client.post(
        "/profile/password/",
        {
            "old_password": new.initial_password,
            "new_password": "my own long secret",
            "new_password_again": "my own long secret",
        },
    )
    assert response["Location"] == "/"
    assert key_of(client) != before
    assert client.get("/").status_code == 200
    assert_dead(before, "/")
    # The signed-in devices list still knows this browser: ending it from another
    # device really ends it.
    from abonent.accounts import devices
    from abonent.accounts.models import WebSession

    assert WebSession.objects.filter(session_key=key_of(client), ended_at=None).exists()
    [this] = [d for d in devices.list_devices(contract.user) if d.kind == "web"]
    devices.end_device(contract.user, this.id, Actor.system())
    assert client.get("/").status_code == 302


def test_logout_kills_the_session_on_the_server(contract, staff_user):
    subscriber = login(contract)
    key = key_of(subscriber)
    subscriber.post("/logout/")
    assert_dead(key, "/")

    staff, _codes = enrol(staff_user)
    key = key_of(staff)
    assert staff.get("/staff/contracts/").status_code == 200
    staff.post("/staff/logout/")
    assert_dead(key, "/staff/contracts/")


# --- 4. subscribers and staff pages -----------------------------------------------------------


def test_a_subscriber_gets_nothing_from_any_staff_url(world):
    """Every /staff/ and /staff/admin/ pattern, GET and POST (with a valid CSRF token, so
    the view itself decides): sent to the staff login, or 403/404/405; never a page; not
    one row written; and every answer carries the security headers."""
    staff_urls = world.urls("/staff/")
    assert len(staff_urls) > 100
    client = world.subscriber
    token = token_of(client)
    before = row_counts()
    responses, failures = {}, []
    for url in staff_urls:
        # POSTing a logout would only end this very session (checked in part 3).
        methods = ("get",) if url.endswith("/logout/") else ("get", "post")
        for method in methods:
            data = {"csrfmiddlewaretoken": token, "post": "yes"} if method == "post" else None
            response = getattr(client, method)(url, data)
            responses[f"{method.upper()} {url}"] = response
            status, where = response.status_code, response.get("Location", "")
            while status == 302 and where.startswith("/staff/admin/"):
                # The admin's own doors (its login, its index after "logout") lead to
                # the staff login.
                response = client.get(where)
                status, where = response.status_code, response.get("Location", "")
            allowed = (
                (status == 302 and where.startswith("/staff/login/"))
                or status in (403, 404, 405)
                # the staff login pages themselves: a form, or back to the login
                or (url.startswith("/staff/login") and status in (200, 302))
            )
            if not allowed:
                failures.append(f"{method.upper()} {url} -> {status} {where}")
    assert not failures, "a subscriber reached staff pages:\n" + "\n".join(failures)
    assert row_counts() == before
    assert not report(responses)
    # Still a subscriber, still only that: the cabinet answers.
    assert client.get("/").status_code == 200


@pytest.mark.parametrize(
    ("role", "url"),
    [
        ("technician", "/staff/import/"),
        ("cashier", "/staff/audit/"),
        ("operator", "/staff/admin/accounts/user/"),
        ("manager", "/staff/admin/accounts/apitoken/"),
    ],
)
def test_a_low_role_cannot_open_an_admin_only_page(staff_user, role, url):
    """A few examples; every role against every action is
    abonent/accounts/tests/test_role_matrix.py (pages, services and the admin site)."""
    staff_user.role = role
    staff_user.save()
    client, _codes = enrol(staff_user)
    assert client.get(url).status_code == 403


# --- 5. uploads -------------------------------------------------------------------------------

DISGUISED = {
    "page.png": b"<html><body><script>alert(document.cookie)</script></body></html>",
    "page.jpg": b"  <!DOCTYPE html><script src=//evil.example/x.js></script>",
    "vector.svg": b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
    "vector.png": b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
    "code.js": b"alert(document.cookie)",
    "shell.php": b"<?php system($_GET['c']); ?>",
    "shell.php.png": b"<?php system($_GET['c']); ?>",
    # Polyglots: a real image or PDF signature, markup behind it.
    "poly.png": PNG + b"<html><script>alert(1)</script></html>",
    "poly.jpg": b"\xff\xd8\xff\xe0" + b"\x00" * 600 + b"<SCRIPT>alert(1)</SCRIPT>",
    "poly.pdf": b"%PDF-1.4\n<html><body onload=alert(1)><iframe src=//evil.example>",
    "poly.webp": b"RIFF\x00\x00\x00\x00WEBP" + b"<svg onload=alert(1)>",
    "shell.png": PNG + b"<?php echo 1; ?>",
}


@pytest.mark.parametrize("name", sorted(DISGUISED))
def test_disguised_markup_is_refused_by_content(contract, name):
    client = Client()
    client.force_login(contract.user)
    response = client.post(
        "/support/new/",
        {
            "category": "other",
            "subject": "Файл",
            "text": "Смотрите",
            "key": name,
            "attachments": [SimpleUploadedFile(name, DISGUISED[name], content_type="image/png")],
        },
        HTTP_ACCEPT_LANGUAGE="ru",
    )
    assert response.status_code == 200
    assert "только фото" in response.content.decode()
    assert not Attachment.objects.exists()
    assert not Ticket.objects.exists()


def test_disguised_markup_is_refused_over_the_api_too(contract):
    api = Client(headers={"Authorization": f"Bearer {api_token(contract)}"})
    response = api.post(
        "/api/v1/tickets",
        {
            "category": "other",
            "subject": "Файл",
            "text": "Смотрите",
            "attachments": [SimpleUploadedFile("poly.png", DISGUISED["poly.png"])],
        },
    )
    assert response.status_code in (400, 422), response.content
    assert not Attachment.objects.exists()


SAFE_INLINE = {"image/png", "image/jpeg", "image/webp"}


def assert_safe_download(response: Any, attachment: Attachment) -> None:
    assert response.status_code == 200
    disposition = response["Content-Disposition"]
    if disposition.startswith("inline"):
        assert response["Content-Type"] in SAFE_INLINE
    else:
        assert disposition.startswith("attachment;")
    assert response["Content-Type"] == attachment.content_type
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"]
    csp = csp_directives(response["Content-Security-Policy"])
    assert "sandbox" in csp, "an attachment is not sandboxed"
    assert csp.get("default-src") == ["'none'"]
    assert csp.get("frame-ancestors") == ["'none'"]


def test_attachments_reach_only_their_owner_and_staff(world, staff_user):
    from abonent.support.tests.conftest import PDF

    pdf = support.subscriber_reply(
        world.ticket.pk,
        "И договор",
        [SimpleUploadedFile("договор.pdf", PDF, content_type="application/pdf")],
        Actor(user=world.contract.user, channel="web"),
    )
    document = Attachment.objects.get(message=pdf)
    for attachment in (world.attachment, document):
        web = f"/support/attachments/{attachment.pk}/"
        app = f"/api/v1/tickets/{world.ticket.pk}/attachments/{attachment.pk}"
        desk = f"/staff/tickets/attachments/{attachment.pk}/"
        assert_safe_download(world.subscriber.get(web), attachment)
        assert_safe_download(world.staff.get(desk), attachment)
        owner_app = Client(headers={"Authorization": f"Bearer {world.token}"}).get(app)
        assert_safe_download(owner_app, attachment)
        assert owner_app["Content-Disposition"].startswith("attachment;")
        assert owner_app["X-Content-Type-Options"] == "nosniff"
        assert "no-store" in owner_app["Cache-Control"]

        stranger_app = Client(headers={"Authorization": f"Bearer {api_token(world.stranger)}"})
        assert stranger_app.get(app).status_code == 404
        assert login(world.stranger).get(web).status_code == 404
        assert world.subscriber.get(desk)["Location"].startswith("/staff/login/")
        assert Client().get(web)["Location"].startswith("/login/")
    assert world.attachment.is_image
    assert not document.is_image
    assert world.subscriber.get(f"/support/attachments/{document.pk}/")[
        "Content-Disposition"
    ].startswith("attachment;")

    staff_user.role = User.Role.CASHIER  # not a support role
    staff_user.save()
    assert world.staff.get(f"/staff/tickets/attachments/{world.attachment.pk}/").status_code == 403


def test_files_live_outside_every_web_root_and_are_not_served_by_name(world):
    private = Path(settings.PRIVATE_MEDIA_ROOT).resolve()
    stored = Path(world.attachment.file.path).resolve()
    assert stored.is_relative_to(private)
    assert stored.read_bytes() == PNG
    assert world.attachment.file.name != "router.png"  # the shown name is never the path
    assert "router" not in world.attachment.file.name
    web_roots = [Path(settings.BASE_DIR) / "static", *map(Path, settings.STATICFILES_DIRS)]
    if settings.STATIC_ROOT:
        web_roots.append(Path(settings.STATIC_ROOT))
    if settings.MEDIA_ROOT:
        web_roots.append(Path(settings.MEDIA_ROOT))
    # The default outside tests (base.py) as well as this run's directory.
    default = Path(import_module("config.settings.base").PRIVATE_MEDIA_ROOT).resolve()
    for root in web_roots:
        root = root.resolve()
        for files in (private, default):
            assert not files.is_relative_to(root), f"{files} is under {root}"
            assert not root.is_relative_to(files), f"{root} is under {files}"
    assert not settings.MEDIA_URL or settings.MEDIA_URL == "/"  # nothing serves media

    name = world.attachment.file.name  # "tickets/<hex>"
    for client in (Client(), world.subscriber, world.staff):
        for url in (
            f"/static/{name}",
            f"/static/{Path(name).name}",
            f"/{name}",
            f"/media/{name}",
            f"/private/{name}",
            f"/var/private/{name}",
            f"/static/../var/private/{name}",
        ):
            response = client.get(url)
            body = b"".join(response.streaming_content) if response.streaming else response.content
            assert response.status_code in (301, 302, 404), url
            assert PNG not in body, url


@pytest.fixture(autouse=True)
def _no_leftover_files(db: None) -> Iterator[None]:
    yield
    for attachment in Attachment.objects.all():
        attachment.file.delete(save=False)
