"""What an ML pool process preloads at its start (sevenfour_site.ml_worker.served_folder_at_start): the
promoted version, read on a database connection of its own; GENRE_MODEL_DIR or the shipped default,
with one log line, when the database is down, silent or not migrated. No model is loaded here."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connections

from predictions import learning
from sevenfour_site import ml_worker
from tests.conftest import free_port
from tests.predictions.test_learning import reviewed
from worker.heads.genre_head import ZEROSHOT_ARTIFACT_DIR


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port that accepts TCP connections and never answers (a hung database server)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield sock.getsockname()[1]


@pytest.mark.django_db(transaction=True)  # committed: the process reads on its own connection
def test_reads_the_promoted_version_on_a_connection_of_its_own_and_leaves_the_inherited_one(
    settings, tmp_path: Path
) -> None:
    settings.VAR_DIR, settings.GENRE_MODEL_DIR = tmp_path / "var", ""
    for pk in (1, 10):  # one to learn from, one held back to evaluate on
        reviewed(pk, "rock")
    version = learning.model_version_promote(learning.model_version_build())
    inherited = connections["default"]
    inherited.ensure_connection()
    socket_before = inherited.connection

    served = ml_worker.served_folder_at_start()

    assert served == learning.ServedFolder(version.artifact_dir, learning.PROMOTED)
    assert connections["default"] is inherited
    assert inherited.connection is socket_before  # neither used nor closed
    assert inherited.is_usable()


@pytest.mark.django_db
@pytest.mark.parametrize("database", ["refused", "silent", "not migrated"])
def test_falls_back_with_one_log_line_when_the_database_cannot_say(
    database: str, settings, tmp_path: Path, monkeypatch, caplog, request
) -> None:
    db = dict(connections.settings["default"])
    if database == "not migrated":
        db.update(ENGINE="django.db.backends.sqlite3", NAME=str(tmp_path / "empty.sqlite3"), OPTIONS={})
    else:
        port = free_port() if database == "refused" else request.getfixturevalue("silent_server")
        db.update(
            ENGINE="django.db.backends.postgresql", HOST="127.0.0.1", PORT=port, NAME="sevenfour", OPTIONS={}
        )
    monkeypatch.setattr(connections, "settings", {"default": db})
    settings.GENRE_MODEL_DIR = str(ZEROSHOT_ARTIFACT_DIR)

    with caplog.at_level(logging.WARNING, logger="sevenfour_site.ml_worker"):
        served = ml_worker.served_folder_at_start()

    assert served == learning.ServedFolder(str(ZEROSHOT_ARTIFACT_DIR), learning.CONFIGURED)
    [record] = caplog.records
    message = record.getMessage()
    assert message.startswith("could not read the promoted genre model version (OperationalError: ")
    assert message.endswith("preloading GENRE_MODEL_DIR instead")
    assert "\n" not in message
