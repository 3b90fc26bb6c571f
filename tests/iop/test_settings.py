import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def _run(env_overrides, *args):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "IOP_"))}
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_refuses_to_start_with_debug_off_and_no_secret_key():
    result = _run({"DJANGO_DEBUG": "0"}, "check")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is required" in result.stderr


def test_deploy_check_passes_with_production_settings():
    result = _run(
        {
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": "p" * 20
            + "production-like-secret-key-with-enough-entropy-9876543210",
            "DJANGO_ALLOWED_HOSTS": "clinic.example.org",
            "IOP_AUDIT_KEY": "k" * 40,
            "DJANGO_DEFAULT_FROM_EMAIL": "appointments@clinic.example.org",
        },
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
    )
    assert result.returncode == 0, result.stdout + result.stderr


PRODUCTION = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "p" * 20 + "production-like-secret-key-with-enough-entropy-9876543210",
    "DJANGO_ALLOWED_HOSTS": "clinic.example.org",
    "IOP_AUDIT_KEY": "k" * 40,
}


def test_the_deploy_check_warns_while_client_email_goes_from_localhost():
    result = _run(PRODUCTION, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode != 0
    assert "iop.W001" in result.stderr + result.stdout
    assert "DJANGO_DEFAULT_FROM_EMAIL" in result.stderr + result.stdout


def test_the_sender_is_a_configured_name_and_address():
    show = "from django.conf import settings; print(settings.DEFAULT_FROM_EMAIL)"
    named = _run(
        {
            "DJANGO_DEBUG": "1",
            "IOP_MAIL_FROM_NAME": "Harbor Street Offices",
            "DJANGO_DEFAULT_FROM_EMAIL": "appointments@clinic.example.org",
        },
        "shell",
        "-c",
        show,
    )
    sender = named.stdout.strip().splitlines()[-1]
    assert sender == "Harbor Street Offices <appointments@clinic.example.org>"
    plain = _run(
        {"DJANGO_DEBUG": "1", "DJANGO_DEFAULT_FROM_EMAIL": "appointments@clinic.example.org"},
        "shell",
        "-c",
        show,
    )
    assert plain.stdout.strip().splitlines()[-1] == "appointments@clinic.example.org"


def test_refuses_to_start_with_debug_off_and_no_audit_key():
    result = _run({"DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": "x" * 60}, "check")
    assert result.returncode != 0
    assert "IOP_AUDIT_KEY is required" in result.stderr
    short = _run(
        {"DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": "x" * 60, "IOP_AUDIT_KEY": "short"}, "check"
    )
    assert "at least 32 characters" in short.stderr


def test_debug_runs_without_an_audit_key():
    assert _run({"DJANGO_DEBUG": "1"}, "check").returncode == 0


def test_seed_demo_refuses_with_debug_off():
    result = _run(
        {"DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": "x" * 60, "IOP_AUDIT_KEY": "k" * 40},
        "seed_demo",
    )
    assert result.returncode != 0
    assert "only runs with DJANGO_DEBUG=1" in result.stderr


def test_docker_compose_names_the_services_with_health_checks():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"db", "redis", "web", "worker", "beat"} <= set(services)
    for name in ("db", "redis", "web"):
        assert "healthcheck" in services[name], name
    app_env = services["web"]["environment"]
    assert app_env["IOP_TRUSTED_PROXY_COUNT"] == "1"
    assert "IOP_AUDIT_KEY" in app_env
    assert "iop_app" in app_env["DATABASE_URL"]  # the app is not the tables' owner
    assert "gunicorn" in " ".join(map(str, services["web"]["command"]))


def test_docker_compose_scales_web_behind_one_proxy():
    """`docker compose up --scale web=2`: nothing pins a web container (name, host
    port), the migrations run once before any of them, one proxy round-robins to
    web:8000 and appends X-Forwarded-For for the one proxy the app trusts, and the
    report files live on a volume every web container shares with the worker."""
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    web, worker, proxy = services["web"], services["worker"], services["proxy"]
    assert "container_name" not in web
    assert "ports" not in web and web["expose"] == ["8000"]
    assert "migrate" not in " ".join(map(str, web["command"]))
    assert "migrate" in " ".join(map(str, services["migrate"]["command"]))
    for name in ("web", "worker", "beat"):
        assert services[name]["depends_on"]["migrate"] == {
            "condition": "service_completed_successfully"
        }, name
    assert proxy["depends_on"]["web"] == {"condition": "service_healthy"}
    assert proxy["ports"] == ["8000:8000"]
    assert "beat" not in web["command"] and "deploy" not in services["beat"]

    def mount(service, target):
        return next(v.split(":")[0] for v in service["volumes"] if v.split(":")[1] == target)

    assert mount(web, "/app/var/reports") == mount(worker, "/app/var/reports") == "reports"
    assert web["environment"]["IOP_REPORTS_DIR"] == "/app/var/reports"
    assert "IOP_REPORTS_S3_BUCKET" not in web["environment"]
    assert web["environment"]["IOP_TRUSTED_PROXY_COUNT"] == "1"

    config_file = mount(proxy, "/etc/nginx/conf.d/default.conf")
    config = (ROOT / config_file).read_text()
    assert "proxy_pass $web;" in config and "set $web http://web:8000;" in config
    assert "resolver 127.0.0.11" in config  # re-resolved: every scaled container
    assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;" in config
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in config
    assert "proxy_set_header Host $http_host;" in config
    # The broker keeps queued tasks across a restart.
    assert "--appendonly" in services["redis"]["command"]
    assert (
        services["redis"]["command"][services["redis"]["command"].index("--appendonly") + 1]
        == "yes"
    )


def test_dotenv_gives_defaults_but_never_overrides_the_environment(tmp_path, monkeypatch):
    from iop.settings import _load_dotenv

    env_file = tmp_path / ".env"
    env_file.write_text("# comment\nIOP_TEST_ONLY_A=from-file\nIOP_TEST_ONLY_B=from-file\n")
    monkeypatch.setenv("IOP_TEST_ONLY_B", "from-environment")
    monkeypatch.delenv("IOP_TEST_ONLY_A", raising=False)
    _load_dotenv(env_file)
    assert os.environ["IOP_TEST_ONLY_A"] == "from-file"
    assert os.environ["IOP_TEST_ONLY_B"] == "from-environment"
    monkeypatch.delenv("IOP_TEST_ONLY_A")


def test_the_checkout_refuses_debug_off_without_a_key_even_with_a_dotenv():
    # `make install` writes .env with DJANGO_DEBUG=1; an explicit 0 must still win.
    result = _run({"DJANGO_DEBUG": "0"}, "check")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is required" in result.stderr


def test_filesystem_broker_keeps_its_control_folder_under_var(tmp_path):
    # kombu's default control folder is ./control: it landed in the checkout and in git.
    result = _run(
        {"DJANGO_DEBUG": "1", "IOP_VAR_DIR": str(tmp_path), "REDIS_URL": ""},
        "shell",
        "-c",
        "from django.conf import settings;"
        " print(settings.CELERY_BROKER_TRANSPORT_OPTIONS['control_folder'])",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == str(tmp_path / "celery-broker" / "control")
    assert not (ROOT / "control").exists()


_STORAGE_PROBE = (
    "from django.core.files.storage import storages; s = storages['reports']; "
    "print(type(s).__module__ + '.' + type(s).__name__); "
    "print(getattr(s, 'bucket_name', '-'), getattr(s, 'endpoint_url', '-'), "
    "getattr(s, 'region_name', '-'), getattr(s, 'default_acl', '-'))"
)


def test_report_files_go_to_the_file_system_by_default():
    result = _run({"DJANGO_DEBUG": "1"}, "shell", "--no-imports", "-c", _STORAGE_PROBE)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == (
        "django.core.files.storage.filesystem.FileSystemStorage"
    )


def test_report_files_go_to_s3_compatible_storage_when_configured():
    """The switch only: the storage is built, nothing is sent (no network in tests)."""
    result = _run(
        {
            "DJANGO_DEBUG": "1",
            "IOP_REPORTS_S3_BUCKET": "clinic-reports",
            "IOP_REPORTS_S3_ENDPOINT_URL": "https://objects.example.org",
            "IOP_REPORTS_S3_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "test-key-id",
            "AWS_SECRET_ACCESS_KEY": "test-secret",
        },
        "shell",
        "--no-imports",
        "-c",
        _STORAGE_PROBE,
    )
    assert result.returncode == 0, result.stderr
    backend, settings_line = result.stdout.splitlines()[:2]
    assert backend == "storages.backends.s3.S3Storage"
    # Private: no ACL granted, so the bucket's own (private) policy holds.
    assert settings_line == "clinic-reports https://objects.example.org us-east-1 None"


_DATABASE_PROBE = (
    "from django.conf import settings; d = settings.DATABASES['default']; "
    "print(d['CONN_MAX_AGE'], d['CONN_HEALTH_CHECKS'], d['DISABLE_SERVER_SIDE_CURSORS'])"
)


def test_database_connections_are_kept_and_checked_and_cursors_suit_a_pooler():
    url = "postgres://iop_app:secret@pgbouncer.internal:6432/iop"
    default = _run(
        {"DJANGO_DEBUG": "1", "DATABASE_URL": url}, "shell", "--no-imports", "-c", _DATABASE_PROBE
    )
    assert default.returncode == 0, default.stderr
    assert default.stdout.split() == ["60", "True", "False"]
    pooled = _run(
        {
            "DJANGO_DEBUG": "1",
            "DATABASE_URL": url,
            "DJANGO_DISABLE_SERVER_SIDE_CURSORS": "1",
            "DJANGO_CONN_MAX_AGE": "0",
        },
        "shell",
        "--no-imports",
        "-c",
        _DATABASE_PROBE,
    )
    assert pooled.returncode == 0, pooled.stderr
    assert pooled.stdout.split() == ["0", "True", "True"]


def test_the_apps_postgresql_connections_run_without_jit(db):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"
    probe = (
        "from django.conf import settings; "
        "print(settings.DATABASES['default'].get('OPTIONS', {}).get('options'))"
    )
    url = "postgres://iop_app:secret@db.internal:5432/iop"
    on = _run({"DJANGO_DEBUG": "1", "DATABASE_URL": url}, "shell", "--no-imports", "-c", probe)
    assert on.stdout.strip() == "-c jit=off", on.stderr
    off = _run(
        {"DJANGO_DEBUG": "1", "DATABASE_URL": url, "DJANGO_PG_JIT_OFF": "0"},
        "shell",
        "--no-imports",
        "-c",
        probe,
    )
    assert off.stdout.strip() == "None", off.stderr


_WINDOWS_PROBE = (
    "from django.conf import settings; "
    "print(settings.IOP_ATTENDANCE_OPENS_MINUTES, settings.IOP_ABSENCE_GRACE_MINUTES)"
)


def test_the_attendance_windows_come_from_the_environment():
    default = _run({"DJANGO_DEBUG": "1"}, "shell", "--no-imports", "-c", _WINDOWS_PROBE)
    assert default.stdout.split() == ["30", "15"], default.stderr
    chosen = _run(
        {
            "DJANGO_DEBUG": "1",
            "IOP_ATTENDANCE_OPENS_MINUTES": "20",
            "IOP_ABSENCE_GRACE_MINUTES": "10",
        },
        "shell",
        "--no-imports",
        "-c",
        _WINDOWS_PROBE,
    )
    assert chosen.stdout.split() == ["20", "10"], chosen.stderr
    for value, message in (
        ("-5", "must not be negative"),
        ("soon", "must be a whole number of minutes"),
    ):
        refused = _run({"DJANGO_DEBUG": "1", "IOP_ABSENCE_GRACE_MINUTES": value}, "check")
        assert refused.returncode != 0
        assert f"IOP_ABSENCE_GRACE_MINUTES {message}" in refused.stderr


def test_the_authorized_codes_come_from_the_environment():
    probe = "from django.conf import settings; print(*settings.IOP_BILLING_AUTHORIZED_CODES)"
    default = _run({"DJANGO_DEBUG": "1"}, "shell", "--no-imports", "-c", probe)
    assert default.stdout.split() == ["H0015"], default.stderr
    chosen = _run(
        {"DJANGO_DEBUG": "1", "IOP_BILLING_AUTHORIZED_CODES": "h0015, 90837"},
        "shell",
        "--no-imports",
        "-c",
        probe,
    )
    assert chosen.stdout.split() == ["H0015", "90837"], chosen.stderr
    refused = _run({"DJANGO_DEBUG": "1", "IOP_BILLING_AUTHORIZED_CODES": "H0015,9083"}, "check")
    assert refused.returncode != 0
    assert "IOP_BILLING_AUTHORIZED_CODES must be HCPCS/CPT codes" in refused.stderr
