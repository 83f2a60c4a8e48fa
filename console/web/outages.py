"""What the console says, in French, when a part of Guichet it needs is not there: the
Temporal server, the database, or any worker to run the files."""

from __future__ import annotations

import structlog

from domain.french import moment
from workflows.client_errors import NoWorker

FILE_ENDED = (
    "Ce dossier est terminé (clos, retiré, devenu caduc ou inéligible) : aucune action ne peut "
    "plus le modifier. Son historique reste consultable"
)
"""A command sent to a file whose workflow has completed: a refusal, not an outage."""
FILE_UNKNOWN = "Aucun dossier à ce numéro"

UNAVAILABLE = (
    "Le moteur des dossiers (Temporal) n'a pas répondu : réessayez dans un instant. Si cela "
    "dure, prévenez l'exploitation"
)


def no_worker_sentence(error: NoWorker) -> str:
    """Why nothing can be read or done, in French, and what the operators must do."""
    seen = error.last_seen
    last = (
        "aucun n'a été vu depuis cinq minutes, ni depuis le démarrage du serveur"
        if seen is None
        else f"le dernier, {seen.identity}, a été vu le {moment(seen.last_poll)}"
    )
    sentence = (
        f"Aucun worker Guichet ne tourne sur la file « {error.task_queue} » ({last}) : aucun "
        "dossier ne peut avancer tant qu'il n'en tourne pas. Prévenez l'exploitation "
        "(« guichet worker » en démarre un)."
    )
    if error.command_pending:
        sentence = (
            "Votre action attend sur le serveur : elle sera appliquée si un worker démarre "
            "bientôt. Consultez le dossier avant de la renvoyer. " + sentence
        )
    return sentence


NO_DATABASE = (
    "La base de données de Guichet (journal et comptes) est injoignable : réessayez dans un "
    "instant. Si cela dure, prévenez l'exploitation"
)


def database_outage(error: Exception, **where: str) -> str:
    """``NO_DATABASE`` for the page, the detail for the server's log only: the log's sentence
    names the database's address and user, and a page may be seen by anyone (the sign-in
    page, before any session). ``where``: what was being done, for the log line."""
    # A logger got at each call: a module-level one would be cached by the first use after
    # configure_logging, and deaf to a reconfiguration.
    structlog.get_logger("guichet.console").error(
        "event log unavailable", error=str(error), **where
    )
    return NO_DATABASE
