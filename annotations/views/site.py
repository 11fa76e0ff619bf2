"""Site-wide odds and ends: the favicon at the address browsers ask for by default."""

from django.http import HttpRequest, HttpResponseRedirect
from django.templatetags.static import static
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET


@require_GET
@cache_control(max_age=86400, public=True)
def favicon(request: HttpRequest) -> HttpResponseRedirect:
    """Redirect /favicon.ico to the static SVG icon (pages link it; this serves the ones that cannot)."""
    return HttpResponseRedirect(static("annotations/favicon.svg"))
