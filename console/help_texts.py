"""What each generated subcommand says in ``--help``: one line, and an example to copy."""

from __future__ import annotations

EXAMPLES: dict[str, tuple[str, str]] = {
    "AssignCaseworker": (
        "Take the file (or give it to a caseworker).",
        "guichet assign-caseworker ID --caseworker-id alice --as caseworker:alice",
    ),
    "RequestCorrection": (
        "Ask the applicant to correct or complete the file.",
        'guichet request-correction ID --reason incomplete --message "Add the quotes" '
        "--as caseworker:alice",
    ),
    "AnswerCorrection": (
        "Answer a correction request, optionally with a revised financing plan.",
        'guichet answer-correction ID --message "Quotes attached" --plan plan.toml '
        "--as applicant:mairie-bourg:01053",
    ),
    "DeclareComplete": (
        "Declare the file complete: instruction and co-financing begin.",
        "guichet declare-complete ID --as caseworker:alice",
    ),
    "DecideFunding": (
        "A co-financer approves (with the amount granted) or refuses its own plan line; "
        "while the file is in instruction it may correct that decision, saying why in --note.",
        "guichet decide-funding ID --line-id detr --approve --granted 40000 "
        "--as cofinancer:prefecture-01:DETR",
    ),
    "RevisePlan": (
        "Replace the financing plan (read from a JSON or TOML file).",
        "guichet revise-plan ID --plan plan.json --as applicant:mairie-bourg:01053",
    ),
    "RecordCommissionOpinion": (
        "Record the DETR commission's opinion (needed above €100,000 of DETR).",
        "guichet record-commission-opinion ID --favourable --as caseworker:alice",
    ),
    "AcceptApplication": (
        "Accept the file once every co-financer has decided and the plan holds.",
        'guichet accept-application ID --note "Plan checked" --as caseworker:alice',
    ),
    "RefuseApplication": (
        "Refuse the file, saying why.",
        'guichet refuse-application ID --reason "Outside the programme" --as caseworker:alice',
    ),
    "DismissApplication": (
        "Close the file without a decision (sans suite).",
        'guichet dismiss-application ID --reason "No answer" --as caseworker:alice',
    ),
    "ReopenApplication": (
        "Re-open a refused or dismissed file: back into instruction, or received again "
        "(to be declared complete) when it never was complete.",
        'guichet reopen-application ID --reason "New facts" --as supervisor:bob',
    ),
    "WithdrawApplication": (
        "The applicant withdraws its request.",
        'guichet withdraw-application ID --reason "Projet abandonné" '
        "--as applicant:mairie-bourg:01053",
    ),
    "NotifyAward": (
        "Notify the award decision to the commune.",
        "guichet notify-award ID --decision-reference ARR-2025-001 --as caseworker:alice",
    ),
    "RecordConvention": (
        "Record a convention the commune signed after submitting (a convention-cadre signed "
        "in time closes its 18-month delay).",
        "guichet record-convention ID --kind cadre --signed-on 2026-03-02 --as caseworker:alice",
    ),
    "AddNote": (
        "Add an internal note to the file (a call, a meeting): staff read it, the commune does "
        "not.",
        'guichet add-note ID --note "Appel du maire : devis en cours" --as caseworker:alice',
    ),
    "RequestOpinion": (
        "Ask an expert's opinion by a day: the expert (an account of role expert) is mailed "
        "the question, reminded J-7 and J-1, and you are told if the day passes.",
        'guichet request-opinion ID --expert-id abf-ain --question "Toiture conforme au PSMV ?" '
        "--due-on 2026-12-20 --as caseworker:alice",
    ),
    "GiveOpinion": (
        "Give the opinion asked of you (request number from guichet show): favourable, "
        "reserved or unfavourable, with its reasons.",
        'guichet give-opinion ID --number 1 --verdict reserved --opinion "Enduit à la chaux" '
        "--as expert:abf-ain",
    ),
    "WithdrawOpinionRequest": (
        "Withdraw an opinion request not yet answered (the expert is told why).",
        'guichet withdraw-opinion-request ID --number 1 --reason "Mauvais service" '
        "--as caseworker:alice",
    ),
    "SendMessage": (
        "Send a message about the file, e-mailed to the other side (the commune, or its "
        "caseworker).",
        'guichet send-message ID --message "Le devis est-il signé ?" --as caseworker:alice',
    ),
    "RouteFile": (
        "Send the file to the service of another department, which instructs it from now on "
        "(its people read it; whoever held it no longer does).",
        'guichet route-file ID --department 38 --reason "Commune nouvelle rattachée à '
        "l'Isère\" --as supervisor:sophie",
    ),
    "AddLabel": (
        "Put a label on the file, the services' own word to sort files by (the queue filters "
        "on it), kept in lower case; the commune and the experts never read it. No personal "
        "data: labels are published to Temporal's visibility, unencrypted.",
        'guichet add-label ID --label "dossier complexe" --as caseworker:alice',
    ),
    "RemoveLabel": (
        "Take a label off the file (typed in any case: labels are kept in lower case).",
        'guichet remove-label ID --label "dossier complexe" --as caseworker:alice',
    ),
    "DeclareStart": (
        "Declare the start of works (not in the future).",
        "guichet declare-start ID --started-on 2025-04-01 --as applicant:mairie-bourg:01053",
    ),
    "DeclareCompletion": (
        "Declare the project completed.",
        "guichet declare-completion ID --completed-on 2025-09-30 --as applicant:mairie-bourg:01053",
    ),
    "ClaimPayment": (
        "Claim a payment: an advance or interim names an amount; interim and balance state "
        "the eligible expense proven.",
        "guichet claim-payment ID --kind advance --amount 12000 --proof-reference Q-12 "
        "--as applicant:mairie-bourg:01053",
    ),
    "OrderPayment": (
        "Order a claimed payment (never by the person who accepted the file).",
        "guichet order-payment ID --payment-number 1 --as payment_officer:carol",
    ),
    "ExtendDeadline": (
        "Grant the extension a deadline's rule allows, on a reasoned request before expiry.",
        'guichet extend-deadline ID --kind start_of_works --reason "Supplier delay" '
        "--as caseworker:alice",
    ),
    "SettleAfterCompletionDeadline": (
        "Settle a file whose completion deadline expired: state the eligible expense proven "
        "by then; what was paid beyond what it justifies becomes a repayment due.",
        "guichet settle-after-completion-deadline ID --eligible-expense 84000 "
        "--proof-reference DGD-2031 --as caseworker:alice",
    ),
    "RecordRepayment": (
        "Record money paid back by the commune.",
        "guichet record-repayment ID --amount 1500.00 --reference VIR-77 "
        "--as payment_officer:carol",
    ),
}
