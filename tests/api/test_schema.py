"""The OpenAPI schema, the docs served from local files, and /api/v1/genres/."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from django.core.management import call_command

from tests.api.conftest import assert_error

pytestmark = pytest.mark.django_db


def test_the_schema_generates_and_validates_without_warnings(tmp_path):
    target = tmp_path / "schema.yaml"

    # --fail-on-warn turns every drf-spectacular warning and error into a failure.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))

    schema = yaml.safe_load(target.read_text())
    assert schema["openapi"].startswith("3.")
    assert len(schema["paths"]) == 15


def test_every_operation_documents_its_errors_in_the_error_shape(client):
    schema = client.get("/api/schema/?format=json").json()

    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert {"401", "403"} <= responses.keys(), (method, path)
            error = responses["401"]["content"]["application/json"]["schema"]
            assert error == {"$ref": "#/components/schemas/Error"}


def test_the_schema_and_docs_are_public_and_use_no_cdn(client):
    docs = client.get("/api/docs/")
    redoc = client.get("/api/redoc/")

    assert client.get("/api/schema/").status_code == 200
    assert docs.status_code == 200
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in docs.text
    assert '<script src="/api/redoc/redoc.standalone.js">' in redoc.text  # the sidecar's, see below
    for page in (docs, redoc):
        assert "cdn.jsdelivr.net" not in page.text
        assert "unpkg.com" not in page.text


def test_redocs_script_is_the_sidecars_without_redoclys_logo_address(client):
    """Issue 26.9: ReDoc asked cdn.redoc.ly for Redocly's logo; the page's policy blocked it, but the
    browser still tried. The served bundle has `data:,` there, which the logo's error handler hides."""
    from django.contrib.staticfiles import finders

    response = client.get("/api/redoc/redoc.standalone.js")
    original = Path(finders.find("drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js")).read_bytes()

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert b"cdn.redoc.ly" in original
    assert b"cdn.redoc.ly" not in response.content
    assert response.content == original.replace(b"https://cdn.redoc.ly/redoc/logo-mini.svg", b"data:,")


def test_the_docs_static_files_are_served(client):
    assert (
        client.get("/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js").status_code == 200
    )


def test_genres_lists_the_models_labels_and_version(api):
    body = api.get("/api/v1/genres/").json()

    assert body["model_name"] == "musicnn-prototypes-7"
    assert body["model_version"] == "1.0.0"
    assert {"slug": "rnb", "name": "R&B"} in body["genres"]
    assert len(body["genres"]) == 7


def test_genres_need_authentication(anonymous):
    assert_error(anonymous.get("/api/v1/genres/"), 401, "not_authenticated")
