"""Celery application: queues `default` (CPU work, exports) and `gpu` (model methods).

`celery -A prmweb worker` (or `beat`) finds `app` here; on start it imports every installed app's
`tasks` module (autodiscovery, after Django's set-up). Django processes import this module only when
they first send a task (`prmweb.taskqueue`), so start-up does not pay for Celery and kombu.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prmweb.settings.base")

app = Celery("prmweb")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
