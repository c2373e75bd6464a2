"""Static checks of docker-compose.yml, Dockerfile and .env.example (no Docker engine here).

The compose file is interpolated with the values of .env.example (as `docker compose`
does with .env) and validated against the Compose Specification JSON schema vendored
in tests/data/ (from the docker-compose 1.29.2 wheel on PyPI; see the README there).
When a `docker compose` CLI is available it is asked to validate the file too.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
COMPOSE = REPO / "docker-compose.yml"
DOCKERFILE = REPO / "Dockerfile"
ENV_EXAMPLE = REPO / ".env.example"
SCHEMA = Path(__file__).parent / "data" / "compose_spec.json"

# ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error}, $VAR; $$ is a literal $.
_REF = re.compile(
    r"\$(?:\$|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}"
    r"|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))"
)
_SECRETISH = re.compile(r"PASSWORD|PASSWD|SECRET|TOKEN|API_KEY|PRIVATE_KEY|_USER(NAME)?$", re.I)


def _compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def _env_example() -> dict[str, str]:
    values: dict[str, str] = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        assert sep, f".env.example: not KEY=VALUE: {line!r}"
        values[key.strip()] = value.strip()
    return values


def _strings(node: Any) -> list[str]:
    """Every string value and key in a parsed YAML tree (what compose interpolates)."""
    if isinstance(node, dict):
        return [s for k, v in node.items() for s in (*_strings(k), *_strings(v))]
    if isinstance(node, list):
        return [s for v in node for s in _strings(v)]
    return [node] if isinstance(node, str) else []


def _variables(node: Any) -> set[str]:
    names = set()
    for text in _strings(node):
        for m in _REF.finditer(text):
            name = m.group("braced") or m.group("bare")
            if name:
                names.add(name)
    return names


def _interpolate(node: Any, env: dict[str, str]) -> Any:
    """Compose-style interpolation of every string in a parsed YAML tree."""
    if isinstance(node, dict):
        return {k: _interpolate(v, env) for k, v in node.items()}
    if isinstance(node, list):
        return [_interpolate(v, env) for v in node]
    if not isinstance(node, str):
        return node

    def sub(m: re.Match[str]) -> str:
        if m.group(0) == "$$":
            return "$"
        name = m.group("braced") or m.group("bare")
        op, arg = m.group("op"), m.group("arg") or ""
        value = env.get(name)
        if op in (":-", "-"):
            unset = value is None or (op == ":-" and value == "")
            return arg if unset else value  # type: ignore[return-value]
        if op in (":?", "?"):
            if value is None or (op == ":?" and value == ""):
                raise AssertionError(f"required variable {name} unset: {arg}")
            return value
        assert value is not None, f"variable {name} is not defined in .env.example"
        return value

    return _REF.sub(sub, node)


def _env_of(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {str(k): str(v) for k, v in env.items()}


def _healthcheck_text(service: dict[str, Any]) -> str:
    test = service["healthcheck"]["test"]
    return " ".join(test) if isinstance(test, list) else str(test)


# --------------------------------------------------------------------------- compose


def test_services_and_images() -> None:
    services = _compose()["services"]
    assert set(services) == {"mongodb", "prefect", "newsdedup", "explorer"}
    assert services["mongodb"]["image"] == "mongo:8"
    assert services["prefect"]["image"].startswith("prefecthq/prefect:3")
    build = services["newsdedup"]["build"]
    context = build if isinstance(build, str) else build["context"]
    dockerfile = "Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile")
    assert (REPO / context / dockerfile).resolve() == DOCKERFILE.resolve()
    for name, service in services.items():
        assert service.get("restart") in {"always", "unless-stopped", "on-failure"}, name


def test_mongodb_service() -> None:
    mongo = _compose()["services"]["mongodb"]
    env = _env_of(mongo)
    assert env["MONGO_INITDB_ROOT_USERNAME"].startswith("${MONGO_ROOT_USER")
    assert env["MONGO_INITDB_ROOT_PASSWORD"].startswith("${MONGO_ROOT_PASSWORD")
    hc = _healthcheck_text(mongo)
    assert "mongosh" in hc and "ping" in hc
    assert "--username" in hc and "--password" in hc and "--authenticationDatabase admin" in hc
    # $$VAR: expanded by the container's shell, not written into the container config.
    assert "$$MONGO_INITDB_ROOT_PASSWORD" in hc
    assert any(str(v).split(":")[-1] == "/data/db" for v in mongo["volumes"])


def test_ports_are_published_on_loopback_only() -> None:
    services = _compose()["services"]
    assert services["mongodb"]["ports"], "MongoDB should be reachable from the host"
    for name, service in services.items():
        for port in service.get("ports", []):
            assert isinstance(port, str) and port.startswith("127.0.0.1:"), (name, port)
    assert any(p.endswith(":27017") for p in services["mongodb"]["ports"])
    assert any(p.endswith(":4200") for p in services["prefect"]["ports"])
    assert any(p.endswith(":8765") for p in services["explorer"]["ports"])


def test_prefect_service() -> None:
    prefect = _compose()["services"]["prefect"]
    command = prefect["command"]
    command = command if isinstance(command, str) else " ".join(command)
    assert command.startswith("prefect server start") and "--host 0.0.0.0" in command
    assert "/api/health" in _healthcheck_text(prefect)
    assert any(str(v).endswith(":/root/.prefect") for v in prefect["volumes"])


def test_newsdedup_service() -> None:
    app = _compose()["services"]["newsdedup"]
    assert app["command"] == ["serve", "/data/inbox", "--cron", "*/15 * * * *"]
    env = _env_of(app)
    uri = env["MONGODB_URI"]
    parts = urlsplit(uri)
    assert parts.scheme == "mongodb" and parts.hostname == "mongodb" and parts.port == 27017
    assert parts.username == "${MONGO_ROOT_USER}" and parts.password == "${MONGO_ROOT_PASSWORD}"
    assert "authSource=admin" in parts.query
    assert env["PREFECT_API_URL"] == "http://prefect:4200/api"
    assert app["depends_on"] == {
        "mongodb": {"condition": "service_healthy"},
        "prefect": {"condition": "service_healthy"},
    }
    resolved = _interpolate(app, _env_example())
    assert any(str(v).split(":")[1] == "/data/inbox" for v in resolved["volumes"])


def test_explorer_service() -> None:
    """The claim explorer: the same image running ``newsdedup web`` on the compose MongoDB, linked both ways
    with the Prefect UI, reachable from the host's loopback only."""
    services = _compose()["services"]
    web = services["explorer"]
    assert web["image"] == services["newsdedup"]["image"]
    command = web["command"]
    assert command[0] == "web" and command[command.index("--port") + 1] == "8765"
    assert command[command.index("--host") + 1] == "0.0.0.0"  # inside the container; published on 127.0.0.1
    env = _env_of(web)
    assert env["MONGODB_URI"] == _env_of(services["newsdedup"])["MONGODB_URI"]
    assert env["NEWSDEDUP_DB"] == _env_of(services["newsdedup"])["NEWSDEDUP_DB"]
    resolved = _interpolate(services, _env_example())
    assert _env_of(resolved["explorer"])["PREFECT_UI_URL"] == "http://localhost:4200"
    assert _env_of(resolved["newsdedup"])["NEWSDEDUP_WEB_URL"] == "http://localhost:8765"
    assert resolved["explorer"]["ports"] == ["127.0.0.1:8765:8765"]
    assert web["depends_on"]["mongodb"] == {"condition": "service_healthy"}
    assert "http://127.0.0.1:8765/" in _healthcheck_text(web)


def test_healthchecks_everywhere_they_are_depended_on() -> None:
    services = _compose()["services"]
    for service in services.values():
        for dep, cond in (service.get("depends_on") or {}).items():
            if cond.get("condition") == "service_healthy":
                hc = services[dep].get("healthcheck")
                assert hc and not hc.get("disable") and hc.get("test"), dep


def test_named_volumes_are_declared() -> None:
    compose = _interpolate(_compose(), _env_example())
    declared = set(compose.get("volumes") or {})
    assert {"mongo-data", "prefect-data"} <= declared
    for service in compose["services"].values():
        for vol in service.get("volumes", []):
            source = str(vol).split(":")[0]
            if not source.startswith(("/", ".", "~")):
                assert source in declared, source


def test_no_literal_secrets() -> None:
    compose = _compose()
    for name, service in compose["services"].items():
        for key, value in _env_of(service).items():
            if _SECRETISH.search(key):
                assert re.fullmatch(r"\$\{[A-Za-z_][A-Za-z0-9_]*(:?\?[^}]*)?\}", value), (
                    f"{name}.{key} must be a ${{VAR}} reference, not a literal"
                )
            for uri in re.findall(r"mongodb(?:\+srv)?://[^\s\"']+", value):
                userinfo = urlsplit(uri).netloc.rpartition("@")[0]
                for part in filter(None, userinfo.split(":")):
                    assert re.fullmatch(r"\$\{[A-Za-z_][A-Za-z0-9_]*\}", part), (name, key)
    # The example credentials must not have been pasted into the compose file.
    text = COMPOSE.read_text(encoding="utf-8")
    example = _env_example()
    for key, value in example.items():
        if _SECRETISH.search(key):
            assert value not in text, key


def test_env_example_defines_every_variable() -> None:
    used = _variables(_compose())
    assert {"MONGO_ROOT_USER", "MONGO_ROOT_PASSWORD"} <= used
    missing = used - set(_env_example())
    assert not missing, f".env.example lacks {sorted(missing)}"


def test_env_files_are_kept_out_of_git_and_the_image() -> None:
    gitignore = (REPO / ".gitignore").read_text(encoding="utf-8").split()
    assert ".env" in gitignore
    dockerignore = (REPO / ".dockerignore").read_text(encoding="utf-8").split()
    assert ".env" in dockerignore and ".venv" in dockerignore and ".git" in dockerignore


def test_validates_against_compose_spec_schema() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    document = _interpolate(_compose(), _env_example())
    validator = jsonschema.Draft201909Validator(schema)
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
    assert not errors, "; ".join(f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors)


def test_schema_rejects_a_broken_file() -> None:
    """The schema check is not vacuous: a typo in a key is refused."""
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    document = _interpolate(_compose(), _env_example())
    document["services"]["newsdedup"]["depends_on"]["mongodb"] = {"condtion": "service_healthy"}
    assert list(jsonschema.Draft201909Validator(schema).iter_errors(document))


def _docker_compose() -> list[str] | None:
    docker = shutil.which("docker")
    if docker:
        probe = subprocess.run([docker, "compose", "version"], capture_output=True, timeout=30)
        if probe.returncode == 0:
            return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    return [legacy] if legacy else None


def test_docker_compose_config_if_available(tmp_path: Path) -> None:
    cli = _docker_compose()
    if cli is None:
        pytest.skip("no `docker compose` CLI here; the schema test above covers the file")
    proc = subprocess.run(
        [*cli, "--env-file", str(ENV_EXAMPLE), "-f", str(COMPOSE), "config", "--quiet"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stderr


# --------------------------------------------------------------------------- Dockerfile


def _dockerfile_instructions() -> list[tuple[str, str]]:
    text = DOCKERFILE.read_text(encoding="utf-8").replace("\\\n", " ")
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            op, _, rest = line.partition(" ")
            out.append((op.upper(), rest.strip()))
    return out


def test_dockerfile_installs_the_package_as_non_root() -> None:
    instructions = _dockerfile_instructions()
    froms = [rest for op, rest in instructions if op == "FROM"]
    assert froms and froms[-1].startswith("python:3.11-slim")
    runs = " ".join(rest for op, rest in instructions if op == "RUN")
    assert re.search(r"pip install (--[\w-]+ )*\.(\s|$)", runs), "must pip install the repo"
    copies = [rest for op, rest in instructions if op == "COPY"]
    assert any(c.split()[0] == "." or "pyproject.toml" in c for c in copies)
    users = [rest for op, rest in instructions if op == "USER"]
    assert users and users[-1] not in {"root", "0", "0:0"}
    entry = [rest for op, rest in instructions if op == "ENTRYPOINT"]
    assert entry and json.loads(entry[-1])[0] == "newsdedup"
