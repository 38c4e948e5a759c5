"""The production shape, read from its files: docker-compose.yml, the Caddyfile, the Dockerfile,
.dockerignore and the requirements. Docker has no daemon here, so these are the offline checks
the compose schema (``make lint``) cannot make: cross-references, pins, exposure, profiles."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import subprocess
from pathlib import Path

import pytest

from tests.deploy import compose

ROOT = compose.ROOT
PROXY = "proxy"
PORTAL_SERVICES = ("migrate", "web", "worker", "beat")
LONG_RUNNING = ("web", "worker", "beat", "proxy", "db", "redis")
PORTAL_PACKAGES = ("vlsc_portal", "accounts", "agreements", "notifications", "support", "api")
DEV_ONLY = {"honcho", "django-oauth-toolkit", "trustme"}
TEST_ONLY = {
    "pytest",
    "pytest-django",
    "pytest-cov",
    "coverage",
    "playwright",
    "pytest-playwright",
    "ruff",
    "check-jsonschema",
    "ruamel.yaml",
    "pre-commit",
    "django-upgrade",
    "djlint",
    "mypy",
    "django-stubs",
    "django-stubs-ext",
    "types-requests",
    "celery-types",
    "schemathesis",
    "polib",  # the translation catalogues' test (tests/platform/test_catalogues.py)
}


@pytest.fixture(scope="module")
def services() -> dict:
    return compose.load()["services"]


def production_services(services: dict) -> dict:
    return {name: s for name, s in services.items() if not s.get("profiles")}


def test_every_image_is_pinned_to_a_release_never_latest(services):
    for name, service in services.items():
        image = service["image"]
        if "build" in service:  # the portal's own image, built from this repository
            assert image == "vlsc-portal:local", name
            continue
        repository, _, tag = image.rpartition(":")
        # An exact release: major.minor.patch (PostgreSQL numbers its releases major.minor).
        release = r"\d+\.\d+" if repository == "postgres" else r"v?\d+\.\d+\.\d+"
        assert repository and re.fullmatch(release, tag), f"{name}: {image}"


def test_only_the_proxy_publishes_ports(services):
    for name, service in production_services(services).items():
        if name == PROXY:
            assert sorted(service["ports"]) == ["443:443", "80:80"]
        else:
            assert "ports" not in service, f"{name} publishes {service['ports']}"
    for name, service in services.items():  # development-only services: this machine only
        if service.get("profiles"):
            assert all(port.startswith("127.0.0.1:") for port in service.get("ports", [])), name


def test_mailpit_exists_only_in_the_dev_profile_and_nothing_in_production_needs_it(services):
    mail = [name for name, s in services.items() if "mailpit" in s.get("image", "")]
    assert mail == ["mail"]
    assert services["mail"]["profiles"] == ["dev"]
    for name, service in production_services(services).items():
        assert "mail" not in service.get("depends_on", {}), name
        assert "EMAIL_HOST" not in service.get("environment", {}), f"{name}: SMTP comes from .env"


def test_every_dependency_names_a_service_with_a_condition(services):
    conditions = {"service_started", "service_healthy", "service_completed_successfully"}
    for name, service in services.items():
        for dependency, spec in service.get("depends_on", {}).items():
            assert dependency in services, f"{name} depends on unknown {dependency}"
            assert spec["condition"] in conditions
            if spec["condition"] == "service_healthy":
                assert "healthcheck" in services[dependency], f"{dependency} has no health check"


def test_web_worker_and_beat_start_only_after_migrate_succeeded(services):
    assert compose.command(services["migrate"]) == ["python", "manage.py", "migrate", "--noinput"]
    for name in ("web", "worker", "beat"):
        assert services[name]["depends_on"]["migrate"] == {
            "condition": "service_completed_successfully"
        }
        assert "migrate" not in " ".join(compose.command(services[name])), name
    assert services[PROXY]["depends_on"] == {"web": {"condition": "service_healthy"}}


def test_migrate_runs_once_and_every_other_service_restarts_unless_stopped(services):
    assert services["migrate"]["restart"] == "no"
    for name, service in services.items():
        if name != "migrate":
            assert service["restart"] == "unless-stopped", name


def test_long_running_services_have_health_checks_and_beats_proves_scheduling(services):
    for name in LONG_RUNNING:
        assert services[name]["healthcheck"]["test"][0] in {"CMD", "CMD-SHELL"}, name
    assert compose.healthcheck(services["beat"]) == [
        "python",
        "manage.py",
        "beat_alive",
        "--max-age",
        "120",
    ]
    worker_check = compose.healthcheck(services["worker"])
    assert "inspect ping" in worker_check[-1] and "celery@$HOSTNAME" in worker_check[-1]


def test_there_is_exactly_one_beat(services):
    beats = [name for name, s in services.items() if " beat" in " ".join(compose.command(s))]
    assert beats == ["beat"]
    assert services["beat"].get("deploy", {}).get("replicas", 1) == 1


def test_the_portal_runs_in_production_mode_with_its_address_from_env(services):
    variables = {"PORTAL_HOST": "vlsc.example", "POSTGRES_PASSWORD": "pw"}
    for name in PORTAL_SERVICES:
        env = compose.environment(services[name], variables)
        assert env["DJANGO_ENV"] == "production"
        assert env["PORTAL_URL"] == "https://vlsc.example"
        assert env["DJANGO_ALLOWED_HOSTS"] == "vlsc.example"
        assert services[name]["env_file"] == ".env"
    with pytest.raises(KeyError, match="PORTAL_HOST"):
        compose.environment(services["web"], {"POSTGRES_PASSWORD": "pw"})


def test_broker_results_and_cache_use_separate_redis_databases(services):
    env = compose.environment(services["web"], {"PORTAL_HOST": "h", "POSTGRES_PASSWORD": "p"})
    urls = [env["CELERY_BROKER_URL"], env["CELERY_RESULT_BACKEND"], env["CACHE_URL"]]
    assert all(url.startswith("redis://redis:6379/") for url in urls)
    assert len(set(urls)) == 3
    assert env["REDIS_URL"], "REDIS_URL switches the portal to Redis"


def test_the_proxy_is_the_only_way_in_and_is_trusted_for_exactly_one_hop(services):
    networks = {name: set(s.get("networks", [])) for name, s in services.items()}
    assert networks[PROXY] == {"edge"}
    assert networks["web"] == {"edge", "backend"}
    for name in ("db", "redis", "worker", "beat", "migrate"):
        assert "edge" not in networks[name], name
    env = compose.environment(services["web"], {"PORTAL_HOST": "h", "POSTGRES_PASSWORD": "p"})
    assert env["ALLAUTH_TRUSTED_PROXY_COUNT"] == "1"
    caddyfile = (ROOT / "deploy" / "Caddyfile").read_text()
    assert re.search(r"^\s*reverse_proxy web:8000\s*$", caddyfile, re.M)
    assert re.search(r"^\s*tls \{\$CADDY_TLS:internal\}\s*$", caddyfile, re.M)
    assert "./deploy/Caddyfile:/etc/caddy/Caddyfile:ro" in services[PROXY]["volumes"]


def test_networks_and_volumes_the_services_use_are_declared():
    document = compose.load()
    for name, service in document["services"].items():
        for network in service.get("networks", []):
            assert network in document["networks"], f"{name}: {network}"
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if not source.startswith((".", "/")):
                assert source in document["volumes"], f"{name}: {source}"
            else:
                assert (ROOT / source).exists(), f"{name}: {source}"


def test_the_web_container_runs_the_deployment_checks_before_serving(services):
    assert compose.command(services["web"]) == ["deploy/start-web.sh"]
    script = ROOT / "deploy" / "start-web.sh"
    assert script.stat().st_mode & 0o111, "start-web.sh must be executable"
    lines = [line.strip() for line in script.read_text().splitlines()]
    assert "set -eu" in lines
    check = lines.index("python manage.py check --deploy --fail-level WARNING")
    serve = next(i for i, line in enumerate(lines) if line.startswith("exec gunicorn"))
    assert check < serve
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert 'CMD ["deploy/start-web.sh"]' in dockerfile


def test_the_image_installs_the_runtime_requirements_only_and_runs_unprivileged():
    dockerfile = (ROOT / "Dockerfile").read_text()
    installs = re.findall(r"pip install[^\n]*", dockerfile)
    assert installs == ["pip install -r requirements.txt"]
    assert re.search(r"^FROM python:3\.11\.\d+-slim-bookworm$", dockerfile, re.M)
    assert re.search(r"^USER vlsc$", dockerfile, re.M)


def _requirement_names(path: Path) -> set[str]:
    names = set()
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line and not line.startswith("-r"):
            names.add(re.split(r"[\[=<>]", line)[0].lower())
    return names


def _includes(path: Path) -> list[str]:
    return re.findall(r"^-r (\S+)$", path.read_text(), re.M)


def test_requirements_are_split_into_runtime_dev_and_test():
    runtime = _requirement_names(ROOT / "requirements.txt")
    dev = _requirement_names(ROOT / "requirements-dev.txt")
    test = _requirement_names(ROOT / "requirements-test.txt")
    assert not runtime & (DEV_ONLY | TEST_ONLY)
    assert dev == DEV_ONLY
    assert test == TEST_ONLY
    assert _includes(ROOT / "requirements-dev.txt") == ["requirements.txt"]
    assert _includes(ROOT / "requirements-test.txt") == ["requirements-dev.txt"]
    assert {"django", "gunicorn", "celery", "psycopg2-binary", "whitenoise"} <= runtime


def _imports() -> dict[str, set[str]]:
    """Top-level modules imported anywhere in the portal's packages (not its tests, not the
    stand-in), each with the files importing it."""
    found: dict[str, set[str]] = {}
    for package in PORTAL_PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            tree = ast.parse(path.read_text(), str(path))
            type_only = _under_type_checking(tree)
            for node in ast.walk(tree):
                if node in type_only:
                    continue  # for mypy only (django-stubs-ext's names): never imported at run time
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    found.setdefault(name.split(".")[0], set()).add(str(path.relative_to(ROOT)))
    return found


def _under_type_checking(tree: ast.AST) -> set[ast.AST]:
    """The nodes inside ``if TYPE_CHECKING:`` blocks."""
    inside: set[ast.AST] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and (
            (isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING")
            or (isinstance(node.test, ast.Attribute) and node.test.attr == "TYPE_CHECKING")
        ):
            for statement in node.body:
                inside.update(ast.walk(statement))
    return inside


def test_production_code_never_imports_the_standin_or_development_tools():
    imports = _imports()
    for forbidden in ("entra_standin", "oauth2_provider", "trustme", "honcho", "pytest"):
        assert forbidden not in imports, f"{forbidden} imported by {imports.get(forbidden)}"
    settings_text = compose.settings_source()
    assert "oauth2_provider" not in settings_text and "entra_standin" not in settings_text


def test_every_package_the_portal_imports_is_in_the_runtime_requirements():
    runtime = _requirement_names(ROOT / "requirements.txt")
    distributions = importlib.metadata.packages_distributions()
    third_party = {
        module: files
        for module, files in _imports().items()
        if module in distributions and module not in PORTAL_PACKAGES
    }
    assert {"django", "allauth", "msal", "jwt", "celery"} <= third_party.keys()
    for module, files in third_party.items():
        names = {name.lower() for name in distributions[module]}
        assert names & runtime, f"{module} ({sorted(names)}) imported by {sorted(files)}"


# .dockerignore, applied the way Docker applies it (written by hand, as the tests have no Docker:
# moby's patternmatcher: the last matching rule wins, a rule matching a parent folder matches
# everything in it, "*" stays within one path segment, "**" crosses them, "!" lets back in).
def _dockerignore_rules() -> list[tuple[bool, re.Pattern]]:
    rules = []
    for raw in (ROOT / ".dockerignore").read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        pattern = line.lstrip("!").strip("/")
        regex, i = "", 0
        while i < len(pattern):
            if pattern.startswith("**/", i):
                regex, i = regex + "(?:.*/)?", i + 3
            elif pattern.startswith("**", i):
                regex, i = regex + ".*", i + 2
            elif pattern[i] == "*":
                regex, i = regex + "[^/]*", i + 1
            elif pattern[i] == "?":
                regex, i = regex + "[^/]", i + 1
            else:
                regex, i = regex + re.escape(pattern[i]), i + 1
        rules.append((negate, re.compile(regex + r"\Z")))
    return rules


def _sent_to_docker(path: str, rules: list[tuple[bool, re.Pattern]]) -> bool:
    parts = path.split("/")
    prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    excluded = False
    for negate, regex in rules:
        if any(regex.match(prefix) for prefix in prefixes):
            excluded = not negate
    return not excluded


def test_the_docker_build_context_holds_the_portal_and_nothing_private():
    rules = _dockerignore_rules()
    tracked = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    private = [
        ".env",
        ".env.production",
        ".env.example",
        "vlsc_portal/.env",
        "var/db.sqlite3",
        "var/standin/ca-key.pem",
        "var/mailbox/new/1.eml",
        "var/celery/broker/msg",
        ".venv/bin/python",
        ".git/HEAD",
        ".git",
        "node_modules/axe-core/axe.min.js",
        "staticfiles/css/site.css",
        "bench-results/latest.json",
        "accounts/__pycache__/models.cpython-311.pyc",
        "accounts/var/x",
        "htmlcov/index.html",
        ".coverage",
    ]
    for path in private:
        assert not _sent_to_docker(path, rules), path
    allowed_tops = {*PORTAL_PACKAGES, "templates", "static", "locale", "deploy"}
    allowed_files = {"manage.py", "requirements.txt"}
    sent = [path for path in tracked if _sent_to_docker(path, rules)]
    for path in sent:
        top = path.split("/")[0]
        assert top in allowed_tops or path in allowed_files, f"{path} would enter the image"
    for needed in (
        "manage.py",
        "requirements.txt",
        "deploy/start-web.sh",
        "vlsc_portal/settings.py",
        "vlsc_portal/management/commands/beat_alive.py",
        "accounts/models.py",
        "templates/base.html",
    ):
        assert needed in sent, needed
    for left_out in ("tests/conftest.py", "entra_standin/settings.py", "bench/run.py", "Makefile"):
        assert left_out in tracked and left_out not in sent, left_out
