"""The compose stack's access logs leave out query strings and the Referer
(issue 18, item 8): an address may once have carried a client's MRN or name (an old
bookmark, a hand-typed ``?mrn=``), and access logs are kept and read far more widely
than the audit trail.

The configuration files are read as text (every test run), then gunicorn is run with
its file and asked for an address with a query string; nginx too when its binary is
installed (``nginx`` on PATH, or ``IOP_NGINX``).
"""

import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
GUNICORN_CONF = ROOT / "docker" / "gunicorn" / "gunicorn.conf.py"
NGINX_CONF = ROOT / "docker" / "proxy" / "nginx.conf"
CONFIG_ARG = ["--config", "docker/gunicorn/gunicorn.conf.py"]

# What would put the query string or the previous address into a log line.
GUNICORN_FORBIDDEN = ("%(r)s", "%(q)s", "%(f)s", "{referer}i", "{referrer}i")
NGINX_FORBIDDEN = {
    "request",  # the request line, query included
    "request_uri",
    "request_body",
    "args",
    "query_string",
    "is_args",
    "http_referer",
}

SECRET_QUERY = "mrn=D1001&q=Quennell"
SECRET_REFERER = "http://clinic.example/clients/?mrn=D1002&name=Oyelaran"
SECRET_WORDS = ("D1001", "Quennell", "D1002", "Oyelaran", "mrn=", "?")


def _gunicorn_settings() -> dict:
    values: dict = {}
    exec(compile(GUNICORN_CONF.read_text(), str(GUNICORN_CONF), "exec"), values)  # noqa: S102
    return values


def test_gunicorn_access_log_format_has_no_query_string_or_referer():
    settings = _gunicorn_settings()
    assert settings["accesslog"] == "-"  # the container's stdout
    fmt = settings["access_log_format"]
    assert "%(U)s" in fmt  # the path, without the query
    for atom in GUNICORN_FORBIDDEN:
        assert atom not in (fmt.lower() if atom.endswith("}i") else fmt), atom


def test_the_image_and_the_compose_web_service_run_gunicorn_with_that_file():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    web = compose["services"]["web"]["command"]
    dockerfile = (ROOT / "Dockerfile").read_text()
    cmd = next(line for line in dockerfile.splitlines() if line.startswith("CMD "))
    image = yaml.safe_load(cmd.removeprefix("CMD "))
    for command in (web, image):
        assert command[0] == "gunicorn"
        joined = " ".join(command)
        assert " ".join(CONFIG_ARG) in joined, command
        # Nothing on the command line puts a format or a log of its own back.
        assert "--access-logformat" not in joined and "--access-logfile" not in joined


def _nginx_directives(text: str) -> list[list[str]]:
    """Each directive of an nginx file as its words (quoted strings joined), comments
    dropped; blocks opened with ``{`` count as directives too."""
    text = re.sub(r"#[^\n]*", "", text)
    directives, words = [], []
    for token in re.findall(r"'[^']*'|\"[^\"]*\"|[{};]|[^\s{};]+", text):
        if token in (";", "{", "}"):
            if words:
                directives.append(words)
            words = []
        else:
            words.append(token.strip("'\""))
    return directives


def test_nginx_logs_with_a_format_that_has_no_query_string_or_referer():
    directives = _nginx_directives(NGINX_CONF.read_text())
    formats = {d[1]: "".join(d[2:]) for d in directives if d[0] == "log_format"}
    access_logs = [d for d in directives if d[0] == "access_log"]
    # The server's own access_log replaces the image's (`main`, which logs $request).
    assert access_logs, "no access_log: nginx would log the image's `main` format"
    for directive in access_logs:
        if directive[1] == "off":
            continue
        assert len(directive) >= 3, f"{directive}: the default `combined` logs $request"
        variables = set(re.findall(r"\$\{?(\w+)", formats[directive[2]]))
        assert "uri" in variables
        assert not variables & NGINX_FORBIDDEN, (directive[2], variables & NGINX_FORBIDDEN)
        assert not any(name.startswith("arg_") for name in variables), variables


# --- The servers themselves --------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(port: int) -> None:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/audit/?{SECRET_QUERY}", headers={"Referer": SECRET_REFERER}
    )
    deadline = time.monotonic() + 20
    while True:
        try:
            with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
                response.read()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _assert_logged_without_secrets(log: Path) -> None:
    deadline = time.monotonic() + 10
    while "/audit/" not in (log.read_text() if log.exists() else ""):
        assert time.monotonic() < deadline, "the request was not logged"
        time.sleep(0.1)
    line = next(line for line in log.read_text().splitlines() if "/audit/" in line)
    assert "GET /audit/ " in line
    for word in SECRET_WORDS:
        assert word not in line, (word, line)


HELLO_APP = """
def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
"""


def test_gunicorn_with_its_file_logs_the_path_without_the_query(tmp_path):
    (tmp_path / "hello.py").write_text(HELLO_APP)
    port, log = _free_port(), tmp_path / "access.log"
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--config",
            str(GUNICORN_CONF),
            "--chdir",
            str(tmp_path),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            # The file's format, written to a file instead of stdout.
            "--access-logfile",
            str(log),
            "hello:application",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _get(port)
        _assert_logged_without_secrets(log)
    finally:
        server.terminate()
        server.wait(timeout=10)


def _nginx() -> str | None:
    return os.environ.get("IOP_NGINX") or shutil.which("nginx")


class _Upstream(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's name)
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


@pytest.mark.skipif(not _nginx(), reason="nginx is not installed (set IOP_NGINX to run it)")
def test_nginx_with_its_file_logs_the_path_without_the_query(tmp_path):
    upstream = ThreadingHTTPServer(("127.0.0.1", 0), _Upstream)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    port, log = _free_port(), tmp_path / "access.log"
    # The repository's file, pointed at this test's upstream, port and log file.
    site = (
        NGINX_CONF.read_text()
        .replace("listen 8000;", f"listen 127.0.0.1:{port};")
        .replace("http://web:8000", f"http://127.0.0.1:{upstream.server_port}")
        .replace("/var/log/nginx/access.log", str(log))
    )
    (tmp_path / "site.conf").write_text(site)
    temp = "\n".join(
        f"    {kind}_temp_path {tmp_path / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    (tmp_path / "nginx.conf").write_text(
        f"daemon off;\nmaster_process off;\npid {tmp_path / 'nginx.pid'};\n"
        f"error_log {tmp_path / 'error.log'};\nevents {{}}\n"
        f"http {{\n    access_log {tmp_path / 'default.log'};\n{temp}\n"
        f"    include {tmp_path / 'site.conf'};\n}}\n"
    )
    command = [_nginx(), "-p", str(tmp_path), "-e", str(tmp_path / "error.log")]
    command += ["-c", str(tmp_path / "nginx.conf")]
    checked = subprocess.run([*command, "-t"], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _get(port)
        _assert_logged_without_secrets(log)
        assert not (tmp_path / "default.log").exists() or not (tmp_path / "default.log").read_text()
    finally:
        server.terminate()
        server.wait(timeout=10)
        upstream.shutdown()
