"""Fixtures shared by the whole suite: brokers, Celery workers, a real browser."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from sevenfour_site.celery import app as celery_app

# The fake Spotify, Deezer, iTunes and Freesound servers, for every test folder.
pytest_plugins = ["fakeapis.plugin"]

CHROMIUM = "/usr/bin/chromium"
# Every queue, in the order of the single worker that `make run` starts (Procfile.dev).
ALL_QUEUES = "ml,celery,sweeps,renders,ml-background"
ROOT = Path(__file__).resolve().parents[1]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Refuse `serialized_rollback`: it cannot be mixed with the suite's other transactional tests.

    A transactional test ends with a flush, after which post_migrate creates the content types and
    permissions again under new ids. A later test with `serialized_rollback` then restores the rows
    saved after migrate, with their old ids, and fails on django_content_type's unique
    (app_label, model). Rows that a data migration seeds are made again by the fixture that needs
    them instead (`genres` in tests/samples/conftest.py).
    """
    for item in items:
        marker = item.get_closest_marker("django_db")
        if (marker and marker.kwargs.get("serialized_rollback")) or (
            "django_db_serialized_rollback" in getattr(item, "fixturenames", ())
        ):
            raise pytest.UsageError(
                f"{item.nodeid}: do not use serialized_rollback (see tests/conftest.py); "
                "seed the rows the test needs in a fixture"
            )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def user(db):
    from tests.accounts.factories import UserFactory

    return UserFactory(username="ada")


@pytest.fixture
def other_user(db):
    from tests.accounts.factories import UserFactory

    return UserFactory(username="bob")


@pytest.fixture
def signed_in(client, user):
    """Django's test client, signed in as `user` (a module overrides `user` to sign in as another)."""
    client.force_login(user)
    return client


class FakeClock:
    """A clock that stands still until a test moves it: pass it where code takes a `clock`."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    """A FakeClock; a folder that must patch it into a module overrides this fixture and asks for it."""
    return FakeClock()


@pytest.fixture
def enqueued(monkeypatch) -> list[int]:
    """The prediction ids whose samples stage was queued, instead of sending them to a worker."""
    sent: list[int] = []
    monkeypatch.setattr(
        "samples.stage.recommendation_run_enqueue", lambda prediction_id: sent.append(prediction_id)
    )
    return sent


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _no_audio_index_on_arrival(settings) -> None:
    """New sounds would send the audio index job (the backbone on every preview) to any worker a
    test runs; the tests of that job (tests/samples/test_indexing.py) turn it back on."""
    settings.AUDIO_INDEX_ENABLED = False


@pytest.fixture(autouse=True)
def _fresh_fragments() -> Iterator[None]:
    """Rendered panels are cached per process (core.fragments): a test that overrides a setting
    the panels read must not see another test's."""
    from core.fragments import fragments

    fragments.clear()
    yield
    fragments.clear()


# --- Redis -----------------------------------------------------------------------------------


def _wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port} after {timeout} s")


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """REDIS_URL when set (CI); else a throwaway redis-server on a free port; else skip."""
    if url := os.environ.get("REDIS_URL"):
        yield url
        return
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("needs Redis: set REDIS_URL or install redis-server")
    port = free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_port(port)
        yield f"redis://127.0.0.1:{port}/15"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


# --- Celery ----------------------------------------------------------------------------------


@contextmanager
def broker_configured(url: str, transport_options: dict | None = None) -> Iterator[None]:
    """Point the project's Celery app at another broker for the duration of a test.

    Celery caches its connection pool and producer pool on first use; clearing them makes the
    next publish (and the next worker) connect to the new URL.
    """
    conf = celery_app.conf
    saved = (conf.broker_url, conf.broker_transport_options)
    # The order workers take their queues in is the project's (settings), whatever the broker.
    order = {k: v for k, v in conf.broker_transport_options.items() if k == "queue_order_strategy"}
    conf.broker_url = url  # type: ignore[misc]  # Settings.__setattr__ stores it; the stubs see the getter
    conf.broker_transport_options = {**order, **(transport_options or {})}
    _drop_pools()
    try:
        yield
    finally:
        conf.broker_url, conf.broker_transport_options = saved  # type: ignore[misc]  # Settings.__setattr__ stores it; the stubs see the getter
        _drop_pools()


def _drop_pools() -> None:
    celery_app._pool = None  # type: ignore[attr-defined]  # private cache, not in the stubs
    celery_app.amqp._producer_pool = None  # type: ignore[attr-defined]  # private cache, not in the stubs


def filesystem_broker_options(root: Path) -> dict[str, str]:
    folders = {name: root / name for name in ("queue", "processed", "control")}
    for folder in folders.values():
        folder.mkdir(parents=True, exist_ok=True)
    return {
        "data_folder_in": str(folders["queue"]),
        "data_folder_out": str(folders["queue"]),
        "processed_folder": str(folders["processed"]),
        "control_folder": str(folders["control"]),
    }


@pytest.fixture
def redis_broker(redis_url: str) -> Iterator[str]:
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    with broker_configured(redis_url):
        yield redis_url


@pytest.fixture
def filesystem_broker(tmp_path: Path) -> Iterator[Path]:
    root = tmp_path / "broker"
    with broker_configured("filesystem://", filesystem_broker_options(root)):
        yield root


@pytest.fixture
def job_broker(request) -> str:
    """The broker the suite runs jobs through: Redis when REDIS_URL is set (CI), else the embedded one."""
    if os.environ.get("REDIS_URL"):
        return request.getfixturevalue("redis_broker")
    return str(request.getfixturevalue("filesystem_broker"))


@contextmanager
def running_worker(**kwargs: object) -> Iterator[object]:
    """A real Celery worker consuming from the configured broker, in a thread of this process."""
    from celery.contrib.testing.worker import start_worker

    options: dict[str, Any] = {
        "pool": "solo",
        "queues": ALL_QUEUES.split(","),
        "perform_ping_check": False,
        "loglevel": "WARNING",
        "shutdown_timeout": 30,
    }
    options.update(kwargs)
    with start_worker(celery_app, **options) as worker:
        yield worker


def database_url() -> str:
    """The URL of the test database, for worker processes started by a test."""
    from django.db import connection

    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    user = db["USER"] or ""
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return f"postgres://{user}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def start_worker_process(
    redis_url: str,
    log_path: Path,
    *,
    name: str,
    queues: str = ALL_QUEUES,
    beat_dir: Path | None = None,
    env: dict[str, str] | None = None,
    concurrency: int = 1,
    extra_args: tuple[str, ...] = (),
) -> subprocess.Popen:
    """A real `celery worker` process (prefork, one child unless told) on `redis_url` and the test database,
    logging to `log_path`, in its own session (stop it with os.killpg). `env` is set over ours;
    with `beat_dir` the worker also runs beat, its schedule file in that folder."""
    from django.conf import settings

    worker_env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "sevenfour_site.test_settings",
        "DATABASE_URL": database_url(),
        "REDIS_URL": redis_url,
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        **(env or {}),
    }
    command = [sys.executable, "-m", "celery", "-A", "sevenfour_site", "worker", "--pool", "prefork",
               "--concurrency", str(concurrency), "--queues", queues, "--hostname", f"{name}@%h", "--loglevel", "INFO",
               "--without-gossip", "--without-mingle"]  # fmt: skip
    if beat_dir is not None:
        command += ["--beat", "--schedule", str(beat_dir / "beat-schedule")]
    command += extra_args
    return subprocess.Popen(
        command,
        cwd=ROOT,
        env=worker_env,
        stdout=log_path.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def wait_until(predicate, timeout: float = 30.0, interval: float = 0.1) -> bool:
    """Poll `predicate` until it is truthy; False after `timeout` seconds (callers assert on it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())


# --- Browser ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def chromium() -> Iterator[object]:
    """Debian's Chromium driven by Playwright (Playwright's own browser download is not possible here)."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"browser tests need {CHROMIUM} (apt-get install chromium)")
    # Playwright's sync API runs an event loop in this thread; Django's ORM refuses to run in a
    # thread with a running loop unless told that this is deliberate.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(chromium, live_server) -> Iterator[object]:
    context = chromium.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


def sign_in(context, live_server_url: str, user) -> None:
    """Give a Playwright browser context the session cookie of `user`, signed in by Django's test client."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server_url}]
    )


@pytest.fixture
def signed_in_page(page, live_server) -> tuple[object, object]:
    """The `page` signed in as a fresh user, for the browser tests: (page, user)."""
    from tests.accounts.factories import UserFactory

    user = UserFactory(username="browser-user")
    sign_in(page.context, live_server.url, user)
    return page, user


@pytest.fixture
def browser_as(chromium, live_server) -> Iterator[object]:
    """A factory: `browser_as(user, width=390)` is a Chromium page signed in as `user`, `width` px wide."""
    contexts = []

    def open_page(user, *, width: int = 1280, height: int = 900, **options: object):
        context = chromium.new_context(
            base_url=live_server.url, viewport={"width": width, "height": height}, **options
        )
        context.set_default_timeout(15_000)
        sign_in(context, live_server.url, user)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


def no_horizontal_overflow(page) -> bool:
    """True when nothing on the page is wider than the viewport (no sideways scrolling)."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def screenshot_at(page, folder: str, name: str, at: str) -> None:
    """With `folder` set (each browser module reads it from its own environment variable), save the
    window scrolled to the first `at` as `folder/name`: the pictures of docs and reviews."""
    if not folder:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    page.locator(at).first.evaluate("e => window.scrollTo(0, e.getBoundingClientRect().top + scrollY - 72)")
    page.wait_for_timeout(300)
    page.screenshot(path=str(Path(folder) / name))


@pytest.fixture
def sent_tasks(monkeypatch) -> list[tuple[str, tuple]]:
    """Tasks accounts sends (the password reset mail) run at once, as the I/O worker would run
    them, and are listed here: the request itself only sends them."""
    import accounts.tasks  # noqa: F401  # registers the tasks, as the worker's autodiscovery does
    from sevenfour_site.celery import app as celery_app

    sent: list[tuple[str, tuple]] = []

    def run(task_name: str, *args: object, waiting: str) -> bool:
        sent.append((task_name, args))
        celery_app.tasks[task_name].apply(args=args, throw=True)
        return True

    monkeypatch.setattr("accounts.services.task_send", run)
    return sent
