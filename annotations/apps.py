from django.apps import AppConfig


class AnnotationsConfig(AppConfig):
    name = "annotations"
    verbose_name = "Annotations"

    def ready(self) -> None:
        """Register the Celery tasks, which services send by name."""
        from annotations import tasks  # noqa: F401
