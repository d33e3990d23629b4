from django.urls import path

from .views import auth, pages

app_name = "cabinet"

urlpatterns = [
    path("", pages.home, name="home"),
    path("login/", auth.login_view, name="login"),
    path("logout/", auth.logout_view, name="logout"),
    path("profile/", pages.profile, name="profile"),
    path("profile/password/", auth.password_change_view, name="password_change"),
    path("services/", pages.upcoming, {"section": "services"}, name="services"),
    path("traffic/", pages.upcoming, {"section": "traffic"}, name="traffic"),
    path("payments/", pages.upcoming, {"section": "payments"}, name="payments"),
    path("support/", pages.upcoming, {"section": "support"}, name="support"),
]
