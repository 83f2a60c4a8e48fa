"""Custom search attributes: how caseworkers list their work through Temporal visibility.

No personal data here (search attributes are stored unencrypted). Six of the namespace's
budget (10 Keyword, 3 Datetime with PostgreSQL visibility) are used.
"""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

STATUS = SearchAttributeKey.for_keyword("GuichetStatus")
PROGRAMME = SearchAttributeKey.for_keyword("GuichetProgramme")
INSEE = SearchAttributeKey.for_keyword("GuichetInsee")
DEPARTMENT = SearchAttributeKey.for_keyword("GuichetDepartment")
CASEWORKER = SearchAttributeKey.for_keyword("GuichetCaseworker")
NEXT_DEADLINE = SearchAttributeKey.for_datetime("GuichetNextDeadline")

ALL_KEYS = (STATUS, PROGRAMME, INSEE, DEPARTMENT, CASEWORKER, NEXT_DEADLINE)
