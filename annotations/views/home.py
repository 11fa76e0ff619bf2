"""Home: my datasets with progress bars, their guidelines and a start button."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from annotations.rendering import render_markdown
from annotations.selectors.workbench import dataset_progress_for_user


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Show the datasets I am a member of, with progress (mine, overall, remaining) and guidelines."""
    progress = dataset_progress_for_user(user=request.user, now=timezone.now())  # type: ignore[arg-type]
    rows = [{"progress": item, "guidelines_html": render_markdown(item.dataset.guidelines)} for item in progress]
    return render(request, "annotations/home.html", {"rows": rows})
