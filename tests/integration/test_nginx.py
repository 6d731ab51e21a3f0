"""A real nginx serving a static PEP 503 folder: the index most private mirrors are.

The folder (``simple/<name>/index.html`` with relative links and ``#sha256``, no sizes,
no PEP 658, ``files/``) is generated in tmp_path, and nginx runs in the foreground on a
free loopback port with its config, pid, logs and temp paths in tmp_path too. nginx
sends its own validators (``ETag: "<mtime>-<size>"``, Last-Modified) and honours
ranges its own way; its access log (``$request $status $http_range``) is the wire
record the assertions read.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import Result

from tests.support.lockcheck import check_lock
from tests.support.shape_graph import PINS_A, TARGET, expected_files, shape_dists
from tests.support.wheels import write_static_index

Run = Callable[..., Result]

_START_TIMEOUT = 10.0
_STOP_TIMEOUT = 10.0
_LOG_TIMEOUT = 10.0
#: What the readiness probe asks for (a 404); left out of the parsed log.
_PROBE = "/lockgen-probe"
#: Temp-path directives of modules a build may leave out (then the directive is unknown).
_MODULE_TEMP_PATHS = {
    "proxy": "proxy_temp_path",
    "fastcgi": "fastcgi_temp_path",
    "uwsgi": "uwsgi_temp_path",
    "scgi": "scgi_temp_path",
}


def _nginx() -> str | None:
    path = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
    return shutil.which("nginx", path=path)


pytestmark = pytest.mark.skipif(
    _nginx() is None,
    reason="nginx is not installed (apt-get install nginx-light; .ci/run does)",
)


@dataclass(frozen=True)
class LogLine:
    """One access-log line: ``GET /path HTTP/1.1 206 "bytes=-32768"``."""

    method: str
    path: str
    status: int
    range: str | None


@dataclass
class Nginx:
    """A running nginx and where its access log is."""

    index_url: str
    access_log: Path

    def lines(self, at_least: int = 0) -> list[LogLine]:
        """Every request so far but the probe, once there are ``at_least`` of them
        (nginx writes a line as each request ends, maybe after the client is done)."""
        deadline = time.monotonic() + _LOG_TIMEOUT
        while len(parsed := self._parse()) < at_least:
            if time.monotonic() > deadline:
                pytest.fail(f"nginx logged {len(parsed)} requests, expected {at_least}")
            time.sleep(0.01)
        return parsed

    def _parse(self) -> list[LogLine]:
        parsed = []
        for line in self.access_log.read_text().splitlines():
            request, _, rest = line.rpartition(" HTTP/")
            method, _, path = request.partition(" ")
            _, status, quoted = rest.split(" ", 2)
            value = quoted.strip('"').strip("-")  # nginx logs an empty value as -
            if path != _PROBE:
                parsed.append(LogLine(method, path, int(status), value or None))
        return parsed


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _config(root: Path, state: Path, port: int, binary: str) -> str:
    built = subprocess.run([binary, "-V"], capture_output=True, text=True, check=False)
    temps = [("client_body_temp_path", "body")] + [
        (directive, module)
        for module, directive in _MODULE_TEMP_PATHS.items()
        if f"--without-http_{module}_module" not in built.stderr
    ]
    temp_lines = "".join(f"    {d} {state / name};\n" for d, name in temps)
    user = (
        "user root root;\n" if os.geteuid() == 0 else ""
    )  # workers must read tmp_path
    return (
        f"{user}daemon off;\nworker_processes 1;\npid {state / 'nginx.pid'};\n"
        f"error_log {state / 'error.log'} warn;\n"
        "events { worker_connections 64; }\n"
        "http {\n"
        "    types { text/html html; application/octet-stream whl gz; }\n"
        "    default_type application/octet-stream;\n"
        "    log_format lockgen '$request $status \"$http_range\"';\n"
        f"    access_log {state / 'access.log'} lockgen;\n"
        f"{temp_lines}"
        "    server {\n"
        f"        listen 127.0.0.1:{port};\n"
        f"        root {root};\n"
        "        index index.html;\n"
        "    }\n"
        "}\n"
    )


def _wait_until_serving(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + _START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"nginx exited with {process.returncode}:\n{_read(log)}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except urllib.error.HTTPError:  # the probe's 404: nginx is up
            return
        except (urllib.error.URLError, OSError):
            time.sleep(0.05)
    pytest.fail(f"nginx did not answer {url}:\n{_read(log)}")


def _read(path: Path) -> str:
    return path.read_text() if path.exists() else "(no log)"


@pytest.fixture
def nginx(tmp_path: Path) -> Iterator[Nginx]:
    binary = _nginx()
    assert binary is not None
    root, state = tmp_path / "mirror", tmp_path / "nginx"
    write_static_index(shape_dists(), root, pep658=False)
    state.mkdir()
    port = _free_port()
    conf = state / "nginx.conf"
    conf.write_text(_config(root, state, port, binary))
    errors = state / "error.log"
    process = subprocess.Popen(
        [binary, "-p", str(state), "-c", str(conf), "-e", str(errors)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        index_url = f"http://127.0.0.1:{port}/simple/"
        _wait_until_serving(f"http://127.0.0.1:{port}{_PROBE}", process, errors)
        yield Nginx(index_url=index_url, access_log=state / "access.log")
    finally:
        process.terminate()
        try:
            process.wait(_STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_cold_and_warm_locks_match_without_whole_wheel_gets(
    nginx: Nginx, lockgen: Run, tmp_path: Path
) -> None:
    (tmp_path / "a.in").write_text("shape-app\n")

    def lock(output: str) -> tuple[bytes, int]:
        result = lockgen("lock", "a.in", "-i", nginx.index_url, "-o", output, *TARGET)
        assert result.exit_code == 0, result.output
        requests = re.search(r"\((\d+) requests", result.stderr)
        assert requests is not None, result.stderr
        return (tmp_path / output).read_bytes(), int(requests[1])

    cold, cold_requests = lock("pylock.cold.toml")
    cold_lines = nginx.lines(at_least=cold_requests)
    warm, warm_requests = lock("pylock.warm.toml")
    warm_lines = nginx.lines(at_least=cold_requests + warm_requests)[len(cold_lines) :]
    assert (len(cold_lines), len(warm_lines)) == (cold_requests, warm_requests)
    assert warm == cold
    data = check_lock(tmp_path / "pylock.cold.toml")
    pins = {p["name"]: p["version"] for p in data["packages"]}
    assert pins == PINS_A
    hashes = {
        p["name"]: sorted(
            (f["url"].rsplit("/", 1)[1], f["hashes"]["sha256"])
            for f in [*p.get("wheels", []), *filter(None, [p.get("sdist")])]
        )
        for p in data["packages"]
    }
    assert hashes == {
        name: files for name, (_, files) in expected_files(PINS_A).items()
    }

    whole_wheels = [
        line
        for line in cold_lines + warm_lines
        if line.method == "GET" and line.path.endswith(".whl") and line.range is None
    ]
    assert whole_wheels == []
    assert [line for line in warm_lines if line.path.startswith("/files/")] == []
    pages = {line.status for line in warm_lines}
    assert pages == {304}, warm_lines  # nginx's own ETag / Last-Modified revalidate

    result = lockgen("hydrate", "pylock.cold.toml", "-d", "wheelhouse", *TARGET)
    assert result.exit_code == 0, result.output
    fetched = sorted(p.name for p in (tmp_path / "wheelhouse").iterdir())
    best = sorted(p["tool"]["lockgen"]["metadata-file"] for p in data["packages"])
    assert fetched == best  # the target's wheels, sha256-checked, no size to check
