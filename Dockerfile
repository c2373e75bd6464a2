# newsdedup as a container: `docker compose up` runs it as `newsdedup serve ...`
# against the compose MongoDB and Prefect server (see docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
# The whole build context minus what .dockerignore leaves out (.env, .venv, .git, ...).
COPY . /src
RUN pip install . \
    && useradd --create-home --uid 10001 --shell /usr/sbin/nologin newsdedup \
    && mkdir -p /data/inbox \
    && chown newsdedup:newsdedup /data/inbox

USER newsdedup
WORKDIR /home/newsdedup
# The aligner's compiled kernels (tasks/align_kernels.py), compiled once here into this user's cache
# (~/.cache/numba: site-packages is not theirs to write) rather than by the first run of every container.
RUN python -m newsdedup.tasks.align_kernels
# Only used when MONGODB_URI is unset (embedded SecantusDB): keep its state in the home.
ENV NEWSDEDUP_HOME=/home/newsdedup/.newsdedup \
    NEWSDEDUP_SEEDS=/src/seeds

ENTRYPOINT ["newsdedup"]
CMD ["--help"]
