"""Base settings: everything lives here; `test` and `production` only override.

The environment is read here and only here (django-environ). With no environment at all the app runs
as the embedded default: a SQLite file, no broker (Celery tasks run in-process after commit), DEBUG off.
"""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
_env_file = BASE_DIR / ".env"
if _env_file.exists():
    env.read_env(str(_env_file))

# The embedded default's key: public, so production settings refuse it (prmweb.settings.production).
DEV_SECRET_KEY = "insecure-embedded-default-key-change-me-for-any-real-deployment"
SECRET_KEY = env("SECRET_KEY", default=DEV_SECRET_KEY)
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI served from our static files: /api/docs/ works offline
    "annotations",
    "scoring",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "prmweb.middleware.RequestIdMiddleware",
    "prmweb.middleware.LengthRequiredMiddleware",
    "prmweb.middleware.DatabaseUnavailableMiddleware",
    "prmweb.middleware.QueryStringGuardMiddleware",
    "prmweb.middleware.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "prmweb.middleware.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "prmweb.urls"
WSGI_APPLICATION = "prmweb.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "prmweb" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
# PostgreSQL: persistent connections (a new one costs a backend fork and authentication, more than most
# requests' queries); each worker thread keeps its own, and runserver's threads close theirs after each
# request. SQLite opens a file in microseconds: a connection per request, as Django's default.
_persistent_seconds = 60 if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" else 0
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=_persistent_seconds)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several threads (runserver, in-process tasks) write the same file: wait instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = ["annotations.auth_backends.ThrottledModelBackend"]
# Failed logins per username + client address before that pair is refused for the window (cache-backed).
LOGIN_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
LOGIN_FAILURE_WINDOW_SECONDS = env.int("LOGIN_FAILURE_WINDOW_SECONDS", default=15 * 60)
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(BASE_DIR / "media"))
EXPORT_ROOT = env.path("EXPORT_ROOT", default=str(BASE_DIR / "exports"))

# Request bodies are size-limited before they are read (Django refuses larger bodies with 400/413).
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=20 * 1024 * 1024)
DATA_UPLOAD_MAX_NUMBER_FIELDS = 2000

CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    # Fail fast while Redis is away (the login throttle then counts in process memory): never hang a login.
    CACHES["default"].setdefault("OPTIONS", {}).update({"socket_connect_timeout": 2, "socket_timeout": 2})

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "prmweb.api.errors.api_exception_handler",
    "DEFAULT_PARSER_CLASSES": ["prmweb.parsers.StrictJSONParser"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "prmweb API",
    "DESCRIPTION": "Ingest step-by-step math solutions, read labels and suggestions, start exports.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",  # tags from the path after it ("exports", not "v1")
    # Offline docs under CSP script-src 'self': Swagger UI from drf-spectacular-sidecar's static files,
    # its init script from SpectacularSwaggerSplitView (no inline JavaScript).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "SolutionStatusEnum": "annotations.models.solutions.SolutionStatus",
        "SuggestionStatusEnum": "annotations.models.labels.SuggestionStatus",
        "ExportStatusEnum": "annotations.models.exports.ExportStatus",
    },
}

# Celery. No broker configured -> the embedded default: tasks run in-process, after the commit.
_broker_url = env("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not _broker_url
# Eager tasks never reach a broker; "memory://" keeps kombu from guessing (and warning about) localhost.
CELERY_BROKER_URL = _broker_url or "memory://localhost/"
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_QUEUES_NAMES = ("default", "gpu")
# Each scoring method's task goes to the queue the method registry names (scoring.methods.registry).
CELERY_TASK_ROUTES = [
    "scoring.tasks.route_by_method",
    {"annotations.tasks.run_export": {"queue": "default"}, "annotations.tasks.render_figure": {"queue": "default"}},
]
# Must exceed the slowest task, or Redis redelivers a task that is still running.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=6 * 3600),
    # A worker looks for unacknowledged tasks past the visibility timeout (a killed worker's) every
    # interval x throttle seconds (kombu's defaults: 10 x 10).
    "unacked_restore_interval": env.int("CELERY_UNACKED_RESTORE_INTERVAL", default=10),
    "unacked_restore_throttle": env.int("CELERY_UNACKED_RESTORE_THROTTLE", default=10),
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE = {
    "sweep-missing-suggestions": {
        "task": "scoring.tasks.sweep_missing_suggestions",
        "schedule": env.float("SWEEP_INTERVAL_SECONDS", default=300.0),
    },
    "sweep-missing-answer-checks": {
        "task": "annotations.tasks.sweep_missing_answer_checks",
        "schedule": env.float("SWEEP_INTERVAL_SECONDS", default=300.0),
    },
    "release-expired-claims": {
        "task": "annotations.tasks.release_expired_claims",
        "schedule": 60.0,
    },
}

# The sweep re-enqueues a solution's missing final-answer check once it is this old (a check queued at
# ingestion normally runs well before).
ANSWER_CHECK_SWEEP_AFTER_SECONDS = env.int("ANSWER_CHECK_SWEEP_AFTER_SECONDS", default=300)

# Asymptote diagrams of problems (`[asy]`), drawn by a CPU worker (annotations.services.figures reads these
# lazily). Without the binary (Debian: apt-get install asymptote dvisvgm), diagrams show as their source.
ASYMPTOTE_BINARY = env("ASYMPTOTE_BINARY", default="asy")
ASYMPTOTE_TIMEOUT_SECONDS = env.float("ASYMPTOTE_TIMEOUT_SECONDS", default=20.0)
ASYMPTOTE_MEMORY_MB = env.int("ASYMPTOTE_MEMORY_MB", default=1024)
ASYMPTOTE_MODULES_DIR = env("ASYMPTOTE_MODULES_DIR", default="")  # extra .asy modules, e.g. AoPS's olympiad

# Called after ingestion commits, with the ids of new solutions (annotations never imports scoring): the
# first with those whose steps exist (suggestions), the second with responses sent with segmentation
# "reformat", which wait for the judge engine to re-split them.
PRMWEB_SOLUTIONS_INGESTED_HOOK = "scoring.services.solutions_ingested"
PRMWEB_REFORMAT_HOOK = "scoring.services.reformat_enqueue"
# The suggestion methods (names, titles, queues, options) are scoring.methods.registry's; the scoring app
# registers them with annotations at start-up (scoring.apps), so no setting lists them.

# Scoring engines and methods (read lazily by scoring.engines.config and scoring.configuration).
# Each role names an engine (transformers | openai | vllm) and a model: a local folder for transformers
# and vllm (nothing is downloaded), the served model name for openai.
_scoring_openai_url = env("SCORING_OPENAI_BASE_URL", default="")
SCORING_ENGINES = {
    "generation": {  # MC rollouts
        "ENGINE": env("SCORING_GENERATION_ENGINE", default="transformers"),
        "MODEL": env("SCORING_GENERATION_MODEL", default=""),
        "BASE_URL": env("SCORING_GENERATION_URL", default=_scoring_openai_url),
        "API": env("SCORING_GENERATION_OPENAI_API", default="chat"),  # openai engine: chat | completions
    },
    "judge": {
        "ENGINE": env("SCORING_JUDGE_ENGINE", default="transformers"),
        "MODEL": env("SCORING_JUDGE_MODEL", default=""),
        "BASE_URL": env("SCORING_JUDGE_URL", default=_scoring_openai_url),
        "API": env("SCORING_JUDGE_OPENAI_API", default="chat"),
    },
    "prm": {
        "ENGINE": env("SCORING_PRM_ENGINE", default="transformers"),
        "MODEL": env("SCORING_PRM_MODEL", default=""),
        "GPU_MEMORY_UTILIZATION": env.float("SCORING_PRM_GPU_MEMORY_UTILIZATION", default=0.3),
    },
}
SCORING_OPENAI_API_KEY = env("SCORING_OPENAI_API_KEY", default="")
SCORING_OPENAI_TIMEOUT_SECONDS = env.float("SCORING_OPENAI_TIMEOUT_SECONDS", default=300.0)
SCORING_OPENAI_MAX_RETRIES = env.int("SCORING_OPENAI_MAX_RETRIES", default=4)
SCORING_OPENAI_PROMPTS_PER_REQUEST = env.int("SCORING_OPENAI_PROMPTS_PER_REQUEST", default=32)
SCORING_OPENAI_CONCURRENCY = env.int("SCORING_OPENAI_CONCURRENCY", default=8)  # chat requests in flight
SCORING_DEVICE = env("SCORING_DEVICE", default="auto")  # transformers: auto | cpu | cuda | cuda:1
SCORING_DTYPE = env("SCORING_DTYPE", default="auto")
SCORING_ENGINE_BATCH_SIZE = env.int("SCORING_ENGINE_BATCH_SIZE", default=8)  # transformers prompts per forward
SCORING_TORCH_THREADS = env.int("SCORING_TORCH_THREADS", default=0)  # transformers on CPU; 0: torch's default
SCORING_VLLM_GPU_MEMORY_UTILIZATION = env.float("SCORING_VLLM_GPU_MEMORY_UTILIZATION", default=0.55)
SCORING_VLLM_MAX_MODEL_LEN = env.int("SCORING_VLLM_MAX_MODEL_LEN", default=None)
SCORING_SEED = env.int("SCORING_SEED", default=0)
SCORING_PRM_SEPARATOR = env("SCORING_PRM_SEPARATOR", default="<extra_0>")
SCORING_MC = {
    "ROLLOUTS_PER_STEP": env.int("SCORING_MC_ROLLOUTS", default=8),
    "STRATEGY": env("SCORING_MC_STRATEGY", default="binary"),
    "EARLY_STOP": env.bool("SCORING_MC_EARLY_STOP", default=True),
    "HARD_LABEL_ONLY": env.bool("SCORING_MC_HARD_LABEL_ONLY", default=False),
    "CONFIRM": env.bool("SCORING_MC_CONFIRM", default=True),  # binary: re-sample the boundary once
    "MAX_TOKENS": env.int("SCORING_MC_MAX_TOKENS", default=1024),
    "TEMPERATURE": env.float("SCORING_MC_TEMPERATURE", default=0.7),
    "TOP_P": env.float("SCORING_MC_TOP_P", default=1.0),
    "PROMPT_FORMAT": env("SCORING_MC_PROMPT_FORMAT", default="chat"),  # chat | text (base models)
    "SYSTEM_PROMPT": env(
        "SCORING_MC_SYSTEM_PROMPT", default="Please reason step by step, and put your final answer within \\boxed{}."
    ),
    "STOP": env.list("SCORING_MC_STOP", default=["<|im_end|>", "<|endoftext|>", "<|im_start|>"]),
}
SCORING_JUDGE = {
    "SAMPLES": env.int("SCORING_JUDGE_SAMPLES", default=1),
    "MAX_TOKENS": env.int("SCORING_JUDGE_MAX_TOKENS", default=8192),  # ProcessBench's budget; capped by the context
    "TEMPERATURE": env.float("SCORING_JUDGE_TEMPERATURE", default=0.0),
    "TOP_P": env.float("SCORING_JUDGE_TOP_P", default=1.0),
    "TOP_K": env.int("SCORING_JUDGE_TOP_K", default=None),  # unset: off; Qwen2.5-Math voting uses 20
    "TEMPLATE": env("SCORING_JUDGE_TEMPLATE", default=""),  # a prompt file; empty: ProcessBench's
    "PROMPT_FORMAT": env("SCORING_JUDGE_PROMPT_FORMAT", default="chat"),  # chat | text (base models)
    "VOTING": env("SCORING_JUDGE_VOTING", default="processbench"),  # processbench | parseable_majority
}
SCORING_PRM = {
    "THRESHOLD": env.float("SCORING_PRM_THRESHOLD", default=0.5),
    "PROMPT_FORMAT": env("SCORING_PRM_PROMPT_FORMAT", default="chat"),  # chat | text (no chat template)
}
# segmentation "reformat": the budget of the judge's reply (the whole response, re-split), capped by the context.
SCORING_REFORMAT_MAX_TOKENS = env.int("SCORING_REFORMAT_MAX_TOKENS", default=8192)
SCORING_TASK_BATCH_SIZE = env.int("SCORING_TASK_BATCH_SIZE", default=16)  # solutions per Celery task
# A suggestion queued or running longer than this is presumed lost and re-enqueued by the sweep.
SCORING_STUCK_AFTER_SECONDS = env.int(
    "SCORING_STUCK_AFTER_SECONDS", default=CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] + 600
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "prmweb.logging.RequestIdFilter"}},
    "formatters": {"json": {"()": "prmweb.logging.JsonFormatter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["request_id"]},
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # In-process (eager) tasks would log a success line per task into the embedded default's console.
        "celery.app.trace": {"level": "WARNING" if CELERY_TASK_ALWAYS_EAGER else "INFO"},
    },
}

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
CSRF_FAILURE_VIEW = "prmweb.views.csrf_failure"  # the site's 403 page, saying what to do
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
