"""The Temporal client: address and namespace from the settings, TLS and API key from the
SDK's standard variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from temporalio.client import Client
from temporalio.envconfig import ClientConfigProfile

from workers.settings import Settings


class TemporalSettingsError(ValueError):
    """The Temporal connection's TLS or API-key settings cannot be used; says which and why."""


def temporal_security(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """TLS, API key and gRPC headers for Temporal, from the SDK's standard variables, as the
    ``temporal`` CLI reads them: ``TEMPORAL_TLS``, ``TEMPORAL_TLS_SERVER_CA_CERT_PATH``,
    ``TEMPORAL_TLS_CLIENT_CERT_PATH`` and ``TEMPORAL_TLS_CLIENT_KEY_PATH`` (mTLS),
    ``TEMPORAL_TLS_SERVER_NAME``, ``TEMPORAL_API_KEY`` (TLS on by default with it),
    ``TEMPORAL_GRPC_META_<NAME>``; a ``TEMPORAL_CONFIG_FILE`` profile when one is named. None
    of them: plain gRPC, as the dev server and a cluster's internal frontend speak.

    The address and namespace stay Guichet's own (``Settings``, or a running ``guichet dev``)."""
    env = os.environ if env is None else env
    try:
        profile = ClientConfigProfile.load(
            disable_file=not env.get("TEMPORAL_CONFIG_FILE"), override_env_vars=dict(env)
        )
        config = profile.to_client_connect_config()
    except (OSError, ValueError, RuntimeError) as error:
        raise TemporalSettingsError(
            f"the Temporal TLS or API-key settings (TEMPORAL_TLS_*, TEMPORAL_API_KEY, "
            f"TEMPORAL_CONFIG_FILE) cannot be used: {error}"
        ) from None
    return {key: config[key] for key in ("tls", "api_key", "rpc_metadata") if config.get(key)}


async def connect(settings: Settings, address: str | None = None) -> Client:
    """A Temporal client with the pydantic converter every Guichet payload needs (sealed
    with the payload key when one is set), over TLS when the environment asks for it
    (``temporal_security``)."""
    target = address or settings.temporal_address or "127.0.0.1:7233"
    return await Client.connect(
        target,
        namespace=settings.namespace,
        data_converter=settings.data_converter(),
        **temporal_security(),
    )
