"""Login (throttled), logout and password change: Django's auth views with our templates and form."""

from typing import Any

from django.contrib.auth import views as auth_views
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from annotations.forms import ThrottledAuthenticationForm


class LoginView(auth_views.LoginView):
    """Django's login view; too many failures for one username and address are refused for a while."""

    authentication_form = ThrottledAuthenticationForm
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    """Django's logout view (a CSRF-protected POST); a GET shows a small page asking to confirm with that POST.

    Django answers a GET with an empty 405 page, which a person who typed or followed the URL cannot act on.
    A visitor who is not logged in is sent to the login page.
    """

    http_method_names = ["get", "post", "options"]

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return TemplateResponse(request, "registration/logout_confirm.html")
