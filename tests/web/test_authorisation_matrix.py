"""Every route × every role of the console, as DESIGN.md's "Who uses it" says: a role reaches
its pages and API calls (what it then may do is the decider's business) and is refused the
others with a 403, whatever URL it guesses."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest

from console.web.app import route_modules
from domain.deadline import PARIS
from tests.web.conftest import Console, csrf_of, signed_in
from tests.web.test_console_api import act, submit_file

pytestmark = [pytest.mark.postgres, pytest.mark.temporal]

EVERYONE = {"agent", "alice", "sophie", "prefecture", "carol", "abf", "audrey"}
QUEUE_READERS = EVERYONE - {"abf"}
"""The work queue lists files by visibility: an expert has its own page of the files asked."""
ROUTES: dict[tuple[str, str], set[str]] = {
    ("GET", "/dossiers"): QUEUE_READERS,
    ("GET", "/dossiers.csv"): QUEUE_READERS,
    ("GET", "/dossiers.xlsx"): QUEUE_READERS,
    ("GET", "/dossiers/{application_id}"): EVERYONE,
    ("GET", "/dossiers/{application_id}/actions/{command_type}"): EVERYONE,
    ("POST", "/dossiers/{application_id}/actions/{command_type}"): EVERYONE - {"audrey"},
    ("GET", "/dossiers/{application_id}/pieces"): EVERYONE,
    ("POST", "/dossiers/{application_id}/pieces"): EVERYONE - {"audrey"},
    ("GET", "/dossiers/{application_id}/pieces/{sha256}"): EVERYONE,
    ("GET", "/dossiers/{application_id}/plan"): {"agent"},
    ("POST", "/dossiers/{application_id}/plan"): {"agent"},
    ("GET", "/depot"): {"agent"},
    ("POST", "/depot"): {"agent"},
    ("GET", "/communes/{insee}"): {"agent", "alice", "sophie", "audrey"},
    ("GET", "/cofinancement"): {"prefecture"},
    ("GET", "/cofinancement.xlsx"): {"prefecture"},
    ("GET", "/equipe"): {"sophie"},
    ("GET", "/avis"): {"abf"},
    ("GET", "/paiements"): {"carol", "audrey"},
    ("POST", "/lots"): {"alice", "sophie"},
    ("GET", "/lots/{batch_id}"): {"alice", "sophie"},
    ("GET", "/audit/{application_id}"): {"audrey"},
    ("GET", "/audit/{application_id}/export.{fmt}"): {"audrey"},
    ("GET", "/portefeuille"): {"audrey"},
    ("POST", "/portefeuille"): {"audrey"},
    ("GET", "/journal"): {"audrey"},
    ("POST", "/journal"): {"audrey"},
    ("GET", "/journal/verification"): {"audrey"},
    ("POST", "/journal/verification"): {"audrey"},
    ("GET", "/portefeuille.{fmt}"): {"audrey"},
    ("POST", "/portefeuille.{fmt}"): {"audrey"},
    ("GET", "/api/v1/me"): EVERYONE,
    ("GET", "/api/v1/programmes"): EVERYONE,
    ("GET", "/api/v1/applications"): QUEUE_READERS,
    ("POST", "/api/v1/applications"): {"agent"},
    ("GET", "/api/v1/applications/{application_id}"): EVERYONE,
    ("GET", "/api/v1/applications/{application_id}/timeline"): EVERYONE,
    ("POST", "/api/v1/applications/{application_id}/commands"): EVERYONE - {"audrey"},
    ("POST", "/api/v1/applications/{application_id}/documents"): EVERYONE - {"audrey"},
    ("GET", "/api/v1/applications/{application_id}/documents/{sha256}"): EVERYONE,
    ("POST", "/api/v1/verdicts"): {"agent", "alice", "sophie"},
    ("POST", "/api/v1/batches"): {"alice", "sophie"},
    ("GET", "/api/v1/batches/{batch_id}"): {"alice", "sophie"},
    ("GET", "/api/v1/audit/verification"): {"audrey"},
    ("POST", "/api/v1/audit/verification"): {"audrey"},
    ("GET", "/api/v1/audit/{application_id}"): {"audrey"},
}
LINK = re.compile(r'href="(/[^"#?]*)')
OPEN = {"/", "/connexion", "/deconnexion"}
"""Routes anyone reaches: the home page sends to sign-in, the sign-in form, sign-out."""


def served_routes() -> set[tuple[str, str]]:
    return {
        (method, route.path)
        for module in route_modules()
        for route in module.router.routes
        for method in (getattr(route, "methods", None) or set()) - {"HEAD", "OPTIONS"}
    }


def test_the_matrix_covers_every_route_the_console_serves() -> None:
    """A new route without a line in the matrix fails here."""
    served = {(m, p) for m, p in served_routes() if p not in OPEN}
    assert served == set(ROUTES), served ^ set(ROUTES)


@pytest.fixture(scope="module")
async def a_file(console: Console) -> str:
    return await submit_file(console)


@pytest.mark.parametrize("username", sorted(EVERYONE))
async def test_each_role_reaches_its_routes_and_no_other(
    console: Console, a_file: str, username: str
) -> None:
    """Allowed: anything but 401/403 (a 404 or 422 on a made-up id is fine). Refused: 403."""
    values = {
        "application_id": a_file, "command_type": "AssignCaseworker", "insee": "01033",
        "batch_id": "b-unknown", "fmt": "csv", "sha256": "0" * 64,
    }  # fmt: skip
    wrong: list[str] = []
    async with signed_in(console, username) as client:
        token = await csrf_of(client, "/dossiers")
        for (method, template), allowed in sorted(ROUTES.items()):
            path = template.format(**values)
            if method == "GET":
                answer = await client.get(path)
            else:
                answer = await client.post(
                    path, data={"csrf": token}, headers={"X-CSRF-Token": token}
                )
            expected_refusal = username not in allowed
            refused = answer.status_code == 403
            if refused != expected_refusal or answer.status_code in (401, 500):
                wrong.append(f"{method} {path}: {answer.status_code}")
    assert not wrong, f"{username}: " + "; ".join(wrong)


@pytest.mark.parametrize("username", sorted(EVERYONE))
async def test_no_page_links_a_person_to_a_page_refused_to_them(
    console: Console, username: str
) -> None:
    """From their home and a file they may read (one an expert was asked about), every link
    leads somewhere they may go: a commune's name links to its page only for those who read
    it, an expert's breadcrumb to their own page."""
    application_id = await submit_file(console)
    async with signed_in(console, "alice") as alice:
        due_on = (datetime.now(PARIS).date() + timedelta(days=9)).isoformat()
        asked = await act(alice, application_id, "RequestOpinion", expert_id="abf",
                          question="Toiture ?", due_on=due_on)  # fmt: skip
        assert asked.status_code == 303
    refused: list[str] = []
    async with signed_in(console, username) as client:
        for start in ("/", f"/dossiers/{application_id}"):
            page = await client.get(start, follow_redirects=True)
            assert page.status_code == 200, (start, page.status_code)
            for link in sorted(set(LINK.findall(page.text))):
                if not link.startswith(("/static/", "/api/openapi")):
                    answer = await client.get(link)
                    if answer.status_code in (401, 403):
                        refused.append(f"{start} → {link}: {answer.status_code}")
    assert not refused, refused
