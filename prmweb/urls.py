"""Root URL configuration."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from prmweb import views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("health/", views.health, name="health"),
    path("accounts/", include("annotations.account_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),  # CSP-safe init script
    path("api/v1/", include("annotations.api_urls")),
    path("api/v1/", include("scoring.api_urls")),
    path("", include("annotations.urls")),
]

handler400 = "prmweb.views.bad_request"
handler403 = "prmweb.views.permission_denied"
handler404 = "prmweb.views.not_found"
handler500 = "prmweb.views.server_error"
