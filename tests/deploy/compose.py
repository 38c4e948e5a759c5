"""docker-compose.yml as the tests read it: the file itself, ${...} filled in as compose would,
and each service's command and health check as argument lists that can run here."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parent.parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"

# ${NAME}, ${NAME:-default}, ${NAME:?message}, and $$ (a literal $), as compose interpolates them.
_VARIABLE = re.compile(r"\$\$|\$\{(?P<name>\w+)(?:(?P<op>:-|:\?)(?P<arg>[^}]*))?\}")


def settings_source() -> str:
    """The text of the settings compose's services run with: ``vlsc_portal/settings.py`` and the
    settings modules it includes (``settings_*.py``)."""
    return "".join(path.read_text() for path in sorted((ROOT / "vlsc_portal").glob("settings*.py")))


def load() -> dict:
    return YAML(typ="safe", pure=True).load(COMPOSE_FILE.read_text())


def interpolate(value: str, variables: dict[str, str]) -> str:
    def replace(match: re.Match) -> str:
        if match.group(0) == "$$":
            return "$"
        name, op, arg = match.group("name"), match.group("op"), match.group("arg")
        if variables.get(name):
            return variables[name]
        if op == ":-":
            return arg
        raise KeyError(f"compose needs {name}: {arg or 'unset'}")

    return _VARIABLE.sub(replace, value)


def environment(service: dict, variables: dict[str, str]) -> dict[str, str]:
    return {
        key: interpolate(str(value), variables) for key, value in service["environment"].items()
    }


def command(service: dict) -> list[str]:
    """The service's command as exec form (compose splits a string the way a shell would);
    empty when the image's own command runs."""
    value = service.get("command", [])
    return shlex.split(value) if isinstance(value, str) else list(value)


def healthcheck(service: dict, variables: dict[str, str] | None = None) -> list[str]:
    test = [interpolate(part, variables or {}) for part in service["healthcheck"]["test"]]
    if test[0] == "CMD":
        return test[1:]
    if test[0] == "CMD-SHELL":
        return ["sh", "-c", test[1]]
    raise ValueError(f"unexpected health check form {test[0]!r}")
