"""Issue #16's protocol against the running app over HTTP, optionally beside Label Studio, in one run.

    python bench/protocol_bench.py --databases sqlite,postgres
    python bench/protocol_bench.py --label-studio-bin /work/lsvenv/bin/label-studio   # starts LS 1.23.2 too
    python bench/protocol_bench.py --label-studio http://127.0.0.1:8080 --ls-token TOKEN --databases sqlite

For each database it creates a fresh one (SQLite in a temporary folder; PostgreSQL: a new database, named
`--pg-name` or protocol_bench_<pid>, on the server `--pg-url` names, dropped at the end), migrates it,
creates a manager (with an API token), one annotator and a dataset, and starts gunicorn on a free port in
8600-8699 (`--ports`) with the embedded default (no broker: the final-answer check and exports run in the
request, as on the documented base install). Then:

- cold start: `manage.py help` (median of `--cold-runs` runs) and gunicorn's start until `/health/` answers 200;
- idle RSS: the largest gunicorn worker's resident memory (`VmRSS` in /proc) after start-up and one request;
- ingest `--records` ProcessBench records (bench/data/processbench, cycled with new ids) over the bulk API,
  `--batch` per request;
- `--submits` rounds of next item -> submit by the annotator (the first `--nexts` next calls and the first
  `--pages` annotation pages are timed; every submit is);
- export the records in every format (`annotations.exporters.FORMATTERS`, JSONL): POST the export (it runs in
  the request), then download the folder as a zip (`--no-exports` skips this step).

With `--baseline CHECKOUT` (e.g. a worktree at main) there is no Label Studio and no export: that
checkout's prmweb runs beside this one, each on its own fresh database, and every round of next (page)
submit goes to both, the one served first alternating, so a shared machine's load falls on both alike;
the table gives both sides and this checkout's figures over the baseline's.

Every request opens a new TCP connection. With `--label-studio` / `--label-studio-bin` the same records go
through the same steps on Label Studio (token auth; import in one request to a project; next task;
annotation; JSON export of all tasks; its editor is a single-page app, so a "page" there is the task's
API read `GET /api/tasks/<id>/`), and the table adds LS's figures and prmweb/LS ratios (0.33 = 3x faster).
Only 127.0.0.1 is contacted. Figures are medians and p95 of the calls; on a shared machine alternate runs.
"""

import argparse
import contextlib
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
DATA = REPO / "bench" / "data" / "processbench"
SLUG = "protocol-bench"
PASSWORD = "protocol-bench-password-1"
PORTS = range(8600, 8700)
LS_LABEL_CONFIG = (
    '<View><Text name="problem" value="$problem"/>'
    '<Choices name="earliest_error_step" toName="problem" choice="single">'
    '<Choice value="-1"/><Choice value="0"/></Choices></View>'
)


# --- HTTP: a new connection per request --------------------------------------------------------------


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: bytes
    seconds: float
    size: int

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Client:
    """Cookies and fixed headers kept across requests; every request opens and closes its own connection."""

    base: str
    headers: dict[str, str] = field(default_factory=dict)
    cookies: dict[str, str] = field(default_factory=dict)

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        form: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        keep_body: bool = True,
        timeout: float = 900,
    ) -> Reply:
        parts = urlsplit(self.base)
        body: bytes | None = None
        sent = {"Connection": "close", **self.headers, **(headers or {})}
        if json_body is not None:
            body = json.dumps(json_body).encode()
            sent["Content-Type"] = "application/json"
        elif form is not None:
            body = urlencode(form).encode()
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        started = time.perf_counter()
        connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=timeout)
        try:
            connection.request(method, path, body=body, headers=sent)
            response = connection.getresponse()
            chunks, size = [], 0
            while chunk := response.read(1 << 16):
                size += len(chunk)
                if keep_body:
                    chunks.append(chunk)
        finally:
            connection.close()
        seconds = time.perf_counter() - started
        for header in response.msg.get_all("Set-Cookie") or []:
            jar: SimpleCookie = SimpleCookie()
            jar.load(header)
            self.cookies.update({name: morsel.value for name, morsel in jar.items()})
        return Reply(response.status, response.msg, b"".join(chunks), seconds, size)


def expect(reply: Reply, *statuses: int, what: str) -> Reply:
    if reply.status not in statuses:
        raise RuntimeError(f"{what}: HTTP {reply.status}: {reply.body[:500]!r}")
    return reply


# --- processes, ports, memory -------------------------------------------------------------------------


def free_port(ports: range = PORTS) -> int:
    for port in ports:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {ports.start}-{ports.stop - 1}")


def rss_mib(pid: int) -> float:
    """Return a process's resident set size in MiB (VmRSS in /proc; no psutil)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def children(pid: int) -> list[int]:
    """Return the ids of a process's direct children (from /proc/<pid>/task/*/children)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            found += [int(child) for child in (task / "children").read_text().split()]
    return found


def wait_for_200(client: Client, path: str, process: subprocess.Popen, limit: float = 180) -> float:
    """Return the seconds until `path` answers 200 (polling every 20 ms); raise if the server died."""
    started = time.perf_counter()
    while time.perf_counter() - started < limit:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode} before answering")
        with contextlib.suppress(OSError, http.client.HTTPException):
            if client.request("GET", path, timeout=5).status == 200:
                return time.perf_counter() - started
        time.sleep(0.02)
    raise RuntimeError(f"{path} did not answer 200 within {limit} s")


def stop(process: subprocess.Popen | None) -> None:
    if process is not None and process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def median_seconds(command: list[str], *, env: dict[str, str], cwd: Path, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, env=env, cwd=cwd, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - started)
    return times


# --- databases ----------------------------------------------------------------------------------------


@contextlib.contextmanager
def fresh_database(kind: str, pg_url: str, name: str, workdir: Path) -> Iterator[dict[str, str]]:
    """Yield connection facts of a new, empty database (`url` for prmweb, `ls_env` for Label Studio)."""
    if kind == "sqlite":
        yield {"url": f"sqlite:///{workdir / (name + '.sqlite3')}", "kind": kind}
        return
    import psycopg

    parts = urlsplit(pg_url)
    admin = f"{pg_url.rsplit('/', 1)[0]}/postgres"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')
    ls_env = {
        "DJANGO_DB": "default",
        "POSTGRE_NAME": name,
        "POSTGRE_USER": parts.username or "postgres",
        "POSTGRE_PASSWORD": parts.password or "",
        "POSTGRE_HOST": parts.hostname or "127.0.0.1",
        "POSTGRE_PORT": str(parts.port or 5432),
    }
    try:
        yield {"url": f"{pg_url.rsplit('/', 1)[0]}/{name}", "kind": kind, "ls_env": json.dumps(ls_env)}
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- the records --------------------------------------------------------------------------------------


def processbench_records(count: int) -> list[dict[str, Any]]:
    """Return `count` ProcessBench records: gsm8k then math, cycled; copies get new ids and problems."""
    source = []
    for name in ("gsm8k.json", "math.json"):
        source += json.loads((DATA / name).read_text())
    records = []
    for index in range(count):
        record = source[index % len(source)]
        copy = index // len(source)
        problem = record["problem"] if copy == 0 else f"{record['problem']}\n\n(Copy {copy}.)"
        records.append(
            {
                "id": f"{record['id']}-{copy}",
                "generator": record["generator"],
                "problem": problem,
                "steps": record["steps"],
                "final_answer_correct": record["final_answer_correct"],
                "label": record["label"],
            }
        )
    return records


# --- the two apps -------------------------------------------------------------------------------------


SETUP_SNIPPET = """
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
from annotations.models import Dataset, DatasetMembership
users = get_user_model().objects
manager = users.create_user("bench-manager", password={password!r})
annotator = users.create_user("bench-annotator", password={password!r})
dataset = Dataset.objects.create(name="Protocol bench", slug={slug!r}, annotations_per_solution=3)
DatasetMembership.objects.create(dataset=dataset, user=manager, role="manager")
DatasetMembership.objects.create(dataset=dataset, user=annotator, role="annotator")
print(Token.objects.create(user=manager).key)
"""


class Prmweb:
    name = "prmweb"

    def __init__(
        self, database: dict[str, str], workdir: Path, workers: int, ports: range = PORTS, repo: Path = REPO
    ) -> None:
        self.repo = repo  # the checkout whose code the server runs (--baseline: another one)
        self.workdir = workdir
        self.workers = workers
        self.ports = ports
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "prmweb.settings.base",
            "DATABASE_URL": database["url"],
            "STATIC_ROOT": str(workdir / "static"),
            "EXPORT_ROOT": str(workdir / "exports"),
            "MEDIA_ROOT": str(workdir / "media"),
            "CELERY_BROKER_URL": "",
            "CACHE_URL": "locmemcache://",
            "PYTHONPATH": str(repo),
        }
        self.process: subprocess.Popen | None = None
        self.api = Client("")
        self.browser = Client("")

    def _manage(self, *args: str) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            env=self.env,
            cwd=self.repo,
            check=True,
            capture_output=True,
            text=True,
        )
        return result.stdout

    def prepare(self) -> None:
        subprocess.run([sys.executable, "-m", "compileall", "-q", "annotations", "scoring", "prmweb"], cwd=self.repo)
        self._manage("migrate", "--noinput")
        self._manage("collectstatic", "--noinput", "-v", "0")
        token = self._manage("shell", "-c", SETUP_SNIPPET.format(password=PASSWORD, slug=SLUG)).strip().splitlines()[-1]
        self.token = token

    def cold_start(self, runs: int) -> dict[str, list[float]]:
        figures = {
            "manage.py help": median_seconds(
                [sys.executable, "manage.py", "help"], env=self.env, cwd=self.repo, runs=runs
            )
        }
        port = free_port(self.ports)
        self.api = Client(f"http://127.0.0.1:{port}", headers={"Authorization": f"Token {self.token}"})
        self.browser = Client(f"http://127.0.0.1:{port}")
        command = [sys.executable, "-m", "gunicorn", "prmweb.wsgi:application", "--bind", f"127.0.0.1:{port}"]
        command += ["--workers", str(self.workers), "--timeout", "900", "--log-level", "warning"]
        self.process = subprocess.Popen(command, cwd=self.repo, env=self.env)
        figures["server start to first 200"] = [wait_for_200(Client(self.api.base), "/health/", self.process)]
        return figures

    def idle_rss(self) -> float:
        if self.process is None:
            raise RuntimeError("the server is not running")
        expect(Client(self.browser.base).request("GET", "/accounts/login/"), 200, what="login page")
        return max(rss_mib(pid) for pid in children(self.process.pid))

    def log_in(self) -> None:
        expect(self.browser.request("GET", "/accounts/login/"), 200, what="login page")
        form = {"username": "bench-annotator", "password": PASSWORD, "csrfmiddlewaretoken": self._csrf()}
        reply = self.browser.request("POST", "/accounts/login/", form=form, headers=self._referer("/accounts/login/"))
        expect(reply, 302, what="log in")

    def _csrf(self) -> str:
        return self.browser.cookies.get("csrftoken", "")

    def _referer(self, path: str) -> dict[str, str]:
        return {"Referer": f"{self.browser.base}{path}"}

    def ingest(self, records: list[dict[str, Any]], batch: int) -> list[Reply]:
        replies = []
        for start in range(0, len(records), batch):
            reply = self.api.request(
                "POST", f"/api/v1/datasets/{SLUG}/solutions/", json_body=records[start : start + batch]
            )
            replies.append(expect(reply, 201, what="bulk ingestion"))
        return replies

    def next_item(self) -> tuple[Reply, int]:
        reply = expect(self.browser.request("GET", f"/datasets/{SLUG}/next/"), 302, what="next item")
        return reply, int(reply.headers["Location"].rstrip("/").rsplit("/", 1)[-1])

    def page(self, item: int) -> Reply:
        return expect(self.browser.request("GET", f"/annotate/{item}/"), 200, what="annotation page")

    def submit(self, item: int, step: int) -> Reply:
        path = f"/annotate/{item}/"
        form = {"earliest_error_step": step, "seconds_spent": "12.5", "csrfmiddlewaretoken": self._csrf()}
        if step == -1:
            form["confirm_all_correct"] = "on"
        return expect(self.browser.request("POST", path, form=form, headers=self._referer(path)), 302, what="submit")

    def exports(self) -> Iterator[tuple[str, float | None, int | str, int]]:
        """Yield (format, seconds, bytes, rows) per format; seconds None and the reason for one without rows."""
        from annotations.exporters import FORMATTERS

        for name in FORMATTERS:
            body = {"dataset": SLUG, "format": name, "file_format": "jsonl"}
            reply = self.api.request("POST", "/api/v1/exports/", json_body=body)
            export = expect(reply, 201, what=f"export {name}").json()
            if export["status"] != "succeeded" and "none gave a row" in export["error"]:
                yield name, None, export["error"], 0  # e.g. critique formats: no explanation written by people
                continue
            if export["status"] != "succeeded":
                raise RuntimeError(f"export {name} {export['status']}: {export['error']}")
            download = self.api.request("GET", f"/api/v1/exports/{export['id']}/download/", keep_body=False)
            expect(download, 200, what=f"download export {name}")
            yield name, reply.seconds + download.seconds, download.size, sum(export["row_counts"].values())

    def stored(self) -> int:
        reply = expect(self.api.request("GET", f"/api/v1/datasets/{SLUG}/"), 200, what="dataset")
        return int(reply.json()["solution_count"])

    def close(self) -> None:
        stop(self.process)


class LabelStudio:
    name = "Label Studio"

    def __init__(
        self, database: dict[str, str], workdir: Path, url: str, token: str, executable: str, ports: range = PORTS
    ) -> None:
        self.ports = ports
        self.database = database
        self.workdir = workdir
        self.url = url
        self.token = token or "protocol-bench-ls-token"
        self.executable = executable
        self.process: subprocess.Popen | None = None
        self.api = Client(url, headers={"Authorization": f"Token {self.token}"})

    def _env(self) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")}
        env.update(json.loads(self.database.get("ls_env", "{}")))
        env["LABEL_STUDIO_BASE_DATA_DIR"] = str(self.workdir / "ls-data")
        # Loopback only: no version check against pypi.org, no analytics.
        env.update(LATEST_VERSION_CHECK="false", COLLECT_ANALYTICS="false", SENTRY_DSN="", FRONTEND_SENTRY_DSN="")
        env["LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN"] = "true"
        return env

    def prepare(self) -> None:
        """Migrate a fresh database before the timed start (`label-studio version` migrates, then exits)."""
        if self.executable:
            log = (self.workdir / "label-studio-migrate.log").open("w")
            subprocess.run(
                [self.executable, "version"], env=self._env(), stdout=log, stderr=subprocess.STDOUT, check=True
            )

    def cold_start(self, runs: int) -> dict[str, list[float]]:
        if not self.executable:
            return {}
        python = str(Path(self.executable).with_name("python"))
        package = subprocess.run(
            [python, "-c", "import label_studio, os; print(os.path.dirname(label_studio.__file__))"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        env = {**self._env(), "DJANGO_SETTINGS_MODULE": "core.settings.label_studio"}
        figures = {
            "manage.py help": median_seconds([python, "manage.py", "help"], env=env, cwd=Path(package), runs=runs)
        }
        port = free_port(self.ports)
        self.api = Client(f"http://127.0.0.1:{port}", headers={"Authorization": f"Token {self.token}"})
        command = [
            self.executable,
            "start",
            "--no-browser",
            "--port",
            str(port),
            "--data-dir",
            str(self.workdir / "ls-data"),
        ]
        command += ["--username", "bench@example.com", "--password", PASSWORD, "--user-token", self.token]
        command.append("--enable-legacy-api-token")  # new organizations refuse legacy tokens otherwise
        log = (self.workdir / "label-studio.log").open("w")
        self.process = subprocess.Popen(command, env=self._env(), stdout=log, stderr=subprocess.STDOUT)
        figures["server start to first 200"] = [wait_for_200(Client(self.api.base), "/health", self.process, limit=600)]
        return figures

    def idle_rss(self) -> float:
        if self.process is None:
            return float("nan")
        expect(self.api.request("GET", "/api/projects/"), 200, what="LS project list")
        return max(rss_mib(pid) for pid in [self.process.pid, *children(self.process.pid)])

    def log_in(self) -> None:
        body = {"title": "Protocol bench", "label_config": LS_LABEL_CONFIG}
        self.project = expect(
            self.api.request("POST", "/api/projects/", json_body=body), 201, what="LS project"
        ).json()["id"]

    def ingest(self, records: list[dict[str, Any]], batch: int) -> list[Reply]:
        tasks = [{"data": record} for record in records]
        reply = self.api.request("POST", f"/api/projects/{self.project}/import", json_body=tasks)
        return [expect(reply, 201, what="LS import")]

    def next_item(self) -> tuple[Reply, int]:
        reply = expect(self.api.request("GET", f"/api/projects/{self.project}/next/"), 200, what="LS next")
        return reply, int(reply.json()["id"])

    def page(self, item: int) -> Reply:
        return expect(self.api.request("GET", f"/api/tasks/{item}/"), 200, what="LS task")

    def submit(self, item: int, step: int) -> Reply:
        result = [
            {
                "from_name": "earliest_error_step",
                "to_name": "problem",
                "type": "choices",
                "value": {"choices": [str(step)]},
            }
        ]
        body = {"result": result, "lead_time": 12.5}
        return expect(
            self.api.request("POST", f"/api/tasks/{item}/annotations/", json_body=body), 201, what="LS submit"
        )

    def exports(self) -> Iterator[tuple[str, float | None, int | str, int]]:
        path = f"/api/projects/{self.project}/export?exportType=JSON&download_all_tasks=true"
        reply = expect(self.api.request("GET", path), 200, what="LS export")
        yield "JSON (all tasks)", reply.seconds, reply.size, len(json.loads(reply.body))

    def stored(self) -> int:
        reply = expect(self.api.request("GET", f"/api/projects/{self.project}/"), 200, what="LS project")
        return int(reply.json()["task_number"])

    def close(self) -> None:
        stop(self.process)


# --- the protocol -------------------------------------------------------------------------------------


@dataclass
class Figures:
    app: str
    timings: dict[str, list[float]] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)

    def add(self, measure: str, seconds: float) -> None:
        self.timings.setdefault(measure, []).append(seconds)


def progress(app: Any, step: str) -> None:
    print(f"  {app.name}: {step}", file=sys.stderr, flush=True)


def run_protocol(app: Any, records: list[dict[str, Any]], args: argparse.Namespace) -> Figures:
    figures = Figures(app.name)
    progress(app, "preparing a fresh database")
    app.prepare()
    for measure, values in app.cold_start(args.cold_runs).items():
        figures.timings[measure] = values
    figures.notes["idle RSS MiB"] = f"{app.idle_rss():.0f}"
    app.log_in()
    progress(app, f"ingesting {len(records)} records")
    replies = app.ingest(records, args.batch)
    progress(app, f"{args.submits} rounds of next and submit")
    figures.add(f"ingest {len(records)} (total)", sum(reply.seconds for reply in replies))
    for round_index in range(args.submits):
        reply, item = app.next_item()
        if round_index < args.nexts:
            figures.add("next item", reply.seconds)
        if round_index < args.pages:
            figures.add("page load", app.page(item).seconds)
        figures.add("submit", app.submit(item, -1 if round_index % 2 else 0).seconds)
    progress(app, "exports" if args.exports else "no exports (--no-exports)")
    for name, seconds, size, rows in app.exports() if args.exports else ():
        if seconds is None:
            figures.notes[f"export {name}"] = f"not measured: {size}"
            continue
        figures.add(f"export {name}", seconds)
        figures.notes[f"export {name}"] = f"{rows} rows, {int(size) / 1e3:.0f} kB"
    figures.notes["stored solutions"] = str(app.stored())
    figures.notes["RSS after the protocol MiB"] = f"{app.idle_rss():.0f}"
    return figures


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


def table(database: str, ours: Figures, theirs: Figures | None) -> str:
    """Return the figures as a Markdown table: n, median and p95 (ms) per side, and prmweb/LS of the medians."""
    header = "| measure | n | prmweb median ms | prmweb p95 ms |"
    rule = "| --- | ---: | ---: | ---: |"
    if theirs:
        header += " LS median ms | LS p95 ms | prmweb/LS |"
        rule += " ---: | ---: | ---: |"
    lines = [f"\n{database} (times in ms; every call on a new connection)", header, rule]
    ls_exports = [key for key in (theirs.timings if theirs else {}) if key.startswith("export ")]
    for measure, values in ours.timings.items():
        row = f"| {measure} | {len(values)} | {statistics.median(values) * 1000:.1f} | {p95(values) * 1000:.1f} |"
        if theirs:
            other = theirs.timings.get(measure) or (
                theirs.timings[ls_exports[0]] if measure.startswith("export ") and ls_exports else None
            )
            if other:
                ratio = statistics.median(values) / statistics.median(other)
                row += f" {statistics.median(other) * 1000:.1f} | {p95(other) * 1000:.1f} | {ratio:.2f} |"
            else:
                row += " - | - | - |"
        lines.append(row)
    for side in (ours, theirs):
        if side:
            lines += [f"{side.app}: {key}: {value}" for key, value in side.notes.items()]
    return "\n".join(lines)


def run_database(kind: str, args: argparse.Namespace, records: list[dict[str, Any]]) -> tuple[Figures, Figures | None]:
    """Run the protocol on prmweb, then on Label Studio if asked, each on a fresh database of this kind."""
    with tempfile.TemporaryDirectory(prefix="protocol-bench-") as folder:
        workdir = Path(folder)
        with fresh_database(kind, args.pg_url, args.pg_name or f"protocol_bench_{os.getpid()}", workdir) as database:
            ours_app = Prmweb(database, workdir, args.workers, args.ports)
            try:
                ours = run_protocol(ours_app, records, args)
            finally:
                ours_app.close()
        theirs = None
        if args.label_studio or args.label_studio_bin:
            ls_database: contextlib.AbstractContextManager[dict[str, str]] = (
                contextlib.nullcontext({"kind": "its own"})
                if args.label_studio
                else fresh_database(kind, args.pg_url, f"protocol_bench_ls_{os.getpid()}", workdir)
            )
            with ls_database as database:
                ls_app = LabelStudio(
                    database, workdir, args.label_studio, args.ls_token, args.label_studio_bin, args.ports
                )
                try:
                    theirs = run_protocol(ls_app, records, args)
                finally:
                    ls_app.close()
        return ours, theirs


def run_baseline_ab(kind: str, args: argparse.Namespace, records: list[dict[str, Any]]) -> dict[str, Figures]:
    """Run this checkout's prmweb and the `--baseline` checkout's side by side, alternating every round.

    Each gets its own fresh database and server; then round by round both do next (page) submit, the one
    that goes first alternating, so both see the same load on a shared machine. No exports.
    """
    base = args.pg_name or f"protocol_bench_{os.getpid()}"
    sides = {"baseline": Path(args.baseline).resolve(), "this checkout": REPO}
    figures = {label: Figures(label) for label in sides}
    apps: dict[str, Prmweb] = {}
    with contextlib.ExitStack() as stack:
        for index, (label, repo) in enumerate(sides.items()):
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="protocol-bench-")))
            database = stack.enter_context(fresh_database(kind, args.pg_url, f"{base}_{'ab'[index]}", workdir))
            app = apps[label] = Prmweb(database, workdir, args.workers, args.ports, repo)
            stack.callback(app.close)
            progress(app, f"{label}: preparing, starting, ingesting {len(records)} records")
            app.prepare()
            figures[label].timings.update(app.cold_start(args.cold_runs))
            app.log_in()
            figures[label].add(
                f"ingest {len(records)} (total)", sum(reply.seconds for reply in app.ingest(records, args.batch))
            )
        progress(apps["baseline"], f"{args.submits} rounds of next and submit on both, alternating")
        for round_index in range(args.submits):
            for label in list(sides)[:: 1 if round_index % 2 == 0 else -1]:
                reply, item = apps[label].next_item()
                if round_index < args.nexts:
                    figures[label].add("next item", reply.seconds)
                if round_index < args.pages:
                    figures[label].add("page load", apps[label].page(item).seconds)
                figures[label].add("submit", apps[label].submit(item, -1 if round_index % 2 else 0).seconds)
    return figures


def ab_table(database: str, figures: dict[str, Figures]) -> str:
    """Return the A/B figures as a Markdown table: median and p95 (ms) of each side, and this/baseline."""
    old, new = figures["baseline"], figures["this checkout"]
    lines = [
        f"\n{database}, beside --baseline, alternating (times in ms; every call on a new connection)",
        "| measure | n | baseline median | baseline p95 | this median | this p95 | median ratio | p95 ratio |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for measure, values in new.timings.items():
        before = old.timings[measure]
        lines.append(
            f"| {measure} | {len(values)} | {statistics.median(before) * 1000:.1f} | {p95(before) * 1000:.1f} | "
            f"{statistics.median(values) * 1000:.1f} | {p95(values) * 1000:.1f} | "
            f"{statistics.median(values) / statistics.median(before):.2f} | {p95(values) / p95(before):.2f} |"
        )
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=1000, help="records per prmweb bulk request")
    parser.add_argument("--submits", type=int, default=1000)
    parser.add_argument("--nexts", type=int, default=200)
    parser.add_argument("--pages", type=int, default=50)
    parser.add_argument("--cold-runs", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--databases", default="sqlite", help="comma-separated: sqlite, postgres")
    parser.add_argument("--pg-url", default="postgres://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--pg-name", default="", help="prmweb's database (dropped and created); protocol_bench_<pid>")
    parser.add_argument("--label-studio", default="", help="URL of a running Label Studio (with --ls-token)")
    parser.add_argument("--ls-token", default="", help="its API token (legacy token)")
    parser.add_argument("--label-studio-bin", default="", help="a label-studio executable to start for each database")
    parser.add_argument("--ports", default="8600-8699", help="the servers' ports: a free one in FIRST-LAST")
    parser.add_argument("--no-exports", dest="exports", action="store_false", help="skip the exports")
    parser.add_argument(
        "--baseline", default="", help="another checkout (e.g. a worktree at main): run both, alternating rounds"
    )
    args = parser.parse_args(argv)
    databases = [name.strip() for name in args.databases.split(",") if name.strip()]
    unknown = sorted(set(databases) - {"sqlite", "postgres"})
    if unknown:
        parser.error(f"--databases: unknown {', '.join(unknown)} (sqlite, postgres)")
    if args.baseline and not (Path(args.baseline) / "manage.py").is_file():
        parser.error(f"--baseline: {args.baseline} is not a checkout of prmweb (no manage.py)")
    if args.label_studio and not args.ls_token:
        parser.error("--label-studio needs --ls-token")
    if min(args.records, args.batch, args.submits) < 1 or args.submits > args.records:
        parser.error("--records, --batch and --submits must be positive, --submits at most --records")
    first, _, last = args.ports.partition("-")
    if not (first.isdigit() and last.isdigit() and 1024 <= int(first) <= int(last) <= 65535):
        parser.error(f"--ports: {args.ports!r} is not FIRST-LAST, e.g. 8600-8699")
    args.databases = databases
    args.ports = range(int(first), int(last) + 1)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    records = processbench_records(args.records)
    print(f"protocol bench: {args.records} records, {args.submits} submits, every request on a new connection")
    for kind in args.databases:
        if args.baseline:
            print(ab_table(kind, run_baseline_ab(kind, args, records)), flush=True)
        else:
            print(table(kind, *run_database(kind, args, records)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
