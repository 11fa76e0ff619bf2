"""Celery application: queues `default` (CPU work, exports) and `gpu` (model methods)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prmweb.settings.base")

app = Celery("prmweb")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
