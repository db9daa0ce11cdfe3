"""Two local Scrapyd hosts for the scale-out tests: starting them, and the host entries a config gives them."""

from __future__ import annotations

import configparser
import io
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.support.services import REPO

PILOT_YAML = REPO / "pilot.yaml"


SCRAPYD = Path(sys.executable).with_name("scrapyd")


DOCS_SCRAPYD_CONF = REPO / "docs" / "scrapyd.conf"


USERNAME, PASSWORD = "pricewatch", "s3cret-scrapyd"  # the user docs/scrapyd.conf names


_START_SECONDS = 30


_START_ATTEMPTS = 3  # a free port found before the start may be taken by the time Scrapyd binds it


@dataclass
class Scrapyd:
    """One running Scrapyd: its URL, home directory and its own log (stdout and stderr)."""

    name: str
    url: str
    home: Path
    process: subprocess.Popen[bytes]
    auth: tuple[str, str] | None = None

    @property
    def log(self) -> str:
        return (self.home / "scrapyd.log").read_text(encoding="utf-8", errors="replace")

    def jobs(self) -> dict[str, Any]:
        """listjobs.json of the project."""
        response = httpx.get(f"{self.url}/listjobs.json", params={"project": "pricewatch"}, auth=self.auth)
        data: dict[str, Any] = response.json()
        return data

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def _scrapyd_conf(home: Path, port: int) -> str:
    """docs/scrapyd.conf, for a test: on 127.0.0.1 and a free port, one crawl at a time, quick to start a job."""
    conf = configparser.ConfigParser()
    conf.read(DOCS_SCRAPYD_CONF, encoding="utf-8")
    conf["scrapyd"].update(
        {
            "bind_address": "127.0.0.1",
            "http_port": str(port),
            "max_proc": "1",
            "poll_interval": "0.2",
            **{name: str(home / name.removesuffix("_dir")) for name in ("eggs_dir", "logs_dir", "dbs_dir")},
        }
    )
    text = io.StringIO()
    conf.write(text)
    return text.getvalue()


def _launch(name: str, home: Path, environment: dict[str, str], auth: tuple[str, str] | None) -> Scrapyd | None:
    """Start Scrapyd on a free port; None when it could not bind it."""
    port = free_port()
    (home / "scrapyd.conf").write_text(_scrapyd_conf(home, port), encoding="utf-8")
    with (home / "scrapyd.log").open("wb") as log:
        process = subprocess.Popen(
            [str(SCRAPYD), "--pidfile="], cwd=home, env=environment, stdout=log, stderr=subprocess.STDOUT
        )
    started = Scrapyd(name, f"http://127.0.0.1:{port}", home, process, auth)
    deadline = time.monotonic() + _START_SECONDS
    while time.monotonic() < deadline and process.poll() is None:
        if f"Site starting on {port}" in started.log:
            return started
        time.sleep(0.1)
    started.stop()
    if "Address already in use" in started.log:
        return None
    raise RuntimeError(f"Scrapyd {name} did not start: {started.log[-2000:]}")


def start_scrapyd(name: str, home: Path, env: dict[str, str], auth: tuple[str, str] | None = None) -> Scrapyd:
    home.mkdir(parents=True)
    own = {"DATABASE_URL", "PRICEWATCH_CONFIG", "SCRAPYD_USERNAME", "SCRAPYD_PASSWORD"}
    environment = {k: v for k, v in os.environ.items() if k not in own}
    # Scrapyd lists a project's spiders (schedule.json checks the name) in a subprocess that reads `[settings]`
    # only from scrapy.cfg files, not from scrapyd.conf: the hosts' environment names the settings module.
    environment |= {"SCRAPY_SETTINGS_MODULE": "crawler.settings", "PYTHONPATH": str(REPO), **env}
    if auth is not None:
        environment["SCRAPYD_PASSWORD"] = auth[1]  # docs/scrapyd.conf names the user, the environment the password
    for _ in range(_START_ATTEMPTS):
        started = _launch(name, home, environment, auth)
        if started is not None:
            return started
    raise RuntimeError(f"Scrapyd {name}: no free port after {_START_ATTEMPTS} attempts")


@dataclass(frozen=True)
class Pair:
    """Host `a` takes the database URL and config from its environment and wants a password; `b` gets both
    with each job."""

    a: Scrapyd
    b: Scrapyd
    db_url: str

    def __iter__(self) -> Iterator[Scrapyd]:
        return iter((self.a, self.b))


def host_a(pair: Pair) -> dict[str, Any]:
    return {"url": pair.a.url, "username": USERNAME, "password": "${SCRAPYD_TEST_PASSWORD}"}


# A host entry that sends the database URL and the config path with each job.
SENDS_ALL = {"database": "job", "config": str(PILOT_YAML)}


def host_b(pair: Pair) -> dict[str, Any]:
    return {"url": pair.b.url, **SENDS_ALL}


def closed_port_url() -> str:
    """A URL on 127.0.0.1 where nothing listens."""
    return f"http://127.0.0.1:{free_port()}"
