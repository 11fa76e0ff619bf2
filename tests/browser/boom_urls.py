"""The site's URLs plus /boom/, a page that fails, to see the 500 page in a browser."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from prmweb.urls import handler400, handler403, handler404, handler500
from prmweb.urls import urlpatterns as site_urlpatterns

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]


def boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("boom: a deliberate failure for the 500 page")


urlpatterns = [path("boom/", boom), *site_urlpatterns]
