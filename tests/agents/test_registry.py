"""The registry of providers: naming one imports its record, not its SDK or engine."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from moot.agents.registry import PROVIDER_MODULES, known_providers, provider_record
from moot.errors import UserError

HEAVY = ("openai", "anthropic", "llama_cpp", "autogen_ext")
"""Modules that only building a client may import."""

NAMING = f"""
import json, sys
from moot.agents.registry import check_model, known_providers, parse_model_name
from moot.errors import UserError
from moot.protocols.spec import ProviderSettings
import moot

for name in ("openai:gpt-4.1", "openai-compatible:llama3.2:3b", "anthropic:claude-sonnet-4-5", "local", "scripted"):
    ref = check_model(name)
for name in known_providers():
    parse_model_name(name + ":m")
try:
    check_model("local:missing.gguf")
except UserError:
    pass
imported = {{"named": sorted(m for m in {HEAVY!r} if m in sys.modules)}}
from moot.agents.registry import create_client
from moot.protocols.spec import AgentSpec
create_client(parse_model_name("openai:gpt-4.1"), ProviderSettings(), AgentSpec(name="a", role="r"))
imported["built"] = sorted(m for m in {HEAVY!r} if m in sys.modules)
print(json.dumps(imported))
"""


def test_naming_a_provider_imports_no_sdk_and_building_its_client_does() -> None:
    env = {**os.environ, "OPENAI_API_KEY": "sk-test-0123456789", "ANTHROPIC_API_KEY": "sk-ant-test-0123456789"}
    done = subprocess.run([sys.executable, "-c", NAMING], capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    imported = json.loads(done.stdout.splitlines()[-1])
    assert imported["named"] == []
    assert imported["built"] == ["openai"]  # the check above can see an import when there is one


def test_every_built_in_module_defines_the_record_it_is_listed_for() -> None:
    records = known_providers()
    assert list(records)[: len(PROVIDER_MODULES)] == list(PROVIDER_MODULES)
    assert {name: record.name for name, record in records.items()} == {name: name for name in records}
    remote = {name for name, record in records.items() if not record.in_process}
    assert remote == {"openai", "openai-compatible", "anthropic"}
    assert provider_record("anthropic").unsupported_params == {"seed"}
    assert [name for name, record in records.items() if not record.listed] == ["replay"]


def test_an_unknown_provider_is_one_line_with_the_listed_ones() -> None:
    with pytest.raises(UserError) as caught:
        provider_record("opnai")
    assert str(caught.value) == (
        "model provider 'opnai' is unknown; did you mean 'openai'? "
        "known: anthropic, local, openai, openai-compatible, scripted, simulated"
    )
