from django.urls import include, path

from .views import audit, login, tickets

app_name = "staff"

urlpatterns = [
    path("login/", login.login_view, name="login"),
    path("login/verify/", login.verify_view, name="verify"),
    path("login/setup/", login.setup_view, name="setup"),
    path("login/recovery-codes/", login.recovery_codes_view, name="recovery_codes"),
    path("logout/", login.logout_view, name="logout"),
    path("tickets/", tickets.queue_view, name="tickets"),
    path("tickets/<int:ticket_id>/", tickets.ticket_view, name="ticket"),
    path(
        "tickets/attachments/<int:attachment_id>/",
        tickets.attachment_view,
        name="ticket_attachment",
    ),
    path("quality/", include("abonent.staff.quality_urls")),
    path("audit/", audit.audit_view, name="audit"),
    path("applications/", include("abonent.staff.applications_urls")),
    path("reports/", include("abonent.staff.reports_urls")),
    path("import/", include("abonent.staff.imports_urls")),
    path("mass/", include("abonent.staff.mass_urls")),
    path("contracts/", include("abonent.staff.contracts_urls")),
    path("contracts/", include("abonent.staff.termination_urls")),
]
