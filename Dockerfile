# syntax=docker/dockerfile:1
# One image per kind of process, from one file (docker-compose.yml picks the target):
#   web    - web app, CPU worker and beat: requirements.txt (no torch)
#   models - plus the transformers engine on CPU: requirements/models.txt (torch 2.13.0 CPU build)
#   gpu    - GPU workers: requirements/gpu.txt, a complete lock with vLLM 0.33.0 and its own CUDA torch,
#            installed INSTEAD of requirements.txt + models.txt
# Nothing downloads model weights: models are mounted read-only at /models.

ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE} AS common
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=prmweb.settings.production \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1
WORKDIR /app
RUN useradd --create-home --uid 1000 prmweb && mkdir -p /data/exports /data/media && chown -R prmweb /data
COPY requirements.txt requirements.in ./
COPY requirements/ requirements/

FROM common AS web
RUN pip install -r requirements.txt
COPY --chown=prmweb . .
# Bytecode at build time: PYTHONDONTWRITEBYTECODE keeps processes from writing it, so without this every
# gunicorn worker and every manage.py call would compile the app's modules again (~1 s of each start).
RUN python -m compileall -q annotations scoring prmweb manage.py
# Base settings (their own, public key): production settings refuse any key a build could know.
RUN DJANGO_SETTINGS_MODULE=prmweb.settings.base python manage.py collectstatic --noinput -v 0
USER prmweb
EXPOSE 8000
CMD ["gunicorn", "prmweb.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "120"]

FROM web AS models
USER root
# models.txt pins torch's CPU build, published on PyTorch's CPU index.
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
RUN pip install --extra-index-url "${TORCH_INDEX_URL}" -r requirements.txt -r requirements/models.txt
USER prmweb

FROM common AS gpu
RUN pip install -r requirements/gpu.txt
COPY --chown=prmweb . .
RUN python -m compileall -q annotations scoring prmweb manage.py
ENV VLLM_WORKER_MULTIPROC_METHOD=spawn
USER prmweb
CMD ["celery", "-A", "prmweb", "worker", "-Q", "gpu", "-P", "solo", "-c", "1", "--prefetch-multiplier=1", "-l", "INFO"]
