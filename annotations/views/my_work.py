"""My work: the list of my own annotations, with filters; each opens for a change until the label is final."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from annotations.forms import MyWorkFilterForm
from annotations.selectors.my_work import MyWorkFilters, my_annotations_list, my_gold_feedback
from annotations.selectors.workbench import datasets_of_member

PAGE_SIZE = 50


@login_required
@require_GET
def my_work(request: HttpRequest) -> HttpResponse:
    """List my annotations, newest first, filtered by dataset, my label, status, rationale, flags and date.

    Invalid filters are shown under their fields and the list stays unfiltered.
    """
    datasets = datasets_of_member(user=request.user)  # type: ignore[arg-type]
    form = MyWorkFilterForm(request.GET or None, datasets=datasets)
    filters = form.to_filters() if form.is_bound and form.is_valid() else MyWorkFilters()
    annotations = my_annotations_list(user=request.user, filters=filters)  # type: ignore[arg-type]
    page = Paginator(annotations, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "query_string": query.urlencode(),
        "gold": my_gold_feedback(user=request.user),  # type: ignore[arg-type]
    }
    return render(request, "annotations/my_work.html", context)
