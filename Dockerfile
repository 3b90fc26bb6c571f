FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 IOP_VAR_DIR=/app/var
WORKDIR /app
COPY pyproject.toml ./
COPY . .
# A named volume mounted on /app/var/audit or /app/var/reports starts with this owner.
RUN pip install --no-cache-dir . \
 && DJANGO_DEBUG=0 DJANGO_SECRET_KEY=build-only IOP_AUDIT_KEY=build-only-not-a-real-audit-key-0123456789 \
    DJANGO_STATIC_MANIFEST=1 python manage.py collectstatic --noinput \
 && mkdir -p /app/var/audit /app/var/reports && useradd --create-home clinic && chown -R clinic /app/var
USER clinic
EXPOSE 8000
CMD ["gunicorn", "iop.wsgi:application", "--config", "docker/gunicorn/gunicorn.conf.py", "--bind", "0.0.0.0:8000", "--workers", "3"]
