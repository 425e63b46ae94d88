# %% [markdown]
# # A run from a notebook
#
# Load a bundled spec, add an agent in Python, run it on scripted models, open the run, and read
# its tables as pandas DataFrames. Each `# %%` is a cell (Jupyter, VS Code and `jupytext` read
# them); `python examples/notebook_tour.py` runs it whole, and checks what it shows against the
# trace. Scripted models replay the replies written below: they test the machinery, not a model.
# Needs `pip install 'moot[pandas]'`.

# %%
import json
import sys
import tempfile
from pathlib import Path

import moot

folder = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="moot-tour-"))


def verdict(answer: str, why: str) -> str:
    """A debater's reply, as the `verdict` output schema asks for it."""
    return json.dumps({"verdict": answer, "explanation": why})


# %% [markdown]
# ## A bundled spec, with a third debater added in Python
#
# `edited` validates the changed spec again and keeps the folder it was loaded from, so its
# relative paths (here its bundled scenarios) resolve as before.

# %%
loaded = moot.load_spec("aita_round_robin_2")
alice, bob, judge = loaded.spec.agents
carol = moot.AgentSpec(
    name="carol", role="debater", script=[verdict("YTA", "carol blames the poster"), verdict("NTA", "carol gives in")]
)
scripts = {
    "alice": [verdict("NTA", "alice backs the poster")],
    "bob": [verdict("YTA", "bob blames the poster"), verdict("NTA", "bob is persuaded")],
    "value_judge": [json.dumps({"values": ["Respect and dignity", "Child welfare", "Being nice"]})],
}
agents = [agent.model_copy(update={"script": scripts[agent.name]}) for agent in (alice, bob, judge)]
spec = loaded.edited(model="scripted", agents=[*agents[:2], carol, agents[2]])
print([agent.name for agent in spec.spec.agents])

# %%
run = moot.run(spec, limit=3, out=folder / "run", cache=None)
print(run.summary())  # in Jupyter, a cell that ends in `run` shows the run's summary as a table

# %% [markdown]
# ## The tables
#
# One row per conversation, message, judge decision, model call and event. A parsed field is a
# column of its own; a list stays a list.

# %%
conversations = run.conversations()
messages = run.messages()
decisions = run.decisions()
calls = run.calls()
events = run.events()
print(conversations[["scenario_id", "status", "stop_reason", "rounds", "messages", "tokens_in"]])
print(messages.groupby("agent")["verdict"].value_counts())
print(decisions[["agent", "about", "values", "dropped_values"]].head())

# %%
first = run.conversation(conversations.conversation_id[0])  # in Jupyter, `first` shows a compact transcript
print(first.scenario_id, [(m.round, m.agent, m.parsed["verdict"]) for m in first.messages])

# %% [markdown]
# ## Checked against the trace

# %%
trace = run.event_list()
said = [e for e in trace if e.event == "message_added"]
judged = [e for e in trace if e.event == "judge_decision"]
asked = [e for e in trace if e.event == "model_call"]

assert conversations.shape[0] == 3 and set(conversations.status) == {"completed"}
assert list(conversations.rounds) == [2, 2, 2]  # bob and carol come round to alice in round 2
assert messages.shape == (len(said), 19) and list(messages.seq) == [e.seq for e in said]
assert list(messages.verdict) == [e.parsed["verdict"] for e in said]
assert {str(messages[c].dtype) for c in ("verdict", "agent", "content")} == {"string"}
assert str(messages["round"].dtype) == "int64" and str(messages.cache_hit.dtype) == "bool"
assert len(decisions) == len(judged) == len(said)  # the values judge decides about each message
assert list(decisions["values"]) == [e.decision["values"] for e in judged]
assert decisions["values"][0] == ["Respect and dignity", "Child welfare"]  # a list, not JSON text
assert decisions["dropped_values"][0] == ["Being nice"]  # not one of the 48 values
assert len(calls) == len(asked) and calls.tokens_in.sum() == run.manifest.usage.total.tokens_in
assert list(events.seq) == [e.seq for e in trace] and str(events.time.dtype) == "datetime64[ns, UTC]"

# %% [markdown]
# ## The commands, from Python

# %%
assert run.verify().ok  # moot verify
written = run.export("parquet")  # moot export: lists stay lists in Parquet too
print([(table.table, table.rows) for table in written])
print(run.report())  # moot report (and moot analyze first)
