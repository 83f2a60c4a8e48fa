"""The probe workflow's input: the search attributes a grant file would publish."""

from __future__ import annotations

from domain.model import AwareDatetime, Frozen


class ProbeFile(Frozen):
    status: str = "in_instruction"
    caseworker: str | None = None
    department: str | None = None
    programme: str | None = None
    insee: str | None = None
    next_deadline: AwareDatetime | None = None
    last_activity: AwareDatetime | None = None
    deadline_expired: bool = False
    """Publish ``next_deadline``, then unset it, as a file does when its last deadline
    expires (in a later workflow task, as a timer's)."""
