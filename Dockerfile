# harborops image: web, worker and beat run from it with different commands (docker-compose.yml).
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 HARBOROPS_DATA_DIR=/data \
    PROMETHEUS_MULTIPROC_DIR=/tmp/prometheus
WORKDIR /app
COPY requirements.txt .
# python-ldap has no wheel: it builds against libldap/libsasl headers (kept: libldap-2.5-0 and
# libsasl2-2 are its runtime libraries); the compiler is removed again in the same layer.
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libldap2-dev libsasl2-dev openssh-client \
    && pip install --no-cache-dir -r requirements.txt \
    && apt-get purge -y gcc && apt-get autoremove -y && rm -rf /var/lib/apt/lists/*
COPY . .
RUN HARBOROPS_SECRET_KEY=build-only python manage.py collectstatic --noinput -v0 \
    && useradd --system --home /app harborops && mkdir -p /data && chown harborops /data
USER harborops
EXPOSE 8000
CMD ["sh", "-c", "mkdir -p $PROMETHEUS_MULTIPROC_DIR && python manage.py migrate --noinput && python manage.py ensure_admin && exec gunicorn harborops.wsgi -c harborops/gunicorn_conf.py --bind 0.0.0.0:8000"]
