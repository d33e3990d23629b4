from django.urls import path

from .views import login

app_name = "staff"

urlpatterns = [
    path("login/", login.login_view, name="login"),
    path("login/verify/", login.verify_view, name="verify"),
    path("login/setup/", login.setup_view, name="setup"),
    path("login/recovery-codes/", login.recovery_codes_view, name="recovery_codes"),
    path("logout/", login.logout_view, name="logout"),
]
