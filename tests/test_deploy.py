"""The deployment (deploy/, docs/deploy.md) says what the code does.

- `manage.py check --deploy --fail-level WARNING` passes under the production settings,
  with deploy/abonent.env.example filled in as the only environment (so the example is
  complete and loadable, not just a list);
- every variable the code reads from the environment is in the example, and everything
  in the example is read by something;
- the systemd units pass `systemd-analyze verify`, are hardened, and run commands that
  exist; the gunicorn configuration holds only real gunicorn settings and logs JSON;
- the compose file has its services and its files; the nginx site passes `nginx -t` and keeps /metrics and /radius/ private;
- every `manage.py` command the deployment files and the guide use exists.
"""

from __future__ import annotations

import datetime as dt
import inspect
import json
import logging
import os
import re
import runpy
import secrets
import subprocess
import sys
import types
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.core.management import get_commands, load_command_class

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
EXAMPLE = DEPLOY / "abonent.env.example"
UNITS = sorted(DEPLOY.glob("abonent-*.service")) + sorted(DEPLOY.glob("abonent-*.timer"))
GUIDE = ROOT / "docs" / "deploy.md"

ENV_READ = re.compile(
    r"""(?:os\.environ\.get|os\.getenv|os\.environ\.setdefault|env_bool|env_list|env_int)"""
    r"""\(\s*["']([A-Z][A-Z0-9_]+)["']|os\.environ\[\s*["']([A-Z][A-Z0-9_]+)["']\s*\]"""
)
EXAMPLE_LINE = re.compile(r"^#?\s?([A-Z][A-Z0-9_]+)=(.*)$")


def example() -> tuple[dict[str, str], set[str]]:
    """(the variables set in the example, every variable it documents incl. commented)."""
    active: dict[str, str] = {}
    documented: set[str] = set()
    for line in EXAMPLE.read_text().splitlines():
        match = EXAMPLE_LINE.match(line)
        if match:
            documented.add(match.group(1))
            if not line.startswith("#"):
                assert match.group(1) not in active, f"{match.group(1)} set twice"
                value = match.group(2)
                if len(value) >= 2 and value[0] == value[-1] == '"':
                    value = value[1:-1]
                active[match.group(1)] = value
    return active, documented


def read_by_python() -> dict[str, set[str]]:
    """Variable -> the files that read it: settings, the application, gunicorn's config."""
    found: dict[str, set[str]] = {}
    files = [*(ROOT / "config").rglob("*.py"), *(ROOT / "abonent").rglob("*.py")]
    files += [ROOT / "manage.py", DEPLOY / "gunicorn.conf.py", DEPLOY / "prometheus_dir.py"]
    for path in files:
        if "tests" in path.parts or "migrations" in path.parts:
            continue
        for match in ENV_READ.finditer(path.read_text()):
            name = match.group(1) or match.group(2)
            found.setdefault(name, set()).add(str(path.relative_to(ROOT)))
    # dj_database_url.config() reads DATABASE_URL without naming it.
    found.setdefault("DATABASE_URL", set()).add("config/settings/base.py")
    return found


def read_by_shell() -> set[str]:
    """Variables the backup scripts and the units read (${NAME...} and $NAME)."""
    names: set[str] = set()
    for path in [ROOT / "scripts" / "backup.sh", ROOT / "scripts" / "restore.sh", *UNITS]:
        names |= set(re.findall(r"\$\{?([A-Z][A-Z0-9_]+)", path.read_text()))
    return names


def filled_example(database_url: str) -> dict[str, str]:
    """The example with its REQUIRED blanks filled as an operator would: the environment
    of a production server, and nothing else from this machine's."""
    active, _ = example()
    env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG") if key in os.environ}
    env.update(active)
    env.update(
        SECRET_KEY=secrets.token_urlsafe(50),
        RADIUS_API_KEY=secrets.token_hex(32),
        DATABASE_URL=database_url,
        YOOKASSA_SHOP_ID="506751",
        YOOKASSA_SECRET_KEY="live_" + secrets.token_urlsafe(30),
        SMSC_LOGIN="skynet",
        SMSC_PASSWORD=secrets.token_urlsafe(12),
        EMAIL_HOST_USER="noreply@example.net",
        EMAIL_HOST_PASSWORD=secrets.token_urlsafe(12),
    )
    return env


def test_check_deploy_passes_under_production_settings_with_the_example_environment(tmp_path):
    database = settings.DATABASES["default"]
    database_url = "postgres://{user}@{host}:{port}/{name}".format(
        user=database.get("USER") or "postgres",
        host=database.get("HOST") or "127.0.0.1",
        port=database.get("PORT") or 5432,
        name=database["NAME"],
    )
    env = filled_example(database_url)
    assert env["DJANGO_SETTINGS_MODULE"] == "config.settings.production"
    assert env["PAYMENT_PROVIDER"] != "sandbox"
    assert len(env["SECRET_KEY"]) >= 50
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues (0 silenced)." in output
    assert "WARNINGS:" not in output


def test_a_shell_reads_the_example_as_systemd_and_compose_do(tmp_path):
    """deploy/manage.sh and the guide load the file with `set -a; . abonent.env`: it must
    give the same values (a space in a value would otherwise run a command)."""
    active, _ = example()
    script = f"set -a; . {EXAMPLE}; set +a; env -0"
    result = subprocess.run(
        ["bash", "-c", script], env={"PATH": os.environ["PATH"]}, capture_output=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert not result.stderr, result.stderr
    shell = dict(item.split("=", 1) for item in result.stdout.decode().split("\0") if "=" in item)
    assert {key: shell.get(key) for key in active} == active


def test_every_variable_the_code_reads_is_in_the_example():
    _, documented = example()
    missing = {
        name: sorted(files) for name, files in read_by_python().items() if name not in documented
    }
    assert not missing, f"add these to deploy/abonent.env.example: {missing}"


def test_every_variable_in_the_example_is_read_by_something():
    _, documented = example()
    read = set(read_by_python()) | read_by_shell()
    assert documented - read == set(), "the example lists variables nothing reads"


def test_the_example_never_sets_a_variable_to_empty_where_that_differs_from_unset():
    """`KEY=` in an EnvironmentFile is an empty string, not the default: CACHE_URL= would
    turn the shared cache off, YOOKASSA_WEBHOOK_NETWORKS= would refuse every notification,
    GUNICORN_WORKERS= would not start. Optional ones stay commented."""
    active, _ = example()
    may_be_blank = {
        "SECRET_KEY",  # REQUIRED: the settings refuse to start without it
        "RADIUS_API_KEY",  # REQUIRED: check --deploy refuses the default
        "YOOKASSA_SHOP_ID",
        "YOOKASSA_SECRET_KEY",
        "SMSC_LOGIN",
        "SMSC_PASSWORD",
        "EMAIL_HOST_USER",
        "EMAIL_HOST_PASSWORD",
        "VAPID_PUBLIC_KEY",
        "VAPID_PRIVATE_KEY",
    }
    blank = {key for key, value in active.items() if value == ""}
    assert blank <= may_be_blank, blank - may_be_blank


# --- systemd ---------------------------------------------------------------------------


def unit(name: str) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for line in (DEPLOY / name).read_text().splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, value = line.split("=", 1)
            values.setdefault(key.strip(), []).append(value.strip())
    return values


@pytest.mark.parametrize("name", ["abonent-web.service", "abonent-worker.service"])
def test_the_services_run_hardened_as_their_own_user(name):
    values = unit(name)
    assert values["User"] == ["abonent"]
    assert values["EnvironmentFile"] == ["/etc/abonent/abonent.env"]
    for key, expected in {
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "PrivateTmp": "yes",
        "ProtectHome": "yes",
        "CapabilityBoundingSet": "",
    }.items():
        assert values.get(key) == [expected], key
    writable = values["ReadWritePaths"][0].split()
    assert "/opt/abonent/var" in writable
    assert "/opt/abonent" not in writable  # the code stays read-only
    assert "Environment" in values
    assert "PROMETHEUS_MULTIPROC_DIR=/run/abonent/prometheus" in values["Environment"]
    assert any("prometheus_dir.py" in pre for pre in values["ExecStartPre"])


def test_the_web_unit_runs_gunicorn_and_reloads_gracefully():
    values = unit("abonent-web.service")
    assert values["ExecStart"] == [
        "/opt/abonent/.venv/bin/gunicorn --config /opt/abonent/deploy/gunicorn.conf.py"
        " config.wsgi:application"
    ]
    assert values["ExecReload"] == ["/bin/kill -s HUP $MAINPID"]
    assert values["Type"] == ["notify"]  # gunicorn tells systemd when it listens


def test_the_worker_runs_huey_with_the_scheduler_unless_told_otherwise():
    values = unit("abonent-worker.service")
    assert values["ExecStart"] == [
        "/opt/abonent/.venv/bin/python /opt/abonent/manage.py run_huey $HUEY_ARGS"
    ]
    assert "HUEY_ARGS=" in values["Environment"]  # empty: this node schedules
    assert values["KillSignal"] == ["SIGINT"]  # huey's graceful stop
    parser = load_command_class("huey.contrib.djhuey", "run_huey").create_parser(
        "manage.py", "run_huey"
    )
    assert parser.parse_args([]).periodic is None  # huey's default: periodic on
    assert parser.parse_args(["--no-periodic"]).periodic is False
    assert parser.parse_args(["-n"]).periodic is False


def test_the_backup_timer_starts_the_backup_service_nightly():
    timer = unit("abonent-backup.timer")
    assert timer["OnCalendar"] == ["*-*-* 02:30:00"]
    assert timer["Persistent"] == ["true"]
    service = unit("abonent-backup.service")
    assert service["ExecStart"] == ["/opt/abonent/scripts/backup.sh"]
    assert service["ReadWritePaths"] == ["/var/backups/abonent"]
    assert os.access(ROOT / "scripts" / "backup.sh", os.X_OK)
    assert os.access(ROOT / "scripts" / "restore.sh", os.X_OK)


def test_systemd_analyze_verify_accepts_the_units(tmp_path):
    """With /opt/abonent pointing at this checkout, so the commands must exist here."""
    for path in UNITS:
        text = path.read_text().replace("/opt/abonent", str(ROOT))
        (tmp_path / path.name).write_text(text)
    result = subprocess.run(
        ["systemd-analyze", "verify", *(str(tmp_path / p.name) for p in UNITS)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    ours = [line for line in result.stderr.splitlines() if "abonent" in line]
    assert result.returncode == 0, result.stderr
    assert not ours, ours


# --- gunicorn ----------------------------------------------------------------------------


def gunicorn_conf(monkeypatch, **env: str) -> dict:
    for key in [k for k in os.environ if k.startswith("GUNICORN_")]:
        monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))


def test_gunicorn_conf_holds_only_real_settings_with_sane_values(monkeypatch):
    from gunicorn.config import Config

    conf = gunicorn_conf(monkeypatch)
    cfg = Config()
    names = {
        name
        for name, value in conf.items()
        if not name.startswith("_")
        and name.islower()
        and not isinstance(value, types.ModuleType)
        and not (inspect.isclass(value) and name != "logger_class")
        and name not in {"annotations"}
    }
    unknown = names - set(cfg.settings)
    assert not unknown, f"not gunicorn settings (typos?): {unknown}"
    for name in names:
        cfg.set(name, conf[name])  # gunicorn's own validation
    assert cfg.worker_class_str == "gthread"  # rlm_rest keep-alive (decision 9)
    assert cfg.workers == max(2, conf["_cpus"]() + 1)
    assert cfg.threads >= 2
    assert cfg.bind == ["127.0.0.1:8001"]
    assert cfg.accesslog == "-"
    assert cfg.preload_app is False  # SIGHUP must load the new code
    assert cfg.keepalive > 60  # longer than nginx's upstream keepalive_timeout (60 s)
    scaled = gunicorn_conf(monkeypatch, GUNICORN_BIND="10.0.10.11:8001", GUNICORN_WORKERS="9")
    assert scaled["workers"] == 9
    assert scaled["bind"] == ["10.0.10.11:8001"]


def test_gunicorn_access_log_is_one_json_object_per_request(monkeypatch, caplog):
    from gunicorn.config import Config

    conf = gunicorn_conf(monkeypatch)
    cfg = Config()
    cfg.set("accesslog", "-")
    logger = conf["JsonAccessLogger"](cfg)
    response = types.SimpleNamespace(
        status="200 OK", sent=512, headers=[("X-Request-ID", "req-12345678")]
    )
    request = types.SimpleNamespace(headers=[("USER-AGENT", 'evil "quoted" agent')])
    environ = {
        "REQUEST_METHOD": "POST",
        "RAW_URI": "/webhooks/yookassa/?x=1",
        "PATH_INFO": "/webhooks/yookassa/",
        "QUERY_STRING": "x=1",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_X_REAL_IP": "185.71.76.5",
        "HTTP_USER_AGENT": 'evil "quoted" agent',
    }
    lines: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(record.getMessage())  # type: ignore[method-assign]
    logger.access_log.addHandler(handler)
    logger.access(response, request, environ, dt.timedelta(milliseconds=12, microseconds=300))
    line = json.loads(lines[-1])
    assert line["status"] == 200
    assert line["method"] == "POST"
    assert line["path"] == "/webhooks/yookassa/"
    assert line["client"] == "185.71.76.5"  # the client nginx saw, not nginx
    assert line["request_id"] == "req-12345678"
    assert line["user_agent"] == 'evil "quoted" agent'
    assert line["duration_ms"] == 12.3


def test_prometheus_dir_removes_only_files_of_processes_that_are_gone(tmp_path):
    sys.path.insert(0, str(DEPLOY))
    try:
        import prometheus_dir
    finally:
        sys.path.remove(str(DEPLOY))
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    directory = tmp_path / "prometheus"
    directory.mkdir()
    alive = directory / f"counter_{os.getpid()}.db"
    stale = [directory / f"counter_{gone.pid}.db", directory / f"histogram_{gone.pid}.db"]
    for file in [alive, *stale]:
        file.write_bytes(b"\0" * 8)
    assert prometheus_dir.prepare(str(directory)) == 2
    assert sorted(directory.iterdir()) == [alive]
    assert prometheus_dir.prepare(str(tmp_path / "new" / "dir")) == 0
    assert (tmp_path / "new" / "dir").is_dir()


# --- Docker ------------------------------------------------------------------------------


def compose() -> dict:
    return yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())


def test_compose_has_the_services_and_the_files_it_names():
    services = compose()["services"]
    assert {"postgres", "redis", "web", "worker", "freeradius", "nginx"} <= set(services)
    assert services["postgres"]["image"] == "postgres:15"
    assert services["redis"]["image"] == "redis:7"
    assert services["web"]["command"][:3] == ["gunicorn", "--config", "deploy/gunicorn.conf.py"]
    assert services["worker"]["command"] == ["python", "manage.py", "run_huey"]
    assert "--no-periodic" in services["worker-extra"]["command"]
    assert services["worker"]["stop_signal"] == "SIGINT"
    for name in ("web", "worker"):
        environment = services[name]["environment"]
        assert environment["DJANGO_SETTINGS_MODULE"] == "config.settings.production"
        assert environment["DATABASE_URL"].startswith("postgres://abonent:")
        assert environment["REDIS_URL"] == "redis://redis:6379/0"
        assert services[name]["env_file"] == "abonent.env"
        build = services[name]["build"]
        assert (DEPLOY / build["context"] / build["dockerfile"]).is_file()
    assert (DEPLOY / services["freeradius"]["build"]["context"] / "Dockerfile").is_file()
    for volume in services["nginx"]["volumes"]:
        source = volume.split(":")[0]
        if source.startswith("./nginx"):
            assert (DEPLOY / source).is_file(), source
    migrate = " ".join(services["migrate"]["command"])
    assert "migrate --no-input" in migrate
    assert "radius_config" in migrate
    assert "--authorize sql" in migrate


def test_the_dockerfile_builds_a_non_root_gunicorn_image():
    text = (DEPLOY / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim", text, re.M)
    assert "pip install -r requirements/base.txt" in text
    assert "collectstatic --no-input" in text
    assert "compilemessages" in text
    users = re.findall(r"^USER (\S+)", text, re.M)
    assert users
    assert users[-1] not in {"root", "0"}
    assert re.search(r'^CMD \["gunicorn", "--config", "deploy/gunicorn.conf.py"', text, re.M)
    for source in re.findall(r"^COPY (?:--\S+ )*(\S+) ", text, re.M):
        assert (ROOT / source).exists(), source


# --- nginx -------------------------------------------------------------------------------

NGINX = (DEPLOY / "nginx" / "abonent.conf").read_text()


def location(path: str) -> str:
    match = re.search(r"location " + re.escape(path) + r" \{(.*?)\n    \}", NGINX, re.S)
    assert match, path
    return match.group(1)


def test_nginx_takes_a_ticket_message_with_all_its_attachments():
    size = re.search(r"^\s*client_max_body_size (\d+)m;", NGINX, re.M)
    assert size
    limit = settings.ATTACHMENT_MAX_BYTES * settings.ATTACHMENTS_PER_MESSAGE
    assert int(size.group(1)) * 1024 * 1024 > limit
    assert int(size.group(1)) * 1024 * 1024 < 2 * limit  # and not much more


def test_nginx_sends_http_to_https_and_passes_the_client_to_django():
    assert "return 301 https://$host$request_uri;" in NGINX
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in NGINX
    assert "proxy_set_header X-Real-IP $remote_addr;" in NGINX  # overwritten, never passed on
    assert "proxy_set_header Host $host;" in NGINX
    assert re.search(r"ssl_protocols TLSv1\.2 TLSv1\.3;", NGINX)
    upstream = re.search(r"upstream abonent_web \{(.*?)\n\}", NGINX, re.S)
    assert upstream
    assert "server 127.0.0.1:8001" in upstream.group(1)


def test_nginx_keeps_metrics_and_radius_off_the_internet():
    for path in ("= /metrics", "/radius/"):
        block = location(path)
        assert re.search(r"allow [^;]+;\s*(#[^\n]*)?\s*deny all;", block), block


def test_nginx_accepts_the_site(tmp_path):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "billing.example.net")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    (tmp_path / "fullchain.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "privkey.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    site = NGINX.replace("/etc/letsencrypt/live/billing.example.net", str(tmp_path))
    (tmp_path / "site.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log stderr;\nevents {{}}\n"
        f"http {{\n  include /etc/nginx/mime.types;\n  include {tmp_path}/site.conf;\n}}\n"
    )
    result = subprocess.run(
        ["nginx", "-t", "-e", "stderr", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "[warn]" not in result.stderr, result.stderr


# --- the guide ---------------------------------------------------------------------------


def manage_commands(text: str) -> set[str]:
    return set(re.findall(r"manage\.(?:py|sh)\s+([a-z_]+)", text))


def test_every_manage_py_command_the_deployment_uses_exists():
    texts = [GUIDE.read_text(), (DEPLOY / "Dockerfile").read_text()]
    texts += [(DEPLOY / "docker-compose.yml").read_text()]
    texts += [path.read_text() for path in UNITS]
    texts += [(ROOT / "scripts" / name).read_text() for name in ("backup.sh", "restore.sh")]
    used = set().union(*(manage_commands(text) for text in texts))
    assert {"migrate", "collectstatic", "run_huey", "radius_config", "check_balances"} <= used
    unknown = used - set(get_commands())
    assert not unknown, f"no such management commands: {unknown}"


def test_the_guide_covers_every_deployment_file_and_the_operations():
    guide = GUIDE.read_text()
    for path in sorted(DEPLOY.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            assert path.name in guide, f"docs/deploy.md does not mention {path.name}"
    for topic in (
        "--no-periodic",
        "radius_config",
        "--authorize sql",
        "DATABASE_REPLICA_URL",
        "/healthz",
        "/readyz",
        "/metrics",
        "scripts/backup.sh",
        "scripts/restore.sh",
        "check --deploy",
        "systemctl reload abonent-web",
        "compilemessages",
        "createsuperuser",
    ):
        assert topic in guide, topic
