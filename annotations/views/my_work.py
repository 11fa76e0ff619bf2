"""My work: the list of my own annotations, with filters; each opens for a change until the label is final."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from annotations.forms import MyWorkFilterForm, yes_no
from annotations.selectors.workbench import MyWorkFilters, datasets_of_member, my_annotations_list

PAGE_SIZE = 50


@login_required
@require_GET
def my_work(request: HttpRequest) -> HttpResponse:
    """List my annotations, newest first, filtered by dataset, rationale, flags, editability and date."""
    datasets = datasets_of_member(user=request.user)  # type: ignore[arg-type]
    form = MyWorkFilterForm(request.GET or None, datasets=datasets)
    filters = MyWorkFilters()
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        filters = MyWorkFilters(
            dataset_id=data["dataset"].pk if data.get("dataset") else None,
            has_rationale=yes_no(data.get("has_rationale")),
            flagged=yes_no(data.get("flagged")),
            editable=yes_no(data.get("editable")),
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
        )
    annotations = my_annotations_list(user=request.user, filters=filters)  # type: ignore[arg-type]
    page = Paginator(annotations, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "annotations/my_work.html", {"form": form, "page": page, "query_string": query.urlencode()})
