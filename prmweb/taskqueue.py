"""Find Celery tasks by name, loading Celery and the tasks modules on first use (not at start-up).

Services send work by task name, so they never import the tasks modules (tasks import services).
A process that never sends a task (`manage.py help`, `migrate`, most web requests) never imports
Celery or kombu; a worker or beat has loaded both already (`celery -A prmweb`).
"""

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from celery import Celery, Task

_lock = threading.Lock()
_tasks_loaded = False


def celery_app() -> "Celery":
    """Return the project's Celery app with every installed app's tasks registered (imported once)."""
    global _tasks_loaded
    from prmweb.celery import app

    if not _tasks_loaded:
        with _lock:  # Celery's autodiscovery is not thread-safe: a second thread would find nothing
            if not _tasks_loaded:
                app.autodiscover_tasks(force=True)
                _tasks_loaded = True
    return app


def task_by_name(name: str) -> "Task":
    """Return the Celery task registered under `name`.

    Raises celery's NotRegistered (a KeyError) for an unknown name.
    """
    task: Task = celery_app().tasks[name]
    return task
