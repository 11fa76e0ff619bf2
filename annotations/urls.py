"""Browser workbench URLs (namespace "annotations")."""

from django.urls import URLPattern, URLResolver, path

from annotations.views import dashboard, home, my_work, review, site, workbench

app_name = "annotations"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", home.home, name="home"),
    path("favicon.ico", site.favicon, name="favicon"),
    path("datasets/<slug:slug>/next/", workbench.next_solution, name="next"),
    path("annotate/<int:solution_id>/", workbench.annotate, name="annotate"),
    path("annotate/<int:solution_id>/skip/", workbench.skip, name="skip"),
    path("annotate/<int:solution_id>/heartbeat/", workbench.heartbeat, name="heartbeat"),
    path("my-work/", my_work.my_work, name="my_work"),
    path("review/", review.review_index, name="review_index"),
    path("review/<int:solution_id>/", review.review_solution, name="review_solution"),
    path("datasets/<slug:slug>/review/", review.review_queue, name="review_queue"),
    path("datasets/<slug:slug>/dashboard/", dashboard.dataset_dashboard, name="dashboard"),
]
