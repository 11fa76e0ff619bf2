"""Account URLs under /accounts/: login (throttled), logout (POST; a GET asks to confirm), password change.

Names stay global ("login", "logout", "password_change", "password_change_done") as Django's auth expects.
"""

from django.contrib.auth import views as auth_views
from django.urls import URLPattern, path

from annotations.views.accounts import LoginView, LogoutView

urlpatterns: list[URLPattern] = [
    path("login/", LoginView.as_view(), name="login"),
    path("logout/", LogoutView.as_view(), name="logout"),
    path("password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
]
