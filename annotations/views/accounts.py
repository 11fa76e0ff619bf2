"""Login (throttled), logout and password change: Django's auth views with our templates and form."""

from django.contrib.auth import views as auth_views

from annotations.forms import ThrottledAuthenticationForm


class LoginView(auth_views.LoginView):
    """Django's login view; too many failures for one username and address are refused for a while."""

    authentication_form = ThrottledAuthenticationForm
    redirect_authenticated_user = True
