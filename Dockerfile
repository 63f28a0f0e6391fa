# The production image: gunicorn serving the Django backend on APP_PORT (8000) as an
# unprivileged user, static files collected at build time.
#
# Two stages so that mysqlclient's compilers and headers never reach the runtime
# image: `build` compiles the virtualenv, `runtime` keeps only the MariaDB client
# library it links against. tests/test_image.py replays this file's steps on the
# host (no Docker engine there) and serves with its exact command and environment.

FROM python:3.11-slim-bookworm AS build

RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential default-libmysqlclient-dev pkg-config \
 && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/venv
COPY requirements/ /tmp/requirements/
# production: base + MySQL client. azure: that plus Azure Monitor (Application Insights) telemetry.
ARG REQUIREMENTS=production
RUN /opt/venv/bin/pip install --no-cache-dir --disable-pip-version-check -r "/tmp/requirements/${REQUIREMENTS}.txt"


FROM python:3.11-slim-bookworm AS runtime

# libmariadb3: the client library mysqlclient was built against.
# ca-certificates: DigiCert Global Root G2 and Microsoft RSA Root CA 2017, which
# Azure Database for MySQL certificates chain to (DB_SSL_VERIFY=true uses them).
RUN apt-get update \
 && apt-get install -y --no-install-recommends libmariadb3 ca-certificates \
 && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 app \
 && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home --shell /usr/sbin/nologin app

COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1

WORKDIR /app
# Owned by root and read-only to the app user: the service never writes its own code.
COPY . .
# A build-time key only: settings refuse to load without one, and collectstatic signs nothing.
RUN SECRET_KEY=collectstatic-at-build-time-only-never-a-real-key ENV_FILE='' python manage.py collectstatic --no-input -v 0

ARG APP_VERSION=""
ENV APP_PORT=8000 \
    ENV_FILE= \
    LOG_FORMAT=json \
    APP_VERSION=$APP_VERSION

# The numeric id of the 'app' user created above (orchestrators check runAsNonRoot by number).
USER 10001:10001
EXPOSE 8000
# /ready touches no database, so a database outage never marks the container unhealthy.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "/app/docker/healthcheck.py"]
ENTRYPOINT ["/app/docker/entrypoint.sh"]
CMD ["gunicorn", "-c", "gunicorn.conf.py"]
