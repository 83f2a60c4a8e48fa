"""The demo's documents are real PDFs: what ``make dev`` attaches opens in any reader."""

from __future__ import annotations

import re

from console.demo import demo_pdf
from domain.documents import media_type_of


def test_the_demo_pdf_s_cross_reference_table_points_at_its_objects() -> None:
    """Each offset of the xref table is where its object starts, and startxref is the
    table's own offset: a reader needs no repair to open it."""
    pdf = demo_pdf(["Arrêté attributif ARR-DEMO-001 (démo)", "Médiathèque intercommunale"])
    assert media_type_of("arrete.pdf", pdf[:16]) == "application/pdf"
    table = int(re.search(rb"startxref\n(\d+)\n%%EOF\n$", pdf).group(1))  # type: ignore[union-attr]
    assert pdf[table:].startswith(b"xref\n0 6\n")
    offsets = [int(entry) for entry in re.findall(rb"(\d{10}) 00000 n ", pdf[table:])]
    assert len(offsets) == 5
    for number, offset in enumerate(offsets, start=1):
        assert pdf[offset:].startswith(b"%d 0 obj\n" % number)
    length = int(re.search(rb"/Length (\d+)", pdf).group(1))  # type: ignore[union-attr]
    stream = pdf.split(b"stream\n", 1)[1].split(b"\nendstream", 1)[0]
    assert len(stream) == length and b"(Mediatheque intercommunale) Tj" in stream
    assert b"(Arrete attributif ARR-DEMO-001 \\(demo\\)) Tj" in stream  # accents dropped
