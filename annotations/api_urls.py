"""REST API of the annotations app, mounted under /api/v1/."""

from django.urls import path

from annotations.apis.datasets import DatasetDetailAPI, DatasetListCreateAPI
from annotations.apis.evaluation import DatasetEvaluationAPI
from annotations.apis.exports import ExportDetailAPI, ExportDownloadAPI, ExportListCreateAPI
from annotations.apis.external_scores import ExternalSuggestionsAPI
from annotations.apis.me import MeAPI
from annotations.apis.members import DatasetMemberDetailAPI, DatasetMemberListAPI
from annotations.apis.quality import DatasetGoldAPI, DatasetMetricsAPI
from annotations.apis.solutions import SolutionDetailAPI, SolutionListCreateAPI

app_name = "api"

urlpatterns = [
    path("me/", MeAPI.as_view(), name="me"),
    path("datasets/", DatasetListCreateAPI.as_view(), name="dataset-list"),
    path("datasets/<slug:slug>/", DatasetDetailAPI.as_view(), name="dataset-detail"),
    path("datasets/<slug:slug>/metrics/", DatasetMetricsAPI.as_view(), name="dataset-metrics"),
    path("datasets/<slug:slug>/metrics/evaluation/", DatasetEvaluationAPI.as_view(), name="dataset-evaluation"),
    path("datasets/<slug:slug>/gold/", DatasetGoldAPI.as_view(), name="dataset-gold"),
    path("datasets/<slug:slug>/members/", DatasetMemberListAPI.as_view(), name="dataset-member-list"),
    path(
        "datasets/<slug:slug>/members/<str:username>/", DatasetMemberDetailAPI.as_view(), name="dataset-member-detail"
    ),
    path("datasets/<slug:slug>/solutions/", SolutionListCreateAPI.as_view(), name="solution-list"),
    path("datasets/<slug:slug>/suggestions/", ExternalSuggestionsAPI.as_view(), name="external-suggestions"),
    path("datasets/<slug:slug>/solutions/<int:solution_id>/", SolutionDetailAPI.as_view(), name="solution-detail"),
    path("exports/", ExportListCreateAPI.as_view(), name="export-list"),
    path("exports/<int:export_id>/", ExportDetailAPI.as_view(), name="export-detail"),
    path("exports/<int:export_id>/download/", ExportDownloadAPI.as_view(), name="export-download"),
]
