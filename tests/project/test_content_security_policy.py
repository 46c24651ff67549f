"""Every response carries the strict Content-Security-Policy; only the Swagger page's inline code runs, by nonce."""

import re

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def directives(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


@pytest.mark.parametrize("path", ["/", "/account/login/", "/admin/login/", "/api/v1/orders", "/healthz", "/metrics"])
def test_every_page_and_api_answer_has_a_strict_policy(path):
    policy = directives(Client().get(path))
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]  # no nonce where nothing inline is needed
    assert policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in str(policy)
    assert "'unsafe-eval'" not in str(policy)


def test_the_swagger_page_marks_its_inline_style_and_script_with_the_nonce_of_its_policy():
    response = Client().get("/api/docs/")
    policy = directives(response)
    nonce = policy["script-src"][1].removeprefix("'nonce-").removesuffix("'")
    assert policy["style-src"] == ["'self'", f"'nonce-{nonce}'"]
    html = response.content.decode()
    inline = re.findall(r"<(script|style)([^>]*)>", html)
    assert inline
    for tag, attributes in inline:
        assert "src=" in attributes or f'nonce="{nonce}"' in attributes, (tag, attributes)


def test_each_response_gets_a_new_nonce():
    first, second = (directives(Client().get("/api/docs/"))["script-src"][1] for _ in range(2))
    assert first != second


def test_no_template_has_inline_styles_or_scripts():
    from pathlib import Path

    import countermand

    offenders = []
    for template in Path(countermand.__file__).parent.rglob("templates/**/*.html"):
        text = template.read_text()
        offenders.extend(
            f"{template.name}: {match.group(0)}"
            for match in re.finditer(r"<script(?![^>]*\bsrc=)[^>]*>|<style\b[^>]*>|\sstyle=\"|\son[a-z]+=\"", text)
            if "nonce=" not in match.group(0) and 'type="application/json"' not in match.group(0)
        )
    assert offenders == []
