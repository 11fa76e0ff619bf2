"""Celery application: queues `default` (CPU work, exports) and `gpu` (model methods)."""

import os

from celery import Celery, Task

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prmweb.settings.base")

app = Celery("prmweb")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def task_by_name(name: str) -> Task:
    """Return the Celery task registered under `name`.

    Services send work by task name, so they never import the tasks modules (tasks import services);
    each app's `ready()` imports its tasks, so every Django process has them registered. Raises
    celery's NotRegistered (a KeyError) for an unknown name.
    """
    task: Task = app.tasks[name]
    return task
