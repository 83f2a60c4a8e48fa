#!/bin/sh
# One-shot: create the namespace if missing, then register Guichet's custom search attributes
# (GUICHET_SEARCH_ATTRIBUTES: space-separated Name=Type pairs, mirrored from
# workflows/search.py and checked by tests/deploy). Idempotent; fails if an attribute
# already exists with another type.
set -eu
: "${TEMPORAL_ADDRESS:?}" "${GUICHET_SEARCH_ATTRIBUTES:?}"
namespace="${TEMPORAL_NAMESPACE:-default}"
retention="${TEMPORAL_NAMESPACE_RETENTION:-30d}"

attempt=0
until temporal operator cluster health --address "$TEMPORAL_ADDRESS" >/dev/null 2>&1; do
    attempt=$((attempt + 1))
    if [ "$attempt" -ge 30 ]; then
        echo "Temporal at $TEMPORAL_ADDRESS is not healthy" >&2
        exit 1
    fi
    sleep 2
done

if ! temporal operator namespace describe --address "$TEMPORAL_ADDRESS" -n "$namespace" >/dev/null 2>&1; then
    echo "Creating namespace $namespace (retention $retention)"
    temporal operator namespace create --address "$TEMPORAL_ADDRESS" -n "$namespace" --retention "$retention"
fi

existing="$(temporal operator search-attribute list --address "$TEMPORAL_ADDRESS" -n "$namespace")"
for pair in $GUICHET_SEARCH_ATTRIBUTES; do
    name="${pair%%=*}"
    type="${pair#*=}"
    current="$(printf '%s\n' "$existing" | awk -v n="$name" '$1 == n { print $2 }')"
    if [ -z "$current" ]; then
        echo "Registering search attribute $name ($type)"
        temporal operator search-attribute create --address "$TEMPORAL_ADDRESS" -n "$namespace" \
            --name "$name" --type "$type"
    elif [ "$current" != "$type" ]; then
        echo "Search attribute $name exists as $current, expected $type" >&2
        exit 1
    fi
done
echo "Namespace $namespace has Guichet's search attributes"
