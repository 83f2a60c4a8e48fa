"""Custom search attributes: how caseworkers list their work through Temporal visibility.

No personal data here (search attributes are stored unencrypted). Seven of the namespace's
budget (5 of 10 Keyword, 2 of 3 Datetime with PostgreSQL visibility) are used.
"""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

STATUS = SearchAttributeKey.for_keyword("GuichetStatus")
PROGRAMME = SearchAttributeKey.for_keyword("GuichetProgramme")
INSEE = SearchAttributeKey.for_keyword("GuichetInsee")
DEPARTMENT = SearchAttributeKey.for_keyword("GuichetDepartment")
CASEWORKER = SearchAttributeKey.for_keyword("GuichetCaseworker")
NEXT_DEADLINE = SearchAttributeKey.for_datetime("GuichetNextDeadline")
"""The earliest pending deadline of the file (unset when none is pending)."""
LAST_ACTIVITY = SearchAttributeKey.for_datetime("GuichetLastActivity")
"""When the file last recorded an event: how the daily digest finds untreated files."""

ALL_KEYS = (STATUS, PROGRAMME, INSEE, DEPARTMENT, CASEWORKER, NEXT_DEADLINE, LAST_ACTIVITY)
