"""The `openai-compatible` provider: any server that speaks OpenAI's chat completions (vLLM, Ollama, llama-server...).

Its client is the `openai` provider's (`moot.agents.providers.openai_api`); what differs is how it
is reached: a base URL (or several, balanced) is needed and a key is optional, and how it is asked for a
schema: servers differ (json_schema, json_object with a schema, vLLM's guided_json, Ollama's format), so
`structured_output: auto` finds out which one the server takes (`moot.agents.negotiation`).
"""

from __future__ import annotations

from moot.agents.providers.openai_api import create_openai_style_client
from moot.agents.providers.record import Endpoint, ModelRef, ProviderRecord
from moot.agents.requests import AUTO_MODES, ModelClient
from moot.protocols.spec import AgentSpec, ProviderSettings

ENDPOINT = Endpoint(
    key_env="OPENAI_COMPATIBLE_API_KEY",
    base_url_env="MOOT_OPENAI_COMPATIBLE_BASE_URL",
    key_required=False,
    needs_base_url=True,
)
"""A self-hosted server: its base URLs are needed, a key only when the server asks for one."""


def _create_client(ref: ModelRef, settings: ProviderSettings, agent: AgentSpec) -> ModelClient:
    return create_openai_style_client(ref, settings, ENDPOINT)


PROVIDER = ProviderRecord(
    name="openai-compatible",
    create_client=_create_client,
    structured="json_schema",
    auto_modes=AUTO_MODES,
    extra="openai",
    modules=("openai",),
    endpoint=ENDPOINT,
)
"""`openai-compatible:MODEL`, where MODEL is the name the server knows the model by."""
