"""The verification's findings in French, for the auditor's pages.

``eventlog`` and ``audit`` word their findings in English, for the operator's CLI and the
logs; the console's pages are French. Each known sentence is matched whole and rewritten,
its numbers, hashes and names kept; a sentence this table does not know is shown as it is
(an English finding beats a lost one), and the tests hold every sentence the code can write.
A verification from a signed checkpoint says its scope (``AuditReport.scope``): the pages
word it from ``AuditReport.started_from`` (``scope_in_french``).
"""

from __future__ import annotations

import re
from datetime import datetime

from audit.findings import NAMED_POSITIONS, AuditReport, Source
from console.web.labels import EVENT
from domain.deadline import PARIS
from domain.french import day, number
from eventlog import UnreadableEvent

_POSITION = r"position (\d+)"
_CHECKPOINT = r"the checkpoint of position (\d+) signed at (\S+)"
_CHECKPOINT_FR = r"le point de contrôle de la position \{} signé le \{}"
_SIGNED_AT = re.compile(r"signé le (\d{4}-\d\d-\d\dT[\d:.]+Z)")

_SENTENCES: tuple[tuple[str, str], ...] = (
    (
        rf"{_POSITION} missing \(log head says (\d+): rows deleted at the end\?\)",
        r"position \1 manquante (la tête du journal en annonce \2 : lignes supprimées à la"
        r" fin ?)",
    ),
    (
        rf"{_POSITION}: beyond the log head \((\d+)\); row inserted behind the log's back\?",
        r"position \1 : au-delà de la tête du journal (\2) ; ligne insérée sans passer par"
        r" le journal ?",
    ),
    (
        rf"{_POSITION}: hash differs from the one in the log head",
        r"position \1 : son empreinte diffère de celle de la tête du journal",
    ),
    (
        r"the log holds (\d+) rows between position (\d+) and its head at (\d+), not (\d+)"
        r" \(rows deleted or inserted\?\): verify the whole log to find where",
        r"le journal compte \1 lignes entre la position \2 et sa tête (\3), et non \4"
        r" (lignes supprimées ou insérées ?) : vérifiez tout le journal pour trouver où",
    ),
    (
        rf"{_POSITION}: stream (\S+) jumps from version (\d+) to (\d+)"
        r" \(event missing or moved\?\)",
        r"position \1 : le dossier \2 passe de la version \3 à la version \4"
        r" (événement manquant ou déplacé ?)",
    ),
    (
        rf"{_POSITION}: prev_hash is not the genesis hash",
        r"position \1 : l'empreinte précédente n'est pas celle de l'origine du journal",
    ),
    (
        rf"{_POSITION} missing \(gap: row deleted\?\)",
        r"position \1 manquante (trou : ligne supprimée ?)",
    ),
    (
        rf"{_POSITION}: prev_hash does not chain to position (\d+)",
        r"position \1 : l'empreinte précédente ne s'enchaîne pas à la position \2",
    ),
    (
        rf"{_POSITION}: occurred_at is outside the years 1 to 9999 \(row altered\?\)",
        r"position \1 : la date de l'événement sort des années 1 à 9999 (ligne altérée ?)",
    ),
    (
        rf"{_POSITION}: stored data is not valid JSON \((.*)\); row altered\?",
        r"position \1 : le contenu enregistré n'est pas du JSON valide (\2) ; ligne altérée ?",
    ),
    (
        rf"{_POSITION}: hash does not match its content \(row altered\?\)",
        r"position \1 : l'empreinte ne correspond pas au contenu (ligne altérée ?)",
    ),
    (
        rf"{_CHECKPOINT} is refused: key (\S+), not the trusted key (\S+)",
        _CHECKPOINT_FR.format(1, 2)
        + r" est refusé : signé par la clé \3, et non par la clé de confiance \4",
    ),
    (
        rf"{_CHECKPOINT} is refused: the signature does not match its content",
        _CHECKPOINT_FR.format(1, 2) + r" est refusé : sa signature ne correspond pas à son"
        r" contenu",
    ),
    (
        rf"{_POSITION}: {_CHECKPOINT} vouches for position (\d+) but the log ends at (\d+):"
        r" events deleted at the end, or anywhere in positions (\d+)\.\.(\d+) and the rest"
        r" renumbered",
        r"position \1 : " + _CHECKPOINT_FR.format(2, 3) + r" garantit la position \4, mais"
        r" le journal s'arrête à \5 : des événements ont été supprimés à la fin, ou n'importe"
        r" où entre les positions \6 et \7 et les suivants renumérotés",
    ),
    (
        rf"{_POSITION}: hash differs from {_CHECKPOINT}: the log was rewritten somewhere in"
        r" positions (\d+)\.\.(\d+)",
        r"position \1 : son empreinte diffère de celle que garantit "
        + _CHECKPOINT_FR.format(2, 3)
        + r" : le journal a été réécrit quelque part entre les positions \4 et \5",
    ),
    (
        rf"{_POSITION}: document '(.*)' \(sha256 (\w+)\) is missing from the document store;"
        r" it is attached to (.*)",
        r"position \1 : la pièce « \2 » (sha256 \3) manque au magasin des pièces ; elle est"
        r" jointe à \4",
    ),
    (
        rf"{_POSITION}: document '(.*)' \(sha256 (\w+)\) is altered: the stored bytes hash to"
        r" (\w+); it is attached to (.*)",
        r"position \1 : la pièce « \2 » (sha256 \3) est altérée : les octets conservés ont"
        r" pour empreinte \4 ; elle est jointe à \5",
    ),
    (
        r"the append-only trigger\(s\) (.+) are dropped or disabled: the database no longer"
        r" refuses changes to the log \(the chain shows those made so far, unless they were"
        r" re-hashed\)",
        r"le ou les déclencheurs \1, qui rendent le journal inaltérable, sont supprimés ou"
        r" désactivés : la base n'en refuse plus les modifications (la chaîne montre celles"
        r" faites jusqu'ici, sauf si leurs empreintes ont été recalculées). Trouvez qui les a"
        r" retirés, recréez-les (migrations 0001, 0003 et 0008) et vérifiez avec les points de"
        r" contrôle exportés",
    ),
)
_COMPILED = tuple((re.compile(english), french) for english, french in _SENTENCES)


_STORED_ROW = re.compile(
    r"(.*); the row there reads file (\S+), (\w+) \(version (\d+)\), as stored: those columns"
    r" may be altered too"
)
_STORED_ROW_FR = (
    r" ; la ligne indique le dossier \2, {} (version \4), telle qu'enregistrée : ces colonnes"
    r" peuvent aussi avoir été altérées"
)


def finding_in_french(problem: str | None) -> str:
    """``problem`` (a verification's sentence) in French, or as it is when not known; the
    file and event a bad row names (``audit.verifying``) follow it, in French too."""
    if not problem:
        return ""
    if stored := _STORED_ROW.fullmatch(problem):
        event = stored.group(3)
        said = f"« {EVENT[event]} »" if event in EVENT else event
        return finding_in_french(stored.group(1)) + stored.expand(_STORED_ROW_FR.format(said))
    for english, french in _COMPILED:
        if match := english.fullmatch(problem):
            return _SIGNED_AT.sub(_paris, match.expand(french))
    return problem


def notes_in_french(report: AuditReport) -> list[str]:
    """What ``verify`` notes that the journal's page has no words of its own for, in French:
    the checkpoints above the chain's break (``guichet audit verify`` notes them too). The
    page says the other notes from the report's fields: the signatures not checked
    (``trusted_key_id``), what a verification from a checkpoint did not re-read
    (``started_from``, ``scope_in_french``)."""
    above, broken_at = report.checkpoints_above_break, report.chain_broken_at
    if not above or broken_at is None:
        return []
    if len(above) == 1:
        return [
            f"le point de contrôle de la position {above[0]} concorde avec l'empreinte "
            f"enregistrée à sa position, mais la chaîne est rompue en dessous, à la position "
            f"{broken_at} : il ne garantit rien à partir de la position {broken_at}"
        ]
    *first, last = above
    # Hourly checkpoints above a break years back: thousands of positions, not a sentence.
    which = (
        f"des positions {', '.join(map(str, first))} et {last}"
        if len(above) <= NAMED_POSITIONS
        else f"signés entre les positions {first[0]} et {last}"
    )
    return [
        f"les {number(len(above))} points de contrôle {which} concordent avec l'empreinte "
        f"enregistrée à leur position, mais la chaîne est rompue en dessous, à la position "
        f"{broken_at} : ils ne garantissent rien à partir de la position {broken_at}"
    ]


def unreadable_in_french(error: UnreadableEvent) -> str:
    """Why a page built from a file's events cannot be shown: the row that holds no event
    (altered), and where the auditor finds out more; the reader's words kept as detail."""
    return (
        f"la position {error.position} (dossier {error.stream_id}) ne se lit plus comme un "
        "événement : la ligne a été modifiée, ou écrite par une version plus récente de "
        "Guichet. La vérification du journal (page Journal, /journal) nomme la première "
        f"position altérée (détail technique : {error.reason})"
    )


def _paris(signed: re.Match[str]) -> str:
    """A checkpoint's signing moment as read in Paris, to the second (the label's is UTC)."""
    return f"signé {signed_moment(datetime.fromisoformat(signed.group(1)))}"


def signed_moment(value: datetime) -> str:
    """``le 01/03/2026 à 11:00:00``: when a checkpoint was signed, as read in Paris, to the
    second (checkpoints may be signed minutes apart)."""
    at = value.astimezone(PARIS)
    return f"le {day(at.date())} à {at:%H:%M:%S}"


_SOURCE: dict[Source, str] = {"file": "du fichier déposé", "database": "enregistré dans la base"}


def scope_in_french(report: AuditReport, *, with_file: bool) -> str:
    """What a verification from the latest signed checkpoint re-read, and what it took on
    that checkpoint's word; with no checkpoint to start from, that the whole log was verified
    instead (``with_file``: the auditor's uploaded file was searched too)."""
    start, head = report.started_from, report.head_position
    if start is None:
        where = "ni dans le fichier déposé ni dans la base" if with_file else "dans la base"
        read = f"positions 1 à {number(head)} relues" if head else "il est vide"
        return (
            f"aucun point de contrôle signé par la clé de confiance {report.trusted_key_id} "
            f"{where} : tout le journal a été vérifié à la place ({read})"
        )
    vouched = start.position
    checkpoint = (
        f"le point de contrôle de la position {number(vouched)} signé "
        f"{signed_moment(start.signed_at)} (clé {start.key_id}, {_SOURCE[start.source]})"
    )
    if not start.matches:
        return (
            f"aucune position relue : {checkpoint} ne concorde pas avec le journal, réécrit ou "
            "raccourci à cette position ou avant ; vérifiez tout le journal pour trouver où"
        )
    if vouched + 1 < head:
        read = f"positions {number(vouched + 1)} à {number(head)} relues"
    elif vouched + 1 == head:
        read = f"position {number(head)} relue"
    else:
        read = f"aucune position après la {number(vouched)} à relire"
    return (
        f"{read} ; positions 1 à {number(vouched)} garanties par {checkpoint}, non relues, et "
        f"les pièces jointes nommées seulement à ces positions non hachées de nouveau"
    )


def clock_moment(value: datetime | None) -> str:
    """A moment of the clocks' findings as read in Paris, to the millisecond (a step back may
    be of seconds); None when the row held no moment at all."""
    if value is None:
        return "une valeur qui n'est pas une date (infini, ou texte)"
    at = value.astimezone(PARIS)
    return f"{day(at.date())} à {at:%H:%M:%S},{at.microsecond // 1000:03d}"
