"""Commands: what someone asks Guichet to do to one application (imperative names).

Every command carries its actor and its time (the workflow's clock, never the wall clock of
domain code). ``Command`` is a discriminated union on ``type``.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Literal

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

from domain.actor import ACCOUNT_NAME, Actor
from domain.commune import Commune, ConventionKind
from domain.documents import Document
from domain.errors import RuleViolation
from domain.labels import MAX_LABEL_LENGTH, Label
from domain.model import (
    AwareDatetime,
    Cents,
    Day,
    Frozen,
    PersonName,
    no_control_characters,
    person_name,
)
from domain.opinions import OpinionVerdict
from domain.plan import FinancingPlan
from domain.programme import DeadlineKind, Programme
from domain.rules.financing import euros


def _account_name(value: str) -> str:
    """A person's console account, as they sign in (``domain.actor.ACCOUNT_NAME``)."""
    if not re.fullmatch(ACCOUNT_NAME, value):
        raise PydanticCustomError(
            "account_name",
            "'{value}' is not an account id: 2 to 64 lower-case letters, digits, '.', '_' or "
            "'-', as the person signs in",
            {"value": value},
        )
    return value


Text = Annotated[str, Field(max_length=4000), AfterValidator(no_control_characters)]
RequiredText = Annotated[
    str, Field(min_length=1, max_length=4000), AfterValidator(no_control_characters)
]
"""Text that cannot be empty (the length checked before the characters, so that an empty
one reads "at least 1 character", not "1 item")."""
ShortText = Annotated[
    str, Field(min_length=1, max_length=300), AfterValidator(no_control_characters)
]
CorrectionReason = Literal["incorrect", "incomplete", "outdated"]
PaymentKind = Literal["advance", "interim", "balance"]
PriorStart = Literal["works", "studies", "land_purchase"]


class ApplicationRequest(Frozen):
    """What the commune's agent submits: the project, its plan, the programme asked for."""

    programme_id: str = Field(min_length=1, max_length=60)
    insee: str = Field(min_length=5, max_length=5)
    project_title: ShortText
    project_summary: Text = ""
    plan: FinancingPlan
    prior_start_on: date | None = None
    """When something was legally started before the request (signed quote or contract)."""
    prior_start_kind: PriorStart | None = None
    contact_email: str | None = Field(default=None, max_length=254)

    def with_dotations_named(self) -> ApplicationRequest:
        """This request with its plan's State dotations named
        (``FinancingPlan.with_dotations_named``)."""
        plan = self.plan.with_dotations_named()
        return self if plan is self.plan else self.replaced({"plan": plan})


RULES = 6
"""The latest revision of the decision rules, recorded at submission (``SubmitApplication``,
``ApplicationSubmitted`` and ``Application.rules``) so that every file keeps the rules it was
decided under when it replays; the workflow chooses it with ``workflow.patched``.

0. Files submitted before December 2026.
1. Days are Paris days (``domain.deadline.day_of``: at 00:30 on 1 January a request is
   received in January); an offer whose convention-cadre delay has passed is refused at
   receipt; the completion delay runs from the start of works itself
   (``WorksStarted.started_on``, CGCT R2334-29), not from the day it was declared; the
   file's last activity, which the digest's « sans action depuis » reads, is a person's
   last action (``Application.last_action_at``), not Guichet's last reminder; the delay to
   start the works runs from the day the decision was notified (``NotifyAward.notified_on``)
   when it is given, not from the day it was recorded (CGCT R2334-28).
2. A revised plan whose line now requests what its co-financer granted keeps that decision:
   a commune that brings a partial grant into its plan is not sent back to the co-financer
   for the same amount (``domain.decider_instruction.merge_plan``). A co-financer corrects
   its decision on its line while the file is in instruction, with a note saying why
   (``FundingDecided.correction``); the same decision sent again records nothing.
3. A refused or dismissed file that was never declared complete is re-opened where it stood:
   received, to be declared complete or asked a correction, with its three months to be
   deemed complete running again from the re-opening (CGCT R2334-23); it went straight into
   instruction, where it could be accepted without ever being complete
   (``ApplicationReopened.back_to``). A file declared complete goes back into instruction.
4. A commune does not attach an « Avis d'expert signé » (``opinion``): the expert attaches
   their own (``domain.decider_documents.kind_refused``); a commune's scan filed as one was
   listed to the services as the expert's signed opinion. The console, the API and the
   command line refuse it for files of every revision. The DETR commission is asked about
   the project's whole DETR subsidy above €100,000, not line by line (two lines of €60,000
   and €50,000 were never put to it), and its opinion, still required before acceptance,
   informs the prefect without binding him: an unfavourable one no longer blocks acceptance
   (CGCT L2334-37, « pour avis »; ``domain.rules.financing.COMMISSION_RULES``). The chef
   de projet PVD post reaches €55,000 instead of €45,000 only when Anah co-funds it with a
   line of its own that it has not refused, no longer on the commune's ``anah_cofunds`` flag
   alone (ANCT, PVD: « plafonné à 55 000 € quand l'Anah cofinance »;
   ``domain.rules.award.ANAH_CAP_RULES``). An award lapses only once the delay to start
   the works has run out (two years from the notification, three when extended: CGCT
   R2334-28): ``LapseAward`` is refused before (``domain.decider_payments.LAPSE_RULES``).
5. The DETR commission's opinion covers the DETR subsidy it was given on, and no more: a
   change of the plan that counts on more DETR (the commune's revision, its answer to a
   correction, the prefecture's refusal of a DETR line corrected into a grant) clears the
   opinion, and acceptance waits for the commission's opinion on the new subsidy; one that
   counts on as much or less keeps it (CGCT L2334-37: the commission is asked « pour avis »
   on the subsidy proposed; ``domain.rules.financing.OPINION_COVERS_RULES``). Before, an
   opinion once recorded stood whatever the plan asked after it. A file dismissed by a
   deadline's expiry records why in French, what it was left without until when and what
   follows (``domain.decider_deadlines.DISMISSED_IN_FRENCH_RULES``): the reason, mailed to the
   commune and the co-financers, was an English sentence naming the deadline's code.
6. An award held down by its programme's cap keeps the programme's rate at the balance: the
   chef de projet PVD post, « 75 % of the loaded cost, capped at €45,000 », planned at
   €80,000 and costing €70,000, earns min(€45,000, 75 % × €70,000) = €45,000; the rate was
   the award over the base (56.25 %), and the balance paid €39,375 (décret 2018-514 art. 12;
   ``domain.rules.award.CAPPED_RATE_RULES``). The interim check reads the same rate. An
   accepted file whose award is not notified yet may be re-opened into instruction by its
   caseworker or supervisor, with a reason (démarches-simplifiées' « repasser en
   instruction »; ``domain.decider_permissions.REOPEN_ACCEPTED_RULES``): a file accepted by
   mistake could only be notified, or withdrawn by its commune. A plan invoking the prefect's
   derogation to the owner's minimum share (a protected monument, repairs after a public
   calamity: CGCT L1111-10 III) is accepted once the prefect's order is attached (a document
   « Arrêté préfectoral de dérogation »; ``domain.rules.financing.DEROGATION_PROOF_RULES``):
   the commune's own word lifted the rule.
"""


class _Command(Frozen):
    actor: Actor
    at: AwareDatetime


class SubmitApplication(_Command):
    """Submit a request. ``commune`` and ``programme`` are what the registry and catalogue said
    at submission (None when unknown); the submitted event snapshots them."""

    type: Literal["SubmitApplication"] = "SubmitApplication"
    application_id: str = Field(min_length=1, max_length=120)
    request: ApplicationRequest
    commune: Commune | None
    programme: Programme | None
    registry_vintage: str
    tracks_deadlines: bool = False
    """Whether the file runs its programme's deadlines; files submitted before deadlines
    existed keep running without them, so their recorded history still replays."""
    rules: int = Field(default=0, ge=0, le=RULES)
    """The revision of the decision rules the file is decided under (``RULES``); the workflow
    sets it, and files submitted before a revision keep the one they had, so that they replay."""


class AssignCaseworker(_Command):
    type: Literal["AssignCaseworker"] = "AssignCaseworker"
    caseworker_id: str = Field(
        min_length=1, max_length=120, description="The caseworker who takes the file."
    )


DEPARTMENT_CODE = r"^(\d[0-9AB]|\d{3})$"
"""A department as INSEE writes it: 01, 2A, 974."""


class RouteFile(_Command):
    """Send the file to the service of another department (démarches-simplifiées' « changer
    de groupe instructeur »): a commune on the edge of two, a file a regional service
    instructs. That service's people read it from now on; whoever held it no longer does."""

    type: Literal["RouteFile"] = "RouteFile"
    department: str = Field(
        pattern=DEPARTMENT_CODE, description="The department whose service instructs it: 38."
    )
    reason: ShortText = Field(description="Why it goes there (told on the file's timeline).")


class RequestCorrection(_Command):
    type: Literal["RequestCorrection"] = "RequestCorrection"
    reason: CorrectionReason
    message: RequiredText = Field(description="What the applicant should correct or add.")


class AnswerCorrection(_Command):
    type: Literal["AnswerCorrection"] = "AnswerCorrection"
    message: RequiredText = Field(description="The answer to the caseworker.")
    revised_plan: FinancingPlan | None = None


class DeclareComplete(_Command):
    type: Literal["DeclareComplete"] = "DeclareComplete"


class DecideFunding(_Command):
    """A co-financer approves (with the granted amount) or refuses its own line."""

    type: Literal["DecideFunding"] = "DecideFunding"
    line_id: str = Field(description="The plan line decided on, as `guichet show` lists it.")
    approve: bool = Field(description="Approve the line, or refuse it.")
    granted_cents: Cents | None = Field(
        default=None, description="The amount granted with --approve, at most the amount requested"
    )
    note: Text = Field(
        default="",
        description="Why, for the file's timeline (the commune reads it); to refuse, required.",
    )


class RevisePlan(_Command):
    type: Literal["RevisePlan"] = "RevisePlan"
    plan: FinancingPlan
    note: Text = Field(default="", description="A note for the file's timeline.")


class RecordCommissionOpinion(_Command):
    type: Literal["RecordCommissionOpinion"] = "RecordCommissionOpinion"
    favourable: bool = Field(description="The commission's opinion.")
    note: Text = Field(default="", description="A note for the file's timeline.")


class AcceptApplication(_Command):
    type: Literal["AcceptApplication"] = "AcceptApplication"
    note: Text = Field(default="", description="A note for the file's timeline.")


class RefuseApplication(_Command):
    type: Literal["RefuseApplication"] = "RefuseApplication"
    reason: RequiredText = Field(description="Why the file is refused (told to the commune).")


class DismissApplication(_Command):
    type: Literal["DismissApplication"] = "DismissApplication"
    reason: RequiredText = Field(description="Why the file is closed without a decision.")


class ReopenApplication(_Command):
    type: Literal["ReopenApplication"] = "ReopenApplication"
    reason: RequiredText = Field(description="Why the file is opened again.")


class WithdrawApplication(_Command):
    type: Literal["WithdrawApplication"] = "WithdrawApplication"
    reason: ShortText = Field(description="Why the commune withdraws.")


class NotifyAward(_Command):
    type: Literal["NotifyAward"] = "NotifyAward"
    decision_reference: ShortText = Field(
        description="The reference of the award decision (arrêté), e.g. ARR-2025-001."
    )
    notified_on: Day | None = Field(
        default=None,
        description="The day the commune received the decision, when before the day it is "
        "recorded: the two years to start the works run from it.",
    )


class RecordConvention(_Command):
    """A convention the commune signed since its file was submitted (the file keeps the
    commune's conventions as the registry knew them then). A convention-cadre signed in time
    closes the 18-month delay that would otherwise close the offer."""

    type: Literal["RecordConvention"] = "RecordConvention"
    kind: ConventionKind = Field(
        description="adhesion: the convention d'adhésion; cadre: the convention-cadre."
    )
    signed_on: Day = Field(description="The day the convention was signed (not in the future).")
    note: Text = Field(default="", description="A note for the file's timeline.")


class AddNote(_Command):
    """An internal note on the file: a call, a meeting, what was checked. Staff read it;
    the commune does not (its timeline leaves notes out)."""

    type: Literal["AddNote"] = "AddNote"
    note: RequiredText = Field(description="The note (internal).")


class RequestOpinion(_Command):
    """Ask an expert's opinion on the file by a day; the expert is mailed the question."""

    type: Literal["RequestOpinion"] = "RequestOpinion"
    expert_id: Annotated[str, AfterValidator(_account_name)] = Field(
        description="The expert's account (role expert), as it signs in: e.g. abf-ain."
    )
    question: RequiredText = Field(
        description="What the expert is asked (the expert reads the file and its documents, "
        "not the internal notes nor the messages with the commune)."
    )
    due_on: Day = Field(description="The last day to answer (Paris).")
    expert_name: PersonName = Field(
        default="",
        description="The expert's name as people know it (« Marie Dupont »), which the mails "
        "write before the account: set by the console from the expert's account, never "
        "typed (the API refuses it).",
    )

    def naming_the_expert(self, display_name: str) -> RequestOpinion:
        """This request naming its expert as their account does (``display_name``, its
        spaces and line breaks made single spaces), whatever it named before; with no name
        when that one cannot be one (over 200 characters, a control character): the mails
        then name the account alone, rather than the question not being asked."""
        return self.replaced({"expert_name": person_name(display_name)})


class GiveOpinion(_Command):
    """The expert's answer to one request asked of them: a verdict and its reasons."""

    type: Literal["GiveOpinion"] = "GiveOpinion"
    number: int = Field(ge=1, description="The request answered (its number on the file).")
    verdict: OpinionVerdict
    opinion: RequiredText = Field(description="The opinion's reasons.")


class WithdrawOpinionRequest(_Command):
    """The opinion is no longer needed (asked of the wrong expert, the question moot)."""

    type: Literal["WithdrawOpinionRequest"] = "WithdrawOpinionRequest"
    number: int = Field(ge=1, description="The request withdrawn (its number on the file).")
    reason: ShortText = Field(description="Why it is withdrawn (told to the expert).")


class AddLabel(_Command):
    """Put a label on the file (``domain.labels``): the services' own word to sort files by,
    never read by the commune nor the experts."""

    type: Literal["AddLabel"] = "AddLabel"
    label: Label = Field(
        description=f"The label, at most {MAX_LABEL_LENGTH} characters: e.g. « dossier complexe »."
    )


class RemoveLabel(_Command):
    type: Literal["RemoveLabel"] = "RemoveLabel"
    label: Label = Field(description="The label to take off the file (in any case).")


class SendMessage(_Command):
    """A message between the commune and the services about the file, e-mailed to the other
    side (the commune's contact; the file's caseworker, or the caseworkers' pool)."""

    type: Literal["SendMessage"] = "SendMessage"
    message: RequiredText = Field(description="The message.")


class AttachDocument(_Command):
    """A document joins the file (a quote, a proof of expense, the award decision…). Its
    bytes are stored first, by their hash; the command carries the reference."""

    type: Literal["AttachDocument"] = "AttachDocument"
    document: Document
    note: Text = Field(default="", description="What the document is for, on the timeline.")


class DeclareStart(_Command):
    type: Literal["DeclareStart"] = "DeclareStart"
    started_on: Day


class DeclareCompletion(_Command):
    type: Literal["DeclareCompletion"] = "DeclareCompletion"
    completed_on: Day


class ClaimPayment(_Command):
    """The applicant asks for a payment. Advance and interim name an amount; interim and
    balance carry the eligible expense proven so far."""

    type: Literal["ClaimPayment"] = "ClaimPayment"
    kind: PaymentKind
    amount_cents: Cents | None = Field(
        default=None, description="The amount claimed, for an advance or an interim payment"
    )
    eligible_expense_cents: Cents | None = Field(
        default=None, description="The eligible expense proven so far (interim, balance)"
    )
    with_bank_guarantee: bool = Field(
        default=False, description="An advance backed by a bank guarantee."
    )
    proof_reference: ShortText = Field(
        description="The reference of the proof sent (invoices, statement of expenses)."
    )


class OrderPayment(_Command):
    type: Literal["OrderPayment"] = "OrderPayment"
    payment_number: int = Field(ge=1, description="The claimed payment's number (1, 2, …).")


class RecordDisbursement(_Command):
    type: Literal["RecordDisbursement"] = "RecordDisbursement"
    payment_number: int = Field(ge=1)
    gateway_reference: ShortText


class RecordPaymentFailure(_Command):
    type: Literal["RecordPaymentFailure"] = "RecordPaymentFailure"
    payment_number: int = Field(ge=1)
    reason: ShortText


class RecordRepayment(_Command):
    type: Literal["RecordRepayment"] = "RecordRepayment"
    amount_cents: Cents = Field(description="The amount repaid")
    reference: ShortText = Field(description="The reference of the repayment received.")


class SettleAfterCompletionDeadline(_Command):
    """Settle a file whose completion deadline expired (CGCT R2334-29: no payment claim is
    accepted after it). The caseworker states the eligible expense proven by then: the
    subsidy is what it justifies, up to what was paid; the rest of the award is not paid, and
    what was paid beyond it becomes a repayment due."""

    type: Literal["SettleAfterCompletionDeadline"] = "SettleAfterCompletionDeadline"
    eligible_expense_cents: Cents = Field(
        description="The eligible expense proven when the deadline expired (0 if none)"
    )
    proof_reference: ShortText | None = Field(
        default=None, description="The reference of the proof of that expense, if any."
    )


class LapseAward(_Command):
    """The start-of-works deadline expired without a start declaration (caducité)."""

    type: Literal["LapseAward"] = "LapseAward"
    deadline: DeadlineKind = "start_of_works"


class SendReminder(_Command):
    """Remind the deadline's recipients ``days_before`` its expiry (system)."""

    type: Literal["SendReminder"] = "SendReminder"
    kind: DeadlineKind
    subject: str | None = None
    days_before: int = Field(ge=0)


class ExpireDeadline(_Command):
    """The deadline's time has come: record it and act as its rule says (system)."""

    type: Literal["ExpireDeadline"] = "ExpireDeadline"
    kind: DeadlineKind
    subject: str | None = None


class ExtendDeadline(_Command):
    """Grant the extension the deadline's rule allows, on a reasoned request before expiry."""

    type: Literal["ExtendDeadline"] = "ExtendDeadline"
    kind: DeadlineKind
    subject: str | None = Field(
        default=None, description="The plan line, for a co-financer's decision deadline."
    )
    reason: ShortText = Field(description="Why the extension is asked for.")


Command = Annotated[
    SubmitApplication
    | AssignCaseworker
    | RouteFile
    | RequestCorrection
    | AnswerCorrection
    | DeclareComplete
    | DecideFunding
    | RevisePlan
    | RecordCommissionOpinion
    | AcceptApplication
    | RefuseApplication
    | DismissApplication
    | ReopenApplication
    | WithdrawApplication
    | NotifyAward
    | RecordConvention
    | AddNote
    | RequestOpinion
    | GiveOpinion
    | WithdrawOpinionRequest
    | SendMessage
    | AddLabel
    | RemoveLabel
    | AttachDocument
    | DeclareStart
    | DeclareCompletion
    | ClaimPayment
    | OrderPayment
    | RecordDisbursement
    | RecordPaymentFailure
    | RecordRepayment
    | SettleAfterCompletionDeadline
    | LapseAward
    | SendReminder
    | ExpireDeadline
    | ExtendDeadline,
    Field(discriminator="type"),
]


def with_dotations_named(command: Command) -> Command:
    """``command`` with the State dotations of the plan it carries named
    (``FinancingPlan.with_dotations_named``); a command without a plan as it is. A
    submission's plan is named on its request (``ApplicationRequest.with_dotations_named``)."""
    match command:
        case RevisePlan():
            return command.replaced({"plan": command.plan.with_dotations_named()})
        case AnswerCorrection(revised_plan=FinancingPlan() as plan):
            return command.replaced({"revised_plan": plan.with_dotations_named()})
    return command


def contradiction(command: Command) -> RuleViolation | None:
    """What a command says against itself, refused where commands arrive: the workflow's
    update validator and ``GuichetClient.signal``.

    Not by ``decide``: a file that recorded such a command before this check must replay as it
    ran (the refusal's amount was ignored: ``FundingDecided`` records none; so was a balance
    claim's, the balance being computed from the expense; a line was refused without a
    reason)."""
    match command:
        case DecideFunding(approve=False, granted_cents=int() as granted):
            return RuleViolation(
                f"a refusal grants nothing, yet {euros(granted)} was given as granted: leave "
                "the amount out to refuse, or approve the line",
                rule="refusal-without-amount",
                french="Un refus n'accorde aucun montant : laissez le montant accordé vide pour "
                "refuser, ou accordez la ligne",
            )
        case DecideFunding(approve=False, note=note) if not note.strip():
            return RuleViolation(
                "a refusal says why: give the reason in the note (the commune reads it)",
                rule="refusal-with-reason",
                french="Un refus se motive : indiquez pourquoi dans l'observation (la commune "
                "la lit)",
            )
        case ClaimPayment(kind="interim" | "balance" as kind, with_bank_guarantee=True):
            return RuleViolation(
                f"a bank guarantee goes with an advance, not with the {kind} payment: leave it out",
                rule="guarantee-with-advance",
                source="décret 2018-514 art. 12",
                french="Une garantie bancaire accompagne une avance, pas un acompte ni le solde : "
                "retirez-la",
            )
        case ClaimPayment(kind="balance", amount_cents=int() as amount):
            return RuleViolation(
                f"a balance claim names no amount, yet {euros(amount)} was given: the balance "
                "is computed from the eligible expense proven; leave the amount out",
                rule="balance-without-amount",
                french="Le solde se calcule sur la dépense éligible justifiée : laissez le "
                "montant demandé vide",
            )
    return None


_ADDRESS = re.compile(r"[^@\s\"(),:;<>\[\]\\]+@[^@\s\"(),:;<>\[\]\\.]+(\.[^@\s\"(),:;<>\[\]\\.]+)+")
"""One address, ``name@domain.tld``: no display name, no list, no space (IDN domains pass)."""
ENCODED_WORD = "=?"
"""What opens an RFC 2047 encoded word. Legal in an address, but the mail's header parser
decodes it: the To header names another address than the one the notice is sent to, or, decoded
to a line break, none the outbox can write, which refuses the notice for good
(``activities.mail.compose``). No commune's address holds one: refused at entry."""


def contact_email_problem(request: ApplicationRequest) -> RuleViolation | None:
    """Why a new request's contact address cannot take the file's notices (None if it can, or
    if there is none: the notices then go to the submitting account).

    Checked where requests arrive (the API, the CLI's request file), not by the model:
    requests recorded before this check hold addresses it would refuse, and must still read."""
    address = request.contact_email
    if address is not None and ENCODED_WORD in address:
        return RuleViolation(
            f"contact_email {address!r} is not one e-mail address as mail delivers it: "
            f"'{ENCODED_WORD}' opens an RFC 2047 encoded word, which mail decodes into another "
            f"address or refuses; type the address plainly, without '{ENCODED_WORD}' "
            "(name@domain.fr)",
            rule="contact-email",
            french=f"contact_email — « {address} » contient « {ENCODED_WORD} », qui ouvre un "
            "mot encodé (RFC 2047) que la messagerie décode en une autre adresse ou refuse : "
            f"saisissez l'adresse en clair, sans « {ENCODED_WORD} » (nom@domaine.fr)",
        )
    if address is None or _ADDRESS.fullmatch(address):
        return None
    return RuleViolation(
        f"contact_email {address!r} is not one e-mail address (name@domain.fr): the file's "
        "notices would not reach anyone",
        rule="contact-email",
        french=f"contact_email — « {address} » n'est pas une adresse électronique "
        "(nom@domaine.fr) : les avis du dossier n'arriveraient à personne",
    )
