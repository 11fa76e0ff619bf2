"""REST API of the scoring app, mounted under /api/v1/."""

from django.urls import path

from scoring.apis import ScoringRunDetailAPI, ScoringRunListCreateAPI

app_name = "scoring_api"

urlpatterns = [
    path("scoring-runs/", ScoringRunListCreateAPI.as_view(), name="scoring-run-list"),
    path("scoring-runs/<int:run_id>/", ScoringRunDetailAPI.as_view(), name="scoring-run-detail"),
]
