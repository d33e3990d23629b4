from django.urls import path

from .views import (
    apply,
    auth,
    contract,
    pages,
    payments,
    profile,
    recovery,
    second_factor,
    services,
    support,
    traffic,
)

app_name = "cabinet"

urlpatterns = [
    path("", pages.home, name="home"),
    path("login/", auth.login_view, name="login"),
    path("apply/", apply.apply_view, name="apply"),
    path("apply/streets/", apply.streets_view, name="apply_streets"),
    path("apply/<uuid:public_id>/", apply.application_view, name="application"),
    path(
        "apply/<uuid:public_id>/cancel/", apply.application_cancel_view, name="application_cancel"
    ),
    path("apply/<uuid:public_id>/watch/", apply.watch_view, name="application_watch"),
    path("login/code/", second_factor.login_code_view, name="login_code"),
    path("logout/", auth.logout_view, name="logout"),
    path("password/forgot/", recovery.start_view, name="recovery"),
    path("password/forgot/code/", recovery.code_view, name="recovery_code"),
    path("password/forgot/resend/", recovery.resend_view, name="recovery_resend"),
    path("password/forgot/new/", recovery.password_view, name="recovery_password"),
    path("profile/", profile.profile, name="profile"),
    path("profile/password/", auth.password_change_view, name="password_change"),
    path("profile/email/", profile.email_view, name="profile_email"),
    path("profile/phone/", profile.phone_view, name="profile_phone"),
    path("profile/sessions/", profile.sessions_view, name="sessions"),
    path("profile/security/", profile.security_view, name="security"),
    path("profile/notifications/", profile.notifications_view, name="notifications"),
    path("profile/push/", profile.push_view, name="push"),
    path("profile/contract/", contract.contract_view, name="contract"),
    path("profile/contract.pdf", contract.contract_pdf_view, name="contract_pdf"),
    path("services/", services.services_view, name="services"),
    path("services/tariff/<int:tariff_id>/", services.tariff_change_view, name="tariff_change"),
    path(
        "services/tariff/changes/<int:change_id>/cancel/",
        services.tariff_change_cancel_view,
        name="tariff_change_cancel",
    ),
    path("services/addons/<int:addon_id>/<str:action>/", services.addon_view, name="addon"),
    path("services/suspension/", services.suspension_view, name="suspension"),
    path(
        "services/suspension/<int:suspension_id>/<str:action>/",
        services.suspension_action_view,
        name="suspension_action",
    ),
    path("traffic/", traffic.traffic_view, name="traffic"),
    path("payments/", payments.payments_view, name="payments"),
    path("payments/pay/", payments.pay_view, name="pay"),
    path("payments/promised/", payments.promise_view, name="promise"),
    path("payments/autopay/", payments.autopay_view, name="autopay"),
    path("payments/<uuid:public_id>/", payments.payment_view, name="payment"),
    path("payments/<uuid:public_id>/receipt/", payments.receipt_view, name="receipt"),
    path("support/", support.support_view, name="support"),
    path("support/new/", support.new_ticket_view, name="ticket_new"),
    path("support/<int:ticket_id>/", support.ticket_view, name="ticket"),
    path(
        "support/<int:ticket_id>/<str:action>/",
        support.ticket_action_view,
        name="ticket_action",
    ),
    path(
        "support/attachments/<int:attachment_id>/",
        support.attachment_view,
        name="ticket_attachment",
    ),
]
