"""The dataset behind an API request: in the URL (`/datasets/<slug>/...`) or in a POST body (`{"dataset": ...}`).

Both apps' dataset-bound views build on these two classes; the rest of the shared plumbing (errors,
strict serializers, pagination) is in `prmweb.api`.
"""

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Model, QuerySet
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from annotations.models import Dataset
from annotations.permissions import IsDatasetManager, IsDatasetMember, IsStaff
from annotations.selectors.datasets import DatasetAccess, dataset_access_get
from prmweb.api.errors import error_responses
from prmweb.api.serializers import paginated
from prmweb.api.views import PAGE_PARAMETERS, BaseAPIView
from prmweb.errors import NotFoundError


class DatasetScopedAPIView(BaseAPIView):
    """A view under /datasets/<slug>/: resolves the dataset once per request, 404 for non-members."""

    def get_access(self) -> DatasetAccess:
        """Return the URL's dataset as the requesting user sees it (cached for the request)."""
        cached: DatasetAccess | None = getattr(self, "_access", None)
        if cached is None:
            cached = dataset_access_get(slug=self.kwargs["slug"], user=self.request.user)
            self._access = cached
        return cached


class DatasetInBodyAPIView(BaseAPIView):
    """A list-and-start view (exports, scoring runs): any user lists; a POST names its dataset in the body.

    POST is for the named dataset's managers and staff; a dataset the user may not see answers 404.
    `body_purpose` completes the message for a missing slug ("the slug of the dataset to <purpose>").
    """

    body_purpose = "use"

    def get_permissions(self) -> list[Any]:
        if self.request.method == "POST":
            return [IsAuthenticated(), (IsStaff | IsDatasetMember)(), (IsStaff | IsDatasetManager)()]
        return [IsAuthenticated()]

    def get_access(self) -> DatasetAccess:
        """Return the dataset named in the POST body as the user sees it (404 when not visible)."""
        slug = self.request.data.get("dataset") if isinstance(self.request.data, dict) else None
        if not isinstance(slug, str) or not slug:
            message = f"This field is required: the slug of the dataset to {self.body_purpose}."
            raise ValidationError({"dataset": [message]})
        try:
            return dataset_access_get(slug=slug, user=self.request.user)
        except NotFoundError as missing:  # name the body's field, not the URL's `slug` the client never sent
            raise NotFoundError(missing.message, errors={"dataset": missing.errors["slug"]}) from None


class DatasetFilterSerializer(serializers.Serializer):
    dataset = serializers.SlugField(required=False, help_text="Only this dataset's rows (slug).")


@dataclass(frozen=True)
class DatasetJobs:
    """What a jobs view lists and starts: its serializers, its list selector, its verb and its 403 message.

    `job_list(user=..., dataset_slug=...)` returns the jobs a user may see, newest first; `verb` completes
    the message for a POST without a dataset ("the slug of the dataset to <verb>"). `started_serializer`
    (default: `out_serializer`) renders a job just started; it gets `ran_in_request` in its context.
    """

    in_serializer: type[serializers.Serializer]
    out_serializer: type[serializers.ModelSerializer]
    job_list: Callable[..., QuerySet[Any]]
    verb: str
    denied_message: str
    started_serializer: type[serializers.ModelSerializer] | None = None


class DatasetJobsAPIView(DatasetInBodyAPIView):
    """Background jobs of datasets (exports, scoring runs): GET lists them, POST starts one.

    A subclass declares its `jobs` and implements `start`, whose docstring is the POST's summary in the
    schema; the operations are named after the model of `jobs.out_serializer`. A POST answers 202 with
    the queued job, or 201 when `ran_in_request` says the job already ran in this request (no broker);
    a service the start needs being down is the 503 of ServiceUnavailableError.
    """

    jobs: DatasetJobs

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.denied_message = cls.jobs.denied_message
        cls.body_purpose = cls.jobs.verb
        _document_jobs(cls)

    def start(self, *, dataset: Dataset, data: dict[str, Any]) -> Any:
        """Start a job on the dataset with the validated body (less `dataset`); return it."""
        raise NotImplementedError

    def ran_in_request(self, job: Any) -> bool:
        """Return whether the job already ran in this request (the embedded default runs tasks in-process)."""
        return False

    def get(self, request: Request) -> Response:
        query = DatasetFilterSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        rows = self.jobs.job_list(user=request.user, dataset_slug=query.validated_data.get("dataset"))
        return self.paginated_response(rows, lambda page: self._out(page, many=True))

    def post(self, request: Request) -> Response:
        serializer = self.jobs.in_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = {name: value for name, value in serializer.validated_data.items() if name != "dataset"}
        job = self.start(dataset=self.get_access().dataset, data=data)
        job = self.jobs.job_list(user=request.user).get(pk=job.pk)  # re-read: in the embedded default it has run
        ran_here = self.ran_in_request(job)
        started = self.jobs.started_serializer or self.jobs.out_serializer
        body = started(job, context={"request": request, "ran_in_request": ran_here}).data
        return Response(body, status=status.HTTP_201_CREATED if ran_here else status.HTTP_202_ACCEPTED)

    def _out(self, instance: Any, *, many: bool = False) -> Any:
        return self.jobs.out_serializer(instance, many=many, context={"request": self.request}).data


def _document_jobs(view: type[DatasetJobsAPIView]) -> None:
    """Describe a jobs view's two operations in the OpenAPI schema, named after its jobs' model."""
    model: type[Model] = view.jobs.out_serializer.Meta.model
    plural = str(model._meta.verbose_name_plural)
    prefix = plural.replace(" ", "_")
    started = view.jobs.started_serializer or view.jobs.out_serializer
    extend_schema_view(
        get=extend_schema(
            operation_id=f"{prefix}_list",
            summary=f"List {plural} of the datasets you manage (staff: all), newest first",
            parameters=[
                OpenApiParameter("dataset", str, description=f"Only this dataset's {plural} (slug)."),
                *PAGE_PARAMETERS,
            ],
            responses={
                200: paginated(f"Paginated{model.__name__}List", view.jobs.out_serializer(many=True)),
                **error_responses(400, 401),
            },
        ),
        post=extend_schema(
            operation_id=f"{prefix}_create",
            summary=(inspect.getdoc(view.start) or "").splitlines()[0],
            request=view.jobs.in_serializer,
            responses={
                201: OpenApiResponse(started, description="No broker: the job ran in this request."),
                202: OpenApiResponse(started, description="Queued; poll its url."),
                **error_responses(400, 401, 403, 404, 503),
            },
        ),
    )(view)
