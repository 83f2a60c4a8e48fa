"""Whether the client's Temporal namespace holds Guichet's search attributes, each with its
type: without them every file's first workflow task fails on its upsert.
"""

from __future__ import annotations

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from workflows import search


async def search_attribute_problems(client: Client) -> list[str] | None:
    """What the client's namespace lacks of Guichet's search attributes (``GuichetStatus
    (Keyword): missing``, or registered with another type); None when the server does not
    let this client read them (the operator API may be reserved to administrators).

    Without them every file's first workflow task fails, and keeps failing, on its upsert."""
    try:
        listed = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=client.namespace)
        )
    except RPCError as error:
        if error.status in (RPCStatusCode.PERMISSION_DENIED, RPCStatusCode.UNIMPLEMENTED):
            return None
        raise
    problems = []
    for key in search.ALL_KEYS:
        wanted = _type_name(int(key.indexed_value_type))
        found = listed.custom_attributes.get(key.name)
        if found is None:
            problems.append(f"{key.name} ({wanted}): missing")
        elif _type_name(found) != wanted:
            problems.append(f"{key.name}: registered as {_type_name(found)}, needs {wanted}")
    return problems


def _type_name(indexed_value_type: int) -> str:
    """``INDEXED_VALUE_TYPE_KEYWORD`` → ``Keyword``, as ``temporal operator`` spells it."""
    name = IndexedValueType.Name(IndexedValueType.ValueType(indexed_value_type))
    return "".join(word.title() for word in name.removeprefix("INDEXED_VALUE_TYPE_").split("_"))
