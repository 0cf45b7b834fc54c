"""The production container: Dockerfile, .dockerignore, docker-compose.yml, deploy/nginx.conf, .env.example.

Most tests read the files and check what they promise. The healthcheck's own
command is run against a local HTTP server. Where a Docker engine answers
(`docker info`) and the base image can be had, the image is built and run for
real; where `docker compose` is installed, it resolves the compose file.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import threading
import time
import tomllib
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
COMPOSE = ROOT / "docker-compose.yml"
NGINX = ROOT / "deploy" / "nginx.conf"
ENV_EXAMPLE = ROOT / ".env.example"

SERVICES = {"db", "ingest", "bot1", "bot2", "proxy"}
BOTS = ("bot1", "bot2")


# --- reading a Dockerfile -----------------------------------------------------

def instructions(path: Path = DOCKERFILE) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined and comments dropped."""
    out, buf = [], ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if line.startswith("#") or (not line and not buf):
            continue
        if line.endswith("\\"):
            buf += line[:-1] + " "
            continue
        buf += line
        if buf.strip():
            word, _, rest = buf.strip().partition(" ")
            out.append((word.upper(), rest.strip()))
        buf = ""
    return out


def expand(text: str, args: dict[str, str]) -> str:
    return re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: args.get(m.group(1) or m.group(2), m.group(0)), text)


def arg_defaults(instrs: list[tuple[str, str]]) -> dict[str, str]:
    out = {}
    for ins, rest in instrs:
        if ins == "ARG" and "=" in rest:
            name, _, value = rest.partition("=")
            out[name.strip()] = value.strip().strip('"')
    return out


class Stage:
    def __init__(self, base: str, name: str | None, body: list[tuple[str, str]]):
        self.base, self.name, self.body = base, name, body

    def all(self, ins: str) -> list[str]:
        return [rest for i, rest in self.body if i == ins]

    def last(self, ins: str) -> str | None:
        found = self.all(ins)
        return found[-1] if found else None

    def index(self, ins: str, pattern: str) -> int:
        """Position of the first `ins` whose arguments match `pattern` (-1 if none)."""
        return next((n for n, (i, rest) in enumerate(self.body) if i == ins and re.search(pattern, rest)), -1)


def stages() -> list[Stage]:
    instrs = instructions()
    first = next(n for n, (i, _) in enumerate(instrs) if i == "FROM")
    global_args = arg_defaults(instrs[:first])
    out: list[Stage] = []
    for ins, rest in instrs[first:]:
        if ins == "FROM":
            parts = rest.split()
            parts = [p for p in parts if not p.startswith("--platform")]
            name = parts[2] if len(parts) >= 3 and parts[1].upper() == "AS" else None
            out.append(Stage(expand(parts[0], global_args), name, []))
        else:
            out[-1].body.append((ins, rest))
    return out


def exec_form(rest: str) -> list[str]:
    value = json.loads(rest)
    assert isinstance(value, list) and all(isinstance(v, str) for v in value), rest
    return value


def env_of(stage: Stage) -> dict[str, str]:
    env = {}
    for rest in stage.all("ENV"):
        for token in shlex.split(rest):
            name, _, value = token.partition("=")
            env[name] = value
    return env


# --- the Dockerfile -----------------------------------------------------------

def test_the_image_is_built_in_two_stages_on_one_slim_python():
    all_stages = stages()
    assert len(all_stages) >= 2, "multi-stage: a builder and the final image"
    builder, final = all_stages[0], all_stages[-1]
    assert builder.name, "the build stage is named, for COPY --from"
    assert re.fullmatch(r"python:3\.1[1-9]-slim(-\w+)?", final.base), final.base
    # The venv's interpreter is a symlink into the base image: both stages must be the same one.
    assert builder.base == final.base
    copies = [c for c in final.all("COPY") if f"--from={builder.name}" in c]
    assert copies and all("/opt/venv" in c for c in copies), "the final stage takes the venv and nothing else"
    assert not any(re.search(r"\bpip\b", r) for r in final.all("RUN")), "nothing is installed in the final stage"


def test_dependencies_are_installed_before_the_code_is_copied():
    builder = stages()[0]
    pyproject = builder.index("COPY", r"\bpyproject\.toml\b")
    deps = builder.index("RUN", r"pip install")
    code = min(n for n in (builder.index("COPY", rf"\b{pkg}\b") for pkg in ("bot", "handlers", "index")) if n >= 0)
    assert 0 <= pyproject < deps < code, "COPY pyproject.toml, install the dependencies, then COPY the code"
    assert "requirements" in builder.body[deps][1] or "pyproject" in builder.body[deps][1]
    copied = {p for c in builder.all("COPY") for p in c.split()[:-1] if not p.startswith("--")}
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    for pattern in packages["include"]:
        assert pattern.rstrip("*") in copied, f"package {pattern} is copied into the build"
    assert "README.md" in copied, "pyproject's readme must be in the build context"


def test_the_final_image_runs_as_an_unprivileged_user_who_owns_data():
    final = stages()[-1]
    args = arg_defaults(final.body)
    user = expand(final.last("USER") or "", args)
    uid = user.split(":")[0]
    assert uid and uid not in ("root", "0"), f"USER {user!r}"
    assert uid.isdigit() and int(uid) >= 1000, "a numeric uid, so runtimes can verify it is not root"
    setup = " ".join(expand(r, args) for r in final.all("RUN"))
    assert re.search(rf"useradd\b.*--uid\s+\"?{uid}\b", setup), "the user is created with that uid"
    assert re.search(r"chown\s+\S+\s+/data\b", setup), "/data belongs to the user"
    assert final.index("RUN", r"chown\s+\S+\s+/data") < final.index("VOLUME", r"/data"), (
        "a change to /data after VOLUME would be thrown away")


def test_data_is_a_volume_and_quotebot_serve_the_entry_point():
    final = stages()[-1]
    volumes = final.all("VOLUME")
    assert any("/data" in (exec_form(v) if v.startswith("[") else v.split()) for v in volumes)
    env = env_of(final)
    assert env.get("QUOTEBOT_DATA_DIR") == "/data"
    assert env.get("PORT") == "3000"
    assert "3000" in " ".join(final.all("EXPOSE")).split()
    assert exec_form(final.last("ENTRYPOINT")) == ["quotebot"]
    assert exec_form(final.last("CMD")) == ["serve"]
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert "quotebot" in scripts, "the entry point is the package's console script"
    assert "/opt/venv/bin" in env.get("PATH", "").split(":")[0], "the venv's quotebot comes first on PATH"


def healthcheck_command() -> list[str]:
    final = stages()[-1]
    rest = final.last("HEALTHCHECK")
    assert rest, "the final image has a HEALTHCHECK"
    options, sep, command = rest.partition("CMD ")
    assert sep, rest
    assert "--interval" in options and "--timeout" in options
    return exec_form(command.strip())


class _Health(BaseHTTPRequestHandler):
    status = 200
    paths: ClassVar[list[str]] = []

    def do_GET(self):
        type(self).paths.append(self.path)
        body = b'{"status": "ok"}'
        self.send_response(type(self).status if self.path == "/healthz" else 404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def _run_healthcheck(port: int) -> subprocess.CompletedProcess:
    cmd = healthcheck_command()
    assert cmd[0] == "python", "slim images have no curl or wget: Python asks"
    env = {**os.environ, "PORT": str(port)}
    return subprocess.run([sys.executable, *cmd[1:]], check=False, env=env, capture_output=True, timeout=30)


def test_the_healthcheck_asks_healthz_on_port_and_fails_otherwise():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        _Health.status, _Health.paths = 200, []
        ok = _run_healthcheck(port)
        assert ok.returncode == 0, ok.stderr
        assert _Health.paths == ["/healthz"]
        _Health.status = 503
        assert _run_healthcheck(port).returncode != 0, "a non-2xx answer is unhealthy"
    finally:
        server.shutdown()
        server.server_close()
    assert _run_healthcheck(port).returncode != 0, "nothing listening is unhealthy"


# --- .dockerignore ------------------------------------------------------------

def _pattern(pattern: str) -> re.Pattern:
    """A .dockerignore pattern as a regex: `**/` is any folders, `*` and `?` stay within one."""
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        elif pattern[i] == "[":
            end = pattern.index("]", i)
            out, i = out + pattern[i:end + 1], end + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out)


def _ignored(path: str, patterns: list[str]) -> bool:
    """Docker's rule: the last pattern matching the path or one of its parent folders decides."""
    parts = path.split("/")
    prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    ignored = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        regex = _pattern(pattern.lstrip("!").strip("/"))
        if any(regex.fullmatch(p) for p in prefixes):
            ignored = not negate
    return ignored


def test_the_build_context_has_the_package_and_no_secrets():
    patterns = [ln.strip() for ln in DOCKERIGNORE.read_text().splitlines() if ln.strip() and not ln.startswith("#")]
    for kept in ("pyproject.toml", "README.md", "bot/cli.py", "bot/samples/000_bcbdccec1200e6a3.txt",
                 "index/store.py", "index/formats/__init__.py", "handlers/cards.py"):
        assert not _ignored(kept, patterns), kept
    for left_out in (".env", ".env.production", ".venv/bin/python", ".git/config", "data/quotebot.db",
                     "bot/__pycache__/cli.cpython-311.pyc", "tests/test_cli.py", "bench/results.json",
                     "quotebot.egg-info/PKG-INFO", ".hypothesis/examples/x"):
        assert _ignored(left_out, patterns), left_out
    # Everything the Dockerfile copies from the context is in it.
    for stage in stages():
        for copy in stage.all("COPY"):
            if "--from" in copy:
                continue
            for source in copy.split()[:-1]:
                assert not _ignored(source, patterns), f"COPY {source} but .dockerignore leaves it out"


# --- docker-compose.yml -------------------------------------------------------

@pytest.fixture(scope="module")
def compose() -> dict:
    import yaml  # PyYAML, from the dev extra

    return yaml.safe_load(COMPOSE.read_text())


def _env(service: dict) -> dict:
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.partition("=")[::2] if "=" in item else (item, None) for item in env)
    return env


def _depends(service: dict) -> dict[str, str]:
    deps = service.get("depends_on", {})
    if isinstance(deps, list):
        return dict.fromkeys(deps, "service_started")
    return {name: (spec or {}).get("condition", "service_started") for name, spec in deps.items()}


def _volumes(service: dict) -> dict[str, str]:
    """target -> source for each volume of a service."""
    out = {}
    for v in service.get("volumes", []):
        if isinstance(v, str):
            source, _, rest = v.partition(":")
            out[rest.split(":")[0]] = source
        else:
            out[v["target"]] = v.get("source")
    return out


def test_compose_has_the_five_services(compose):
    assert set(compose["services"]) == SERVICES


def test_postgres_is_checked_by_pg_isready_and_keeps_its_data(compose):
    db = compose["services"]["db"]
    assert re.fullmatch(r"postgres:16(\.\d+)?(-\w+)?", db["image"])
    test = db["healthcheck"]["test"]
    assert "pg_isready" in (test if isinstance(test, str) else " ".join(test))
    assert _volumes(db)["/var/lib/postgresql/data"] in compose["volumes"], "a named volume"
    env = _env(db)
    assert env["POSTGRES_PASSWORD"].startswith("${POSTGRES_PASSWORD:?"), "no default password"


def test_the_ingest_job_runs_once_after_postgres_is_ready(compose):
    ingest, bot = compose["services"]["ingest"], compose["services"]["bot1"]
    assert ingest["command"] == ["ingest", "--samples"]
    assert str(ingest["restart"]) == "no"
    assert _depends(ingest) == {"db": "service_healthy"}
    assert ingest["image"] == bot["image"] and ingest["build"] == bot["build"], "the bots' image"
    assert ingest.get("healthcheck", {}).get("disable") is True, "a one-shot job serves no /healthz"
    assert "SLACK_SIGNING_SECRET" not in _env(ingest) and "env_file" not in ingest, "ingest gets no Slack secrets"


def test_the_bots_serve_after_ingest_each_with_its_own_data(compose):
    services = compose["services"]
    for name in BOTS:
        bot = services[name]
        assert bot["command"] == ["serve"]
        assert bot["build"]["context"] == "."
        assert _depends(bot) == {"db": "service_healthy", "ingest": "service_completed_successfully"}
        env = _env(bot)
        assert re.fullmatch(r"postgresql\+psycopg://quotebot:\$\{POSTGRES_PASSWORD:\?[^}]*\}@db:5432/quotebot",
                            env["QUOTEBOT_DATABASE_URL"])
        assert env["QUOTEBOT_DATA_DIR"] == "/data" and env["PORT"] == "3000"
        assert env["SLACK_SIGNING_SECRET"].startswith("${SLACK_SIGNING_SECRET:?")
        # A bot token or OAuth credentials pass through when set and stay unset otherwise.
        assert env["SLACK_BOT_TOKEN"] is None and env["SLACK_CLIENT_ID"] is None
        assert str(bot.get("restart")) in ("always", "unless-stopped")
        assert _volumes(bot)["/data"] in compose["volumes"]
    # No two containers share a data volume: each keeps its own index.
    data = [_volumes(services[s]).get("/data") for s in ("ingest", *BOTS)]
    assert None not in data and len(set(data)) == len(data), data


def _nginx() -> str:
    return "\n".join(line.split("#", 1)[0] for line in NGINX.read_text().splitlines())


def test_the_proxy_balances_both_bots_and_is_published(compose):
    proxy = compose["services"]["proxy"]
    assert proxy["image"].startswith("nginx:")
    assert _volumes(proxy)["/etc/nginx/nginx.conf"] == "./deploy/nginx.conf"
    assert set(_depends(proxy)) == set(BOTS)
    conf = _nginx()
    listen = re.search(r"\blisten\s+(\d+)\s*;", conf).group(1)
    published = [p for p in proxy["ports"] if str(p).rsplit(":", 1)[-1] == listen]
    assert published, f"a host port reaches nginx's listen {listen}: {proxy['ports']}"
    upstream = re.search(r"upstream\s+(\w+)\s*\{([^}]*)\}", conf)
    servers = re.findall(r"^\s*server\s+([\w.-]+:\d+)", upstream.group(2), re.MULTILINE)
    expose = {f"{b}:{p}" for b in BOTS for p in compose["services"][b]["expose"]}
    assert set(servers) == expose == {"bot1:3000", "bot2:3000"}
    assert re.search(rf"proxy_pass\s+http://{upstream.group(1)}\s*;", conf)


def test_the_proxy_retries_connection_errors_only_and_passes_the_request_id():
    conf = _nginx()
    retry = re.findall(r"proxy_next_upstream\s+([^;]*);", conf)
    assert retry == ["error timeout"], "another bot only when one cannot be reached"
    # Never resend a POST that a bot may have acted on, nor retry on an HTTP error status.
    assert "non_idempotent" not in conf and "http_5" not in conf
    tries = re.search(r"proxy_next_upstream_tries\s+(\d+)\s*;", conf)
    assert tries and int(tries.group(1)) == 2
    request_id = re.search(r"proxy_set_header\s+X-Request-Id\s+(\$\w+)\s*;", conf).group(1)
    assert re.search(rf"add_header\s+X-Request-Id\s+\{request_id}\s+always\s*;", conf), "echoed to the caller"
    assert re.search(r"proxy_hide_header\s+X-Request-Id\s*;", conf), "one copy: the replica echoes it too"
    mapping = re.search(rf"map\s+\$http_x_request_id\s+\{request_id}\s*\{{(.*?)\n\s*\}}", conf, re.DOTALL)
    assert mapping and "$request_id" in mapping.group(1), "made by nginx when the caller sends none"
    assert re.search(r"log_format\s+\w+[^;]*" + re.escape(request_id), conf), "and logged"


def test_the_bots_keep_every_request_id_the_proxy_sends():
    """The id in the proxy's log is the one in the bot's log: nginx forwards only ids the bots keep as they are."""
    from bot.observe import new_request_id

    conf = _nginx()
    mapping = re.search(r"map\s+\$http_x_request_id\s+\$\w+\s*\{(.*?)\n\s*\}", conf, re.DOTALL).group(1)
    kept = re.compile(re.search(r'"~([^"]+)"\s+\$http_x_request_id\s*;', mapping).group(1))
    candidates = ["trace-abc-123", "a.b_c-d", "x" * 64, "x" * 65, "a:b", "two words", "", "é", "<script>", "9" * 10]
    assert any(kept.search(c) for c in candidates) and not all(kept.search(c) for c in candidates)
    for given in candidates:
        if kept.search(given):
            assert new_request_id(given) == given, f"nginx forwards {given!r}, the bot would log another id"
    made = "0123456789abcdef" * 2  # nginx's own $request_id: 32 hex digits
    assert not kept.search("") and new_request_id(made) == made


def test_env_example_names_every_variable_compose_asks_for(compose):
    text = COMPOSE.read_text()
    required = set(re.findall(r"\$\{(\w+):\?", text))
    assert {"POSTGRES_PASSWORD", "SLACK_SIGNING_SECRET"} <= required
    passed = {k for s in compose["services"].values() for k, v in _env(s).items() if v is None}
    defaults = set(re.findall(r"\$\{(\w+):-", text))
    example = ENV_EXAMPLE.read_text()
    listed = dict(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=(.*)$", example, re.MULTILINE))
    for name in required | passed | defaults:
        assert name in listed, f".env.example lacks {name}"
    for name in required:
        assert re.search(rf"^{name}=$", example, re.MULTILINE), f"{name} is to be filled in, and empty until then"
    for value in listed.values():
        assert not re.match(r"xox[bpa]-\d|xapp-\d", value), "no real token in the example"


# --- with docker compose installed --------------------------------------------

def _compose_cli() -> list[str] | None:
    if (
        shutil.which("docker")
        and subprocess.run(["docker", "compose", "version"], check=False, capture_output=True).returncode == 0
    ):
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        out = subprocess.run(["docker-compose", "version", "--short"], check=False, capture_output=True, text=True)
        if out.returncode == 0 and out.stdout.strip().startswith("2"):
            return ["docker-compose"]
    return None


def test_docker_compose_resolves_the_file(tmp_path):
    cli = _compose_cli()
    if cli is None:
        pytest.skip("docker compose (v2) is not installed")
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "POSTGRES_", "QUOTEBOT_"))}
    cmd = [*cli, "--project-directory", str(tmp_path), "-f", str(COMPOSE), "config", "--format", "json"]
    settings = {"SLACK_SIGNING_SECRET": "sig", "POSTGRES_PASSWORD": "pw1"}
    for name in settings:  # each required one, left empty, stops compose and is named
        (tmp_path / ".env").write_text("".join(f"{k}={'' if k == name else v}\n" for k, v in settings.items()))
        missing = subprocess.run(cmd, check=False, env=base, capture_output=True, text=True, timeout=60)
        assert missing.returncode != 0 and name in missing.stderr, missing.stderr
    (tmp_path / ".env").write_text("SLACK_SIGNING_SECRET=sig\nPOSTGRES_PASSWORD=pw1\nSLACK_BOT_TOKEN=xoxb-t\n")
    out = subprocess.run(cmd, check=False, env=base, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    services = json.loads(out.stdout)["services"]
    assert set(services) == SERVICES
    for name in BOTS:
        env = services[name]["environment"]
        assert env["QUOTEBOT_DATABASE_URL"] == "postgresql+psycopg://quotebot:pw1@db:5432/quotebot"
        assert env["SLACK_SIGNING_SECRET"] == "sig" and env["SLACK_BOT_TOKEN"] == "xoxb-t"
        assert env.get("SLACK_CLIENT_ID") is None, "unset stays unset"
    assert "SLACK_BOT_TOKEN" not in services["ingest"]["environment"]


# --- with a Docker engine -----------------------------------------------------

def _docker(*args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess:
    out = subprocess.run(["docker", *args], check=False, capture_output=True, text=True, timeout=timeout)
    if check:
        assert out.returncode == 0, f"docker {' '.join(args)}:\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}"
    return out


@pytest.fixture(scope="module")
def image():
    if not shutil.which("docker") or _docker("info", timeout=30, check=False).returncode != 0:
        pytest.skip("no Docker engine answers `docker info`")
    base = stages()[-1].base
    if (_docker("image", "inspect", base, check=False).returncode != 0
            and _docker("pull", base, timeout=300, check=False).returncode != 0):
        pytest.skip(f"the base image {base} is neither present nor pullable")
    tag = f"quotebot:pytest-{uuid.uuid4().hex[:8]}"
    _docker("build", "-t", tag, str(ROOT), timeout=540)
    yield tag
    _docker("rmi", "-f", tag, check=False)


def test_the_image_runs_quotebot_as_non_root(image):
    helped = _docker("run", "--rm", "--network", "none", image, "--help")
    assert "serve" in helped.stdout and "ingest" in helped.stdout
    config = json.loads(_docker("image", "inspect", image).stdout)[0]["Config"]
    assert config["User"] and config["User"].split(":")[0] not in ("root", "0")
    assert config["Entrypoint"] == ["quotebot"] and config["Cmd"] == ["serve"]
    assert "/data" in config["Volumes"]
    probe = _docker("run", "--rm", "--network", "none", "--entrypoint", "python", image, "-c",
                    "import os; open('/data/probe', 'w').write('x'); print(os.getuid(), os.stat('/data').st_uid)")
    uid, owner = probe.stdout.split()
    assert uid != "0" and uid == owner, "the user is not root and owns /data"


def test_the_container_turns_healthy_and_stops_cleanly(image):
    name = f"quotebot-pytest-{uuid.uuid4().hex[:8]}"
    _docker("run", "-d", "--name", name, "--network", "none", "--health-interval", "1s",
            "--health-start-period", "1s", "-e", "SLACK_BOT_TOKEN=xoxb-test", "-e", "SLACK_SIGNING_SECRET=test",
            image)
    try:
        deadline, status = time.monotonic() + 90, ""
        while time.monotonic() < deadline:
            state = json.loads(_docker("inspect", name).stdout)[0]["State"]
            status = state.get("Health", {}).get("Status", "")
            if status == "healthy" or not state["Running"]:
                break
            time.sleep(1)
        logs = _docker("logs", name, check=False)
        assert status == "healthy", f"{status}\n{logs.stdout[-2000:]}\n{logs.stderr[-2000:]}"
        started = time.monotonic()
        _docker("stop", "-t", "20", name)
        assert time.monotonic() - started < 15, "the stop signal ends quotebot; it is not killed after the timeout"
        code = json.loads(_docker("inspect", name).stdout)[0]["State"]["ExitCode"]
        assert code != 137, "killed, not stopped"
    finally:
        _docker("rm", "-f", "-v", name, check=False)
