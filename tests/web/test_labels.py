"""Labels in the console: a caseworker puts the services' words on files, finds them again
in the queue (page, exports, API), for one file or a whole selection; the commune and the
experts read nothing of them."""

from __future__ import annotations

import csv
import html
import io
import uuid
from urllib.parse import quote

import pytest

from tests.polling import eventually
from tests.web.conftest import Console, csrf_of, signed_in
from tests.web.test_console_api import act, batch_done, form_batch, submit_file
from tests.web.test_opinions import _asked

pytestmark = [pytest.mark.postgres, pytest.mark.temporal]


def fresh_label() -> str:
    """A label no other test of the module puts: the console and its files are shared."""
    return f"lot {uuid.uuid4().hex[:8]}"


async def published(console: Console, application_id: str, labels: tuple[str, ...]) -> None:
    """Until visibility lists the file with exactly these labels."""

    async def listed() -> bool:
        rows = await console.guichet.list(f"WorkflowId = '{application_id}'")
        return bool(rows) and rows[0].labels == labels

    await eventually(listed)


async def test_a_caseworker_labels_a_file_and_finds_it_by_its_label(console: Console) -> None:
    """The label is tidied, shown on the file and its queue row, a link to the files that
    carry it; the queue, its exports and the API list filter on it."""
    label = fresh_label()
    labelled, other = await submit_file(console), await submit_file(console)
    async with signed_in(console, "alice") as alice:
        page = (await alice.get(f"/dossiers/{labelled}")).text
        assert "Ajouter une étiquette" in page and "Retirer une étiquette" not in page
        added = await act(alice, labelled, "AddLabel", label=f"  {label}   d'abord ")
        assert added.status_code == 303, added.text
        after = html.unescape((await alice.get(f"/dossiers/{labelled}")).text)
        tidied = f"{label} d’abord"
        assert f">{tidied}</a>" in after  # the file's labels, in its facts
        assert "Étiquette « " + tidied + " » ajoutée" in after  # the timeline, in French
        assert "Retirer une étiquette" in after
        await published(console, labelled, (tidied,))
        query = {"etiquette": tidied}
        queue = (await alice.get("/dossiers", params=query)).text
        export = (await alice.get("/dossiers.csv", params=query)).content.decode("utf-8-sig")
        rows = (await alice.get("/api/v1/applications", params={"label": tidied})).json()
    assert labelled in queue and other not in queue
    assert f'<a class="etiquette" href="/dossiers?etiquette={quote(tidied)}">' in queue
    lines = list(csv.reader(io.StringIO(export), delimiter=";"))
    assert lines[0][-1] == "Étiquettes"
    assert [(line[0], line[-1]) for line in lines[1:]] == [(labelled, tidied)]
    assert [(row["application_id"], row["labels"]) for row in rows] == [(labelled, [tidied])]


async def test_a_second_file_is_offered_the_labels_in_use_and_takes_one_off(
    console: Console,
) -> None:
    """Another file's form suggests the words other files carry; the file's own ones are
    offered to take off; once none is left, the queue no longer finds it."""
    label = fresh_label()
    first, second = await submit_file(console), await submit_file(console)
    async with signed_in(console, "alice") as alice:
        assert (await act(alice, first, "AddLabel", label=label)).status_code == 303
        await published(console, first, (label,))
        page = (await alice.get(f"/dossiers/{second}")).text
        suggested = page[page.index('id="AddLabel-label-choix"') : page.index("</datalist>")]
        assert f'<option value="{label}">' in suggested
        # Typed in capitals, it is the same label (one spelling: lower case).
        assert (await act(alice, second, "AddLabel", label=label.upper())).status_code == 303
        again = await act(alice, second, "AddLabel", label=label)
        assert again.status_code == 409  # the file is not in a state for it
        assert "porte déjà l'étiquette" in html.unescape(again.text)
        page = (await alice.get(f"/dossiers/{second}")).text
        offered = page[page.index('name="label"', page.index("RemoveLabel")) :]
        assert f'<option value="{label}"' in offered[: offered.index("</select>")]
        removed = await act(alice, second, "RemoveLabel", label=label)
        assert removed.status_code == 303, removed.text
        await published(console, second, ())
        queue = (await alice.get("/dossiers", params={"etiquette": label})).text
    assert first in queue and second not in queue


async def test_a_label_that_looks_like_a_formula_stays_text_in_the_csv(
    console: Console,
) -> None:
    """« +1 relance » opens as text in a spreadsheet, not as a formula."""
    application_id = await submit_file(console)
    label = f"+1 relance {uuid.uuid4().hex[:6]}"
    async with signed_in(console, "alice") as alice:
        assert (await act(alice, application_id, "AddLabel", label=label)).status_code == 303
        await published(console, application_id, (label,))
        export = await alice.get("/dossiers.csv", params={"etiquette": label})
    (line,) = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig")), delimiter=";"))[1:]
    assert line[-1] == f"'{label}"


async def test_a_selection_is_labelled_in_one_batch(console: Console) -> None:
    label = fresh_label()
    files = [await submit_file(console), await submit_file(console)]
    async with signed_in(console, "sophie") as sophie:
        token = await csrf_of(sophie, "/dossiers")
        data = [("csrf", token), ("action", "AddLabel"), ("label", label),
                *[("dossier", f) for f in files]]  # fmt: skip
        progress = await form_batch(sophie, data)
    assert {r["application_id"]: r["ok"] for r in progress["results"]} == dict.fromkeys(files, True)
    for application_id in files:
        assert (await console.guichet.state(application_id)).labels == (label,)


async def test_a_label_is_taken_off_a_selection_through_the_api(console: Console) -> None:
    label = fresh_label()
    files = [await submit_file(console), await submit_file(console)]
    async with signed_in(console, "alice") as alice:
        for application_id in files:
            assert (await act(alice, application_id, "AddLabel", label=label)).status_code == 303
        token = await csrf_of(alice, "/dossiers")
        body = {"command": {"type": "RemoveLabel", "label": label}, "application_ids": files}
        started = await alice.post("/api/v1/batches", json=body, headers={"X-CSRF-Token": token})
        assert started.status_code == 202, started.text
        progress = await batch_done(alice, started.json()["id"])
    assert all(result["ok"] for result in progress["results"]), progress
    for application_id in files:
        assert (await console.guichet.state(application_id)).labels == ()


async def test_the_commune_and_the_expert_read_no_label(console: Console) -> None:
    """Not on the page, the timeline, the API's state and timeline, the queue, its export;
    and the commune's queue does not filter on one (it would tell which files carry it)."""
    label = fresh_label()
    application_id = await _asked(console)  # abf, the expert, is asked on this file
    async with signed_in(console, "alice") as alice:
        assert (await act(alice, application_id, "AddLabel", label=label)).status_code == 303
    await published(console, application_id, (label,))
    for reader in ("agent", "abf"):
        async with signed_in(console, reader) as person:
            page = (await person.get(f"/dossiers/{application_id}")).text
            api = f"/api/v1/applications/{application_id}"
            state = (await person.get(api)).json()["state"]
            timeline = (await person.get(f"{api}/timeline")).json()
            assert label not in page and "Étiquette" not in page, reader
            assert state["labels"] is None, reader
            assert not [e for e in timeline if e["type"].startswith("Label")], reader
    async with signed_in(console, "agent") as agent:
        filtered = (await agent.get("/dossiers", params={"etiquette": "autre chose"})).text
        export = (await agent.get("/dossiers.csv")).content.decode("utf-8-sig")
        rows = (await agent.get("/api/v1/applications")).json()
        unreadable = (await agent.get("/dossiers", params={"etiquette": '"'})).text
    assert application_id in filtered  # the filter is not the commune's: left aside
    assert 'name="etiquette"' not in filtered and label not in export
    assert "Étiquettes" not in export.splitlines()[0]
    assert all("labels" not in row for row in rows)
    assert "tiquette" not in unreadable  # not even what a label may hold


async def test_a_label_the_queue_cannot_search_is_said_and_set_aside(console: Console) -> None:
    async with signed_in(console, "alice") as alice:
        page = html.unescape((await alice.get("/dossiers", params={"etiquette": 'dit "x"'})).text)
        api = await alice.get("/api/v1/applications", params={"label": 'dit "x"'})
    assert "Ce filtre est ignoré" in page and "sans guillemets" in page
    assert 'aria-invalid="true"' in page
    assert api.status_code == 400
