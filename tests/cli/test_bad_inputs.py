"""The corpus of bad inputs in `bad_inputs/`: each one through the CLI gives one line, exit 2, and writes nothing.

Every file (or folder) of the corpus is one mistake; the ones whose format allows it say which
in their first line. Four kinds, by prefix:

- `spec_*` files go through `moot validate` and `moot graph`;
- `scenarios_*` files through `moot run` with a good spec;
- `run_*` folders through every command that reads a run (`RUN_COMMANDS`); `moot verify` exits 1
  instead of 2 where it finds something wrong with a run it could read (`VERIFY_FINDS`);
- `cli_*.args` files hold one command line (after their comment line), split like a shell does,
  with placeholders for a good spec (`{spec}`), good scenarios (`{scenarios}`), a finished run
  (`{run}`), an existing file (`{file}`), a folder (`{dir}`) and a path in a missing folder
  (`{missing}`); for `moot compare`, two more finished runs: one of the same spec on scenarios
  that differ (`{run_other_scenarios}`) and one of another study (`{run_other_study}`).

A finished run and an output directory that holds another run are made here (the two runs to
compare with, once for the module).
"""

from __future__ import annotations

import hashlib
import json
import shlex
from pathlib import Path

import pytest

from helpers import GOOD_SPEC_YAML
from moot.cli import main

CORPUS = Path(__file__).parent / "bad_inputs"


RUN = "run-20261203T110648-39341f"
"""The run id of the corpus's run folders (each a copy of one scripted run, broken one way)."""
OTHER_RUN = "run-20261203T110650-4d857b"
"""The run id of the trace that `run_trace_foreign` took from another run."""
CHANGED_RUN = "run-20000101T000000-000000"
"""The run id that `run_manifest_run_id_changed` gives its run.json."""
COUNTED = "trace.sqlite: run.json counts 9 events ending in ca42e7fb197c..."
"""How a line about the trace of a corpus run folder begins: the trace, and what its run.json expects of it."""
FOUND = "{entry}/trace.sqlite"
"""How a finding of `moot verify` about the trace of a corpus run folder names it (`{entry}`: the folder)."""

EXPECTED: dict[str, str] = {
    # Run directories.
    "run_manifest_array": "run.json: not a run manifest (a JSON array, not an object)",
    "run_manifest_binary": "run.json: not UTF-8 text (byte 0x89 at offset 0)",
    "run_manifest_events_not_a_number": "run.json: not a valid run manifest (events: Input should be a valid integer",
    "run_manifest_final_hash_changed": (
        "run.json counts 9 events ending in 000000000000...; the trace has event 9 hashed ca42e7fb197c...,"
        " not run.json's final hash"
    ),
    "run_manifest_half_written": "run.json: not JSON (Unterminated string starting at at line 87 column 5)",
    "run_manifest_is_a_directory": "run.json: not a file",
    "run_manifest_missing_fields": "run.json: not a valid run manifest (spec: Field required)",
    "run_manifest_not_json": "run.json: not JSON (Expecting value at line 1 column 1)",
    "run_manifest_not_utf8": "run.json: not UTF-8 text (byte 0xe9 at offset 13)",
    "run_manifest_run_id_changed": f"{COUNTED}; the trace holds events of run '{RUN}', not of run '{CHANGED_RUN}'",
    "run_manifest_trace_not_postgresql": "run.json: trace 'mysql://db.example/moot' is not a postgresql:// URL",
    "run_not_a_run": "is not a run directory (no run.json",
    "run_trace_deleted": f"{COUNTED}; the trace is missing",
    "run_trace_deleted_completed": f"{COUNTED}; the trace is missing",
    "run_trace_directory": f"{COUNTED}; the trace is a directory, not a database",
    "run_trace_event_not_parsing": f"{COUNTED}; the trace holds an event that does not parse at seq 3 (Input tag",
    "run_trace_events_after_the_end": (
        "run.json counts 7 events ending in 63e7225beb33...; the trace holds 9 events;"
        " a completed run's run.json counts every event"
    ),
    "run_trace_foreign": f"{COUNTED}; the trace holds events of run '{OTHER_RUN}', not of run '{RUN}' of run.json",
    "run_trace_garbage": f"{COUNTED}; the trace is damaged (file is not a database)",
    "run_trace_header_zeroed": f"{COUNTED}; the trace is damaged (file is not a database)",
    "run_trace_last_events_deleted": f"{COUNTED}; the trace holds 7 events",
    "run_trace_last_page_cut": f"{COUNTED}; the trace is damaged (database disk image is malformed)",
    "run_trace_no_events": f"{COUNTED}; the trace holds no events",
    "run_trace_no_events_table": f"{COUNTED}; the trace has no events table",
    "run_trace_page_scribbled": f"{COUNTED}; the trace is damaged (Page 3: btreeInitPage() returns error code 11)",
    "run_trace_text_file": f"{COUNTED}; the trace is damaged (file is not a database)",
    "run_trace_truncated_half": f"{COUNTED}; the trace is damaged (database disk image is malformed)",
    "run_trace_zero_bytes": f"{COUNTED}; the trace is empty (0 bytes)",
    # Scenario files.
    "scenarios_alias_bomb_metadata.yaml": ":10: aliases expand to more than 1,000,000 values",
    "scenarios_bad_json_line.jsonl": ":2: not valid JSON",
    "scenarios_billion_laughs.yaml": ":7: aliases expand to more than 1,000,000 values",
    "scenarios_deep_line.jsonl": ":2: nested more than 100 levels deep",
    "scenarios_deep_metadata.yaml": ":2: nested more than 100 levels deep",
    "scenarios_duplicate_field.yaml": ":4: key 'text' appears twice (first on line 3)",
    "scenarios_duplicate_ids.jsonl": ":2: duplicate scenario id 'a'",
    "scenarios_duplicate_key.jsonl": ":1: key 'text' appears twice",
    "scenarios_duplicate_metadata_key.jsonl": ":1: key 'k' appears twice",
    "scenarios_duplicate_metadata_key.yaml": ":6: key 'source' appears twice (first on line 5)",
    "scenarios_duplicate_top_key.yaml": ":3: key 'scenarios' appears twice (first on line 2)",
    "scenarios_empty.jsonl": ": empty file, expected one scenario per line",
    "scenarios_huge_integer.jsonl": ":1: a number of 5,000 digits; at most 100",
    "scenarios_huge_integer.yaml": ":4: a number of 5,000 digits; at most 100",
    "scenarios_latin1.jsonl": ":1: not UTF-8 text (byte 0xe9",
    "scenarios_long_float.jsonl": ":1: a number of 201 digits; at most 100",
    "scenarios_many_aliases.yaml": ":4: more than 1,000 aliases",
    "scenarios_missing_id.yaml": ":3: field 'id': field required",
    "scenarios_missing_text.jsonl": ":2: field 'text': field required",
    "scenarios_misspelled_field.yaml": ":2: field 'titel' is not allowed; did you mean 'title'?",
    "scenarios_not_an_object.jsonl": ":1: expected a JSON object",
    "scenarios_only_a_comment.yaml": ": empty file, expected a list of scenarios",
    "scenarios_recursive_alias.yaml": ":2: an alias refers to a list or mapping that contains it",
    "scenarios_utf16.jsonl": ":1: not UTF-8 text (byte 0xff at offset 0)",
    "scenarios_wrong_extension.txt": "unknown scenario file type '.txt'",
    "scenarios_wrong_type.jsonl": ":1: field 'text': expected a string, got integer",
    "scenarios_yaml_python_tag.yaml": (
        ":3: not valid YAML (could not determine a constructor for the tag "
        "'tag:yaml.org,2002:python/object/apply:os.system' at column 9)"
    ),
    "scenarios_yaml_syntax.yaml": ":3: not valid YAML",
    # Specs.
    "spec_absurd_rounds.yaml": ":5: rounds: Input should be less than or equal to 100",
    "spec_alias_bomb_variables.yaml": ":21: aliases expand to more than 1,000,000 values",
    "spec_bad_agent_name.yaml": ":10: agents[1].name: String should match pattern",
    "spec_compatible_without_url.yaml": ":3: model: model 'openai-compatible:llama' needs a base URL",
    "spec_custom_graph_cycle.yaml": ":4: turns.edges: the round graph has a cycle",
    "spec_custom_graph_no_exit.yaml": ":4: turns.edges: agent 'alice' has no path to 'end'",
    "spec_custom_graph_unknown_node.yaml": ":4: turns.edges[1]: node 'bobb' is unknown; did you mean 'bob'?",
    "spec_custom_graph_unreachable.yaml": ":4: turns.edges: agent 'bob' is unreachable from 'start'",
    "spec_decision_without_judge.yaml": ":7: stop[0].decision.agent: judge 'judge' is unknown",
    "spec_deep_nesting_variables.yaml": ":15: nested more than 100 levels deep",
    "spec_duplicate_agent_key.yaml": ":10: key 'name' appears twice (first on line 10)",
    "spec_duplicate_agent_names.yaml": ":10: agents[1].name: duplicate agent name 'alice'",
    "spec_duplicate_role_key.yaml": ":15: key 'debater' appears twice (first on line 12)",
    "spec_duplicate_top_key.yaml": ":6: key 'rounds' appears twice (first on line 5)",
    "spec_empty.yaml": ": empty spec file",
    "spec_explorer_budget_boolean.yaml": ":5: budget: Input should be a valid integer (got True)",
    "spec_explorer_version.yaml": (
        ":3: version: explorer spec version 2 is not supported; this moot reads version 1 (got 2)"
    ),
    "spec_goal_unknown.yaml": (
        ":5: goal: Input should be 'correctness', 'balanced', 'adversarial' or 'none' (got 'nothing')"
    ),
    "spec_huge_integer.yaml": ":6: a number of 5,000 digits; at most 100",
    "spec_judge_sees_no_speaker.yaml": (
        ":18: roles.referee.sees: role 'referee' is a judge that sees referee, which no speaker has: it would judge an"
        " empty view; speaker roles: debater"
    ),
    "spec_latin1.yaml": ": not UTF-8 text (byte 0xe9",
    "spec_matrix_arm_invalid.yaml": (
        ":15: matrix arm 'rounds=500': rounds: Input should be less than or equal to 100 (got 500)"
    ),
    "spec_matrix_arm_unregistered_model.yaml": (
        ":16: matrix arm 'model.alice=scripted:nobody': agents[0].model: scripted responder 'nobody' is not registered"
    ),
    "spec_matrix_combinations_too_few.yaml": (
        ":16: matrix.models.from: `combinations` gives 2 agents distinct models: list at least 2 models"
    ),
    "spec_matrix_empty.yaml": ":13: matrix: a matrix needs `models`, `vary` or both",
    "spec_matrix_lineup_unknown.yaml": ":15: matrix.models.lineup: Input should be 'each', 'combinations' or 'product'",
    "spec_matrix_model_twice.yaml": (
        ":15: matrix.models.from[1]: model 'scripted' is listed twice (entry 1); give each a `name`"
    ),
    "spec_matrix_too_many_arms.yaml": ":13: matrix: the matrix has 1,100 arms; at most 1,000",
    "spec_matrix_vary_model_of_matrix_agent.yaml": (
        ":18: matrix.vary.agents.alice.model: is set by the matrix's models for agent 'alice'"
    ),
    "spec_matrix_vary_name.yaml": ":15: matrix.vary.name: cannot be varied: it names the whole experiment",
    "spec_matrix_vary_unknown_agent.yaml": (
        ":15: matrix.vary.agents.carol.temperature: names nothing: agent 'carol' is unknown; known: alice, bob"
    ),
    "spec_matrix_vary_unknown_field.yaml": (
        ":15: matrix.vary.gaol: names nothing: spec field 'gaol' is unknown; did you mean 'goal'?"
    ),
    "spec_many_aliases.yaml": ":17: more than 1,000 aliases",
    "spec_max_tokens_string.yaml": ":10: agents[1].max_tokens: Input should be a valid integer (got '300')",
    "spec_missing_agent_name.yaml": ":10: agents[1].name: missing required key 'name'",
    "spec_missing_prompt_template.yaml": (
        ":13: roles.debater.prompt: prompt template 'debatr' is unknown; did you mean 'debater'?"
    ),
    "spec_misspelled_agent_key.yaml": (
        ":10: agents[1].temprature: unknown key 'temprature'; did you mean 'temperature'?"
    ),
    "spec_misspelled_role_key.yaml": ":14: roles.debater.outptu: unknown key 'outptu'; did you mean 'output'?",
    "spec_misspelled_top_key.yaml": ":8: agnets: unknown key 'agnets'; did you mean 'agents'?",
    "spec_negative_rounds.yaml": ":5: rounds: Input should be greater than or equal to 1 (got -1)",
    "spec_not_a_mapping.yaml": ": a spec must be a mapping",
    "spec_only_a_comment.yaml": ": a spec must be a mapping",
    "spec_output_schema_bounds.yaml": (
        ":14: roles.debater.output: inline output schema: properties.score: 'minimum' (5) is above 'maximum' (1)"
    ),
    "spec_output_schema_required_string.yaml": (
        ":14: roles.debater.output: inline output schema: 'required' must be a list of property names (got 'verdict')"
    ),
    "spec_output_schema_required_unknown.yaml": (
        ":14: roles.debater.output: inline output schema: 'required' names 'verdikt', which is not one of the "
        "properties (verdict)"
    ),
    "spec_output_schema_unknown_type.yaml": (
        ":14: roles.debater.output: inline output schema: properties.verdict: 'type' must be one of string, integer, "
        "number, boolean, array, object (got 'text')"
    ),
    "spec_output_schema_unsupported_keyword.yaml": (
        ":14: roles.debater.output: inline output schema: properties.verdict: keyword 'pattern' is not supported for a "
        "string; supported: enum, maxLength, minLength, type"
    ),
    "spec_recursive_alias.yaml": ":15: an alias refers to a list or mapping that contains it",
    "spec_repeats_float.yaml": ":6: repeats: Input should be a valid integer (got 2.0)",
    "spec_role_without_prompt.yaml": ":13: roles.debater.prompt: role 'debater' has no prompt",
    "spec_rounds_boolean.yaml": ":5: rounds: Input should be a valid integer (got True)",
    "spec_top_p_above_one.yaml": ":10: agents[1].top_p: Input should be less than or equal to 1 (got 1.5)",
    "spec_rounds_string.yaml": ":5: rounds: Input should be a valid integer (got '3')",
    "spec_scenarios_file_broken.yaml": "bad_inputs/scenarios_bad_json_line.jsonl:2: not valid JSON",
    "spec_sees_matches_no_agent.yaml": (
        ":15: roles.debater.sees: role 'debater' (speaker) sees moderator, which no agent has: it would see nothing"
    ),
    "spec_stop_decision_judge_twice.yaml": ":7: stop[0].decision: `agents` names a judge twice",
    "spec_stop_decision_names_a_speaker.yaml": (
        ":7: stop[0].decision.agent: 'bob' is a speaker (role 'debater'); a decision stop needs a judge: moderator"
    ),
    "spec_stop_decision_not_an_enum_value.yaml": (
        ':7: stop[0].decision.equals: decision stop on moderator.mood: equals "relaxed" is not one of the field\'s'
        ' values ("calm", "tense"); the rule could never fire'
    ),
    "spec_stop_decision_wrong_type.yaml": (
        ':7: stop[0].decision.equals: decision stop on moderator.settled: equals "yes" is a string, but the field is'
        " a boolean (true or false); the rule could never fire"
    ),
    "spec_stop_majority_share_half.yaml": ":7: stop[0].majority.share: Input should be greater than 0.5 (got 0.5)",
    "spec_stop_min_rounds_beyond_limit.yaml": (
        ":7: stop[0].min_rounds: min_rounds 3 is more than the round limit (2): the rules it holds back could"
        " never fire"
    ),
    "spec_stop_min_rounds_in_any.yaml": (
        ":7: stop[0].any[0].min_rounds: min_rounds inside `any` would stop the conversation by itself"
    ),
    "spec_stop_two_rules_in_one_entry.yaml": (
        ":7: stop[0]: 'consensus' and 'decision' are two rules: write each as its own entry of the list"
    ),
    "spec_stop_unknown_rule.yaml": ":7: stop[0].consensos: unknown key 'consensos'; did you mean 'consensus'?",
    "spec_stop_on_field_no_role_outputs.yaml": ":7: stop[0].consensus: consensus field 'conceded' is unknown",
    "spec_stop_on_misspelled_field.yaml": (
        ":7: stop[0].consensus: consensus field 'verdikt' is unknown; did you mean 'verdict'?"
    ),
    "spec_template_attr_filter_private.yaml": (
        ":13: roles.debater.prompt: template breaks a sandbox rule: access to attribute '__class__' of 'dict' object "
        "is unsafe."
    ),
    "spec_template_center_filter.yaml": (
        ":13: roles.debater.prompt: template goes beyond a limit: a centred string would hold more than 1,000,000 "
        "characters"
    ),
    "spec_template_divide_by_zero.yaml": (
        ":13: roles.debater.prompt: template failed to render: ZeroDivisionError: division by zero"
    ),
    "spec_template_doubling_join.yaml": (
        ":13: roles.debater.prompt: template goes beyond a limit: a joined string would hold more than 1,000,000 "
        "characters"
    ),
    "spec_template_extends_outside.yaml": (
        ":13: roles.debater.prompt: template not allowed on its line 1: '/etc/hostname' is not a bundled prompt "
        "template; include, import and extends reach only protocols/prompts/*.j2"
    ),
    "spec_template_format_filter.yaml": (
        ":13: roles.debater.prompt: template goes beyond a limit: a formatted string would hold more than 1,000,000 "
        "characters"
    ),
    "spec_template_globals_exploit.yaml": (
        ":13: roles.debater.prompt: template not allowed on its line 1: attribute '__globals__' is not allowed: names "
        "starting with '_' are private"
    ),
    "spec_template_huge_output.yaml": (
        ":13: roles.debater.prompt: template goes beyond a limit: the rendered text is longer than 2,000,000 characters"
    ),
    "spec_template_huge_range.yaml": (
        ":13: roles.debater.prompt: template goes beyond a limit: range() of 1,000,000,000 numbers; at most 100,000"
    ),
    "spec_template_import_outside.yaml": (
        ":13: roles.debater.prompt: template not allowed on its line 1: '../../moot/cli.py' is not a bundled prompt "
        "template; include, import and extends reach only protocols/prompts/*.j2"
    ),
    "spec_template_include_absolute.yaml": (
        ":13: roles.debater.prompt: template not allowed on its line 1: '/etc/passwd' is not a bundled prompt "
        "template; include, import and extends reach only protocols/prompts/*.j2"
    ),
    "spec_template_include_parent.yaml": (
        ":13: roles.debater.prompt: template not allowed on its line 1: '../loader.py' is not a bundled prompt "
        "template; include, import and extends reach only protocols/prompts/*.j2"
    ),
    "spec_template_int_method.yaml": (
        ":13: roles.debater.prompt: template breaks a sandbox rule: access to attribute 'to_bytes' of 'int' object is "
        "unsafe."
    ),
    "spec_template_lipsum.yaml": (
        ":13: roles.debater.prompt: template uses an undefined variable: 'lipsum' is undefined"
    ),
    "spec_template_mro_walk.yaml": (
        ":13: roles.debater.prompt: template not allowed on its line 1: attribute '__mro__' is not allowed: names "
        "starting with '_' are private"
    ),
    "spec_template_nested_loops.yaml": (
        ":13: roles.debater.prompt: template goes beyond a limit: loops ran more than 100,000 iterations"
    ),
    "spec_template_percent_width.yaml": (
        ":13: roles.debater.prompt: template goes beyond a limit: a %-formatted string would hold more than 1,000,000 "
        "characters"
    ),
    "spec_template_power_tower.yaml": (
        ":13: roles.debater.prompt: template goes beyond a limit: a power of more than 4,096 bits"
    ),
    "spec_template_recursive_loop.yaml": (
        ":13: roles.debater.prompt: template not allowed on its line 1: recursive loops are not allowed"
    ),
    "spec_template_recursive_macro.yaml": (
        ":13: roles.debater.prompt: template goes beyond a limit: calls nested more than 50 deep (a macro calling "
        "itself?)"
    ),
    "spec_template_str_format.yaml": (
        ":13: roles.debater.prompt: template breaks a sandbox rule: access to attribute 'format' of 'str' object is "
        "unsafe."
    ),
    "spec_template_string_multiplication.yaml": (
        ":13: roles.debater.prompt: template goes beyond a limit: a repeated sequence would hold more than 1,000,000 "
        "characters"
    ),
    "spec_template_subclasses_walk.yaml": (
        ":13: roles.debater.prompt: template not allowed on its line 1: attribute '__subclasses__' is not allowed: "
        "names starting with '_' are private"
    ),
    "spec_template_syntax_in_agent_system.yaml": (
        ":10: agents[1].system: template syntax error on its line 1: Encountered unknown tag 'bob'."
    ),
    "spec_template_syntax_in_turn.yaml": ":15: roles.debater.turn: template syntax error on its line 1: unexpected '}'",
    "spec_template_unclosed_block.yaml": (
        ":13: roles.debater.prompt: template syntax error on its line 1: Unexpected end of template. Jinja was looking "
        "for the following tags: 'elif' or 'else' or 'endif'. The innermost block that needs to be closed is 'if'."
    ),
    "spec_template_unknown_filter.yaml": (
        ":13: roles.debater.prompt: template syntax error on its line 1: No filter named 'shout'."
    ),
    "spec_template_wordwrap_filter.yaml": (
        ":13: roles.debater.prompt: template goes beyond a limit: a wrapped string would hold more than 1,000,000 "
        "characters"
    ),
    "spec_few_shot_without_examples.yaml": (
        ":11: roles.target.prompt: template uses an undefined variable: "
        "'few_shot_examples_must_list_worked_scenarios' is undefined"
    ),
    "spec_stated_wording_unknown.yaml": (
        ":10: roles.chooser.prompt: template uses an undefined variable: 'wording_must_be_1_2_3_4_or_5' is undefined"
    ),
    "spec_undefined_template_variable.yaml": ":13: roles.debater.prompt: template uses an undefined variable",
    "spec_unknown_bundled_scenarios.yaml": (
        ":4: scenarios: scenario file 'aita_value_portrai' not found; did you mean 'aita_value_portrait'?"
    ),
    "spec_unknown_output_schema.yaml": (
        ":14: roles.debater.output: output schema 'verdikt' is unknown; did you mean 'verdict'?"
    ),
    "spec_unknown_provider.yaml": ":3: model: model provider 'opnai' is unknown; did you mean 'openai'?",
    "spec_unknown_provider_settings.yaml": ":4: providers.opnai: provider 'opnai' is unknown; did you mean 'openai'?",
    "spec_structured_output_unknown.yaml": (
        ":4: providers.openai-compatible.structured_output: Input should be 'auto', 'json_schema',"
        " 'json_object_schema', 'guided_json', 'ollama_format', 'json_object' or 'instructions' (got 'json_grammar')"
    ),
    "spec_unknown_study.yaml": ":3: study: Value error, study 'deliberaton' is unknown; did you mean 'deliberation'?",
    "spec_unknown_turn_policy.yaml": ":4: turns: Input should be 'synchronous' or 'round_robin' (got 'roundrobin')",
    "spec_utf16.yaml": ": not UTF-8 text (byte 0xff at offset 0)",
    "spec_version_unsupported.yaml": (
        ":2: version: spec version 99 is not supported; this moot reads version 1 (got 99)"
    ),
    "spec_wrong_type_agents.yaml": ":8: agents: Input should be a valid list",
    "spec_wrong_type_rounds.yaml": ":5: rounds: Input should be a valid integer",
    "spec_wrong_type_temperature.yaml": ":10: agents[1].temperature: Input should be a valid number",
    "spec_yaml_python_tag.yaml": (
        ":15:16: YAML syntax error: could not determine a constructor for the tag "
        "'tag:yaml.org,2002:python/object/apply:os.system'"
    ),
    "spec_yaml_tab_indent.yaml": ":14:1: YAML syntax error: found character '\\t' that cannot start any token",
    "spec_yaml_unclosed_bracket.yaml": ":6:5: YAML syntax error",
    "spec_zero_agents.yaml": ":8: agents: List should have at least 1 item",
    "spec_zero_rounds.yaml": ":5: rounds: Input should be greater than or equal to 1 (got 0)",
    # Command lines (placeholders filled in as in the entries).
    "cli_analyze_boot_too_few.args": "moot analyze: argument --boot: must be at least 10 (got 5)",
    "cli_analyze_dpi_too_low.args": "moot analyze: argument --dpi: must be at least 50 (got 10)",
    "cli_compare_dpi_too_high.args": "moot compare: argument --dpi: must be between 50 and 1200 (got 5000)",
    "cli_analyze_out_is_a_file.args": "--out '{file}' is a file; name a folder",
    "cli_analyze_judge_unknown.args": "judge 'values_judge' is not a judge of this run (it has no judge's decisions)",
    "cli_analyze_groups_malformed.args": "--groups: 'open' is not NAME=MODEL,MODEL",
    "cli_analyze_show_empty.args": "--show: names no model (expected MODEL,MODEL)",
    "cli_analyze_elo_k_below_one.args": "--method elo_k=0: expected a finite number of at least 1",
    "cli_analyze_method_malformed.args": (
        "--method 'bradley_terry': expected NAME=VALUE (e.g. --method bradley_terry=concessions)"
    ),
    "cli_analyze_method_consistency_value.args": (
        "--method consistency_shared_values=drop: value 'drop' is unknown; known: keep, sit_out"
    ),
    "cli_analyze_method_unknown.args": (
        "--method no_such_option: not an option of the protocol analysis (options it read: none)"
    ),
    "cli_compare_different_scenarios.args": (
        "runs '{run}' and '{run_other_scenarios}' differ in 1 of their 2 scenarios (ids or content): compare runs of "
        "the same scenarios, or pass --overlap to keep the 1 all runs share"
    ),
    "cli_compare_different_study.args": (
        "run '{run}' is a protocol run, '{run_other_study}' a deliberation run: a comparison is of one study"
    ),
    "cli_compare_label_unknown_run.args": "--label x={dir}: '{dir}' is not one of the runs compared",
    "cli_compare_label_without_run.args": "--label 'x': expected NAME=RUN_DIR",
    "cli_compare_not_a_run.args": "'{dir}' is not a run directory (no run.json",
    "cli_compare_one_run.args": "a comparison needs at least two runs (got 1)",
    "cli_compare_out_holds_a_run.args": (
        "--out '{run}' already exists and holds something other than a comparison; name another folder"
    ),
    "cli_compare_same_run_twice.args": "'{run}' and '{run}' are the same run (run-",
    "cli_export_format_unknown.args": "argument --format: invalid choice: 'xml'",
    "cli_export_no_format.args": "the following arguments are required: --format",
    "cli_export_otlp_table.args": "--table does not apply to --format otlp (it writes the run's spans, not tables)",
    "cli_export_out_is_a_file.args": "--out '{file}' is a file; name a folder",
    "cli_export_out_under_a_file.args": "--out '{file}/tables': '{file}' is a file, not a folder",
    "cli_judge_address_without_ray.args": "--address and --workers need --executor ray",
    "cli_judge_arguments_without_free_text.args": "has no free-text answers to split into arguments",
    "cli_judge_arguments_with_name.args": ("--name does not apply to --judge arguments: its judges keep their names"),
    "cli_judge_cache_is_a_folder.args": "--cache '{dir}' is a folder; name a cache file",
    "cli_judge_concurrency_zero.args": "moot judge: argument --concurrency: must be at least 1 (got 0)",
    "cli_judge_model_empty.args": "argument --model: expected a model as PROVIDER:MODEL, got an empty value",
    "cli_judge_name_not_a_name.args": (
        "judge name 'values-judge' is not an agent name: letters, digits and _, starting with a letter,"
        " at most 64 characters"
    ),
    "cli_judge_name_taken.args": (
        "judge name 'alice' is taken in this run (an agent of the run's spec); choose another with --name"
    ),
    "cli_judge_role_not_a_judge.args": (
        "role 'debater' of the run's spec speaks; it is not a judge (its judge roles: none)"
    ),
    "cli_judge_role_unknown.args": "judge 'concession' is unknown; known: arguments, arguments_claim_tree, values",
    "cli_judge_trace_elsewhere.args": (
        "--trace 'postgresql://moot@127.0.0.1:1/elsewhere' is not where run '{run}' keeps its trace (its trace.sqlite)"
    ),
    "cli_replay_out_holds_a_run.args": "output directory '{run}' already exists and holds another run",
    "cli_report_baseline_missing.args": "run directory '{missing}' not found",
    "cli_report_out_in_missing_folder.args": "--out '{missing}': folder '{tmp}/missing' does not exist",
    "cli_report_out_is_a_folder.args": "--out '{dir}' is a folder; name a file",
    "cli_resume_missing_run.args": "run directory '{missing}' not found",
    "cli_resume_with_a_spec.args": "takes no spec",
    "cli_resume_with_seed.args": "takes no --seed",
    "cli_run_cache_is_a_folder.args": "--cache '{dir}' is a folder; name a cache file",
    "cli_run_cache_is_a_trace.args": "is a SQLite database of something else (tables events)",
    "cli_run_cache_is_text.args": "--cache '{file}' is not a response cache (file is not a database)",
    "cli_run_cache_under_a_file.args": "'{file}' is a file, not a folder",
    "cli_run_cache_unreachable.args": "--cache '/proc/moot/responses.sqlite': cannot open the cache",
    "cli_graph_explorer_svg.args": (
        "--format svg draws protocols; this is a question_generation spec: use text or mermaid"
    ),
    "cli_run_explorer_orders.args": "--orders does not apply to an explorer spec (kind: question_generation)",
    "cli_run_concurrency_not_a_number.args": "argument --concurrency: expected a whole number, got 'many'",
    "cli_run_limit_not_a_number.args": "moot run: argument --limit: expected a whole number, got 'ten'",
    "cli_run_model_empty.args": "argument --model: expected a model as [AGENT=]PROVIDER:MODEL, got an empty value",
    "cli_run_model_for_agent_empty.args": "--model 'alice=': names no model",
    "cli_run_model_unknown_agent.args": "agent 'zed' is unknown",
    "cli_run_model_unknown_provider.args": (
        "--model 'opnai:gpt-4o': model provider 'opnai' is unknown; did you mean 'openai'?"
    ),
    "cli_run_orders_unknown.args": "argument --orders: invalid choice: 'bogus'",
    "cli_run_otel_not_a_url.args": "--otel 'localhost:4318' is not an OTLP/HTTP endpoint: give http://HOST:PORT",
    "cli_run_out_is_a_file.args": "--out '{file}' is a file; name a folder to create",
    "cli_run_out_under_a_file.args": "--out '{file}/run': '{file}' is a file, not a folder",
    "cli_run_out_unwritable.args": "'/proc/moot-run'",
    "cli_run_ray_address_unreachable.args": "--address 127.0.0.1:1: no Ray cluster answers at 127.0.0.1:1",
    "cli_run_repeats_zero.args": "argument --repeats: must be at least 1 (got 0)",
    "cli_run_resume_otel_grpc.args": "--otel 'grpc://localhost:4317' is not an OTLP/HTTP endpoint",
    "cli_run_scenarios_missing.args": "scenario file '{missing}' not found",
    "cli_run_seed_negative.args": "argument --seed: must be at least 0 (got -1)",
    "cli_run_trace_not_postgresql.args": "expected a postgresql:// URL",
    "cli_run_unknown_option.args": "unrecognized arguments: --rounds 3",
    "cli_run_workers_zero.args": "argument --workers: must be at least 1 (got 0)",
    "cli_scenarios_filter_missing_file.args": "{missing}: no such file",
    "cli_scenarios_generate_out_exists.args": "output file '{file}' already exists; choose another or remove it",
    "cli_trace_unknown_conversation.args": "conversation 'cnope' is not in",
    "cli_unknown_command.args": "argument COMMAND: invalid choice: 'frobnicate'",
    "cli_validate_missing_spec.args": "spec file '{tmp}/nope.yaml' not found",
    "cli_view_port_out_of_range.args": "argument --port: must be between 0 and 65535 (got 70000)",
}
"""What the one line says about each corpus entry (after `moot: error: `)."""

RUN_EXPECTED: dict[str, dict[str, str]] = {}
"""Where a command words its line about a run folder otherwise than `EXPECTED` (by command name)."""

EXPECTS = COUNTED.removeprefix("trace.sqlite: ")
"""What run.json of a corpus run folder expects of its trace, as a finding of `moot verify` ends."""

VERIFY_FINDS: dict[str, str] = {
    "run_manifest_final_hash_changed": f"manifest: run.json's final hash {'0' * 64} is not the hash",
    "run_manifest_run_id_changed": f"foreign: {FOUND} holds events of run '{RUN}', not of run '{CHANGED_RUN}'",
    "run_trace_deleted": f"missing: {FOUND} is missing; {EXPECTS}",
    "run_trace_deleted_completed": f"missing: {FOUND} is missing; {EXPECTS}",
    "run_trace_directory": f"damaged: {FOUND} is a directory, not a database; {EXPECTS}",
    "run_trace_event_not_parsing": "edited at seq 3: its body is not a valid event",
    "run_trace_events_after_the_end": "inserted at seq 8: 2 event(s) after the final event of run.json (event 7)",
    "run_trace_foreign": f"foreign: {FOUND} holds events of run '{OTHER_RUN}', not of run '{RUN}' of run.json",
    "run_trace_garbage": f"damaged: {FOUND} is damaged (file is not a database); {EXPECTS}",
    "run_trace_header_zeroed": f"damaged: {FOUND} is damaged (file is not a database); {EXPECTS}",
    "run_trace_last_events_deleted": "removed at seq 8: run.json counts 9 events ending in a hash no event has",
    "run_trace_last_page_cut": f"damaged: {FOUND} is damaged (database disk image is malformed); {EXPECTS}",
    "run_trace_no_events": f"missing: {FOUND} holds no events; {EXPECTS}",
    "run_trace_no_events_table": f"missing: {FOUND} has no events table; {EXPECTS}",
    "run_trace_page_scribbled": f"damaged: {FOUND} is damaged (Page 3: btreeInitPage() returns error code 11);",
    "run_trace_text_file": f"damaged: {FOUND} is damaged (file is not a database); {EXPECTS}",
    "run_trace_truncated_half": f"damaged: {FOUND} is damaged (database disk image is malformed); {EXPECTS}",
    "run_trace_zero_bytes": f"missing: {FOUND} is empty (0 bytes); {EXPECTS}",
}
"""Run folders that `moot verify` reads and finds wrong (exit 1): how its first line begins, the kind of
what it found first (`{entry}` stands for the folder)."""

RUN_COMMANDS: dict[str, list[str]] = {
    "resume": ["run", "--resume", "{entry}"],
    "analyze": ["analyze", "{entry}", "--out", "{tmp}/analysis"],
    "trace": ["trace", "{entry}"],
    "verify": ["verify", "{entry}"],
    "export": ["export", "{entry}", "--format", "jsonl", "--out", "{tmp}/export"],
    "report": ["report", "{entry}", "--out", "{tmp}/report.html"],
    "replay": ["replay", "{entry}", "--out", "{tmp}/replay"],
    "judge": ["judge", "{entry}", "--no-cache"],
    "compare": ["compare", "{run}", "{entry}", "--out", "{tmp}/compare"],
}
"""Every command that reads a run, as given a run folder of the corpus (outputs go to the working folder)."""

COMMENTLESS = {".jsonl", ""}
"""Formats without comments (JSON lines, run folders), and files that are empty or not UTF-8 on purpose."""


def snapshot(*folders: Path) -> dict[str, str]:
    """Every file under the folders with the SHA-256 of its bytes."""
    return {
        str(p): hashlib.sha256(p.read_bytes()).hexdigest()
        for folder in folders
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def kind_of(name: str) -> str:
    """The kind of a corpus entry, from its prefix."""
    return name.split("_", 1)[0]


def args_line(entry: Path) -> str:
    """The command line of a `cli_*.args` entry: its first line that is not a comment."""
    return next(
        line for line in entry.read_text(encoding="utf-8").splitlines() if line.strip() and not line.startswith("#")
    )


def command_lines(entry: Path, places: dict[str, Path]) -> list[tuple[str, list[str]]]:
    """The CLI commands a corpus entry goes through, each with its name."""
    name = entry.name
    if name.startswith("spec_"):
        return [("validate", ["validate", str(entry)]), ("graph", ["graph", str(entry)])]
    if name.startswith("scenarios_"):
        return [
            ("run", ["run", str(places["spec"]), "--scenarios", str(entry), "--out", str(places["out"]), "--quiet"])
        ]
    if name.startswith("run_"):
        fill = {"entry": str(entry), **{key: str(value) for key, value in places.items()}}
        return [(command, [part.format(**fill) for part in argv]) for command, argv in RUN_COMMANDS.items()]
    fill = {key: str(value) for key, value in places.items()}
    return [("cli", [part.format(**fill) for part in shlex.split(args_line(entry))])]


def check_one_line(
    argv: list[str], capsys: pytest.CaptureFixture[str], expected: str, names: Path | None = None
) -> None:
    """Exit code 2, one line on stderr holding `expected` (and naming `names`), no traceback."""
    assert main(argv) == 2, argv
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("moot: error: "), (argv, err)
    assert names is None or str(names) in err, (argv, err)
    assert expected in err and "Traceback" not in err, (argv, err)


def check_verify_finds(argv: list[str], capsys: pytest.CaptureFixture[str], finding: str) -> None:
    """`moot verify` exits 1 and its first line begins with `finding` (the kind of what it found); no traceback."""
    assert main(argv) == 1, argv
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert lines and lines[0].startswith(finding), (argv, captured.out)
    assert "Traceback" not in captured.out + captured.err, (argv, captured.err)


@pytest.fixture(scope="module")
def runs_to_compare(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two finished runs to compare with the good run: its spec on one more scenario, and a run of another study."""
    root = tmp_path_factory.mktemp("to-compare")
    scenarios = root / "cases.jsonl"
    scenarios.write_text(
        json.dumps({"id": "a", "text": "x"}) + "\n" + json.dumps({"id": "b", "text": "y"}) + "\n", encoding="utf-8"
    )
    specs = {"run_other_scenarios": GOOD_SPEC_YAML, "run_other_study": GOOD_SPEC_YAML + "study: deliberation\n"}
    runs = {}
    for name, text in specs.items():
        spec = root / f"{name}.yaml"
        spec.write_text(text, encoding="utf-8")
        cases = scenarios if name == "run_other_scenarios" else root / "one.jsonl"
        if not cases.exists():
            cases.write_text(json.dumps({"id": "a", "text": "x"}) + "\n", encoding="utf-8")
        runs[name] = root / name
        argv = ["run", str(spec), "--scenarios", str(cases), "--out", str(runs[name]), "--quiet", "--no-cache"]
        assert main(argv) == 0
    return runs


@pytest.fixture
def places(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    runs_to_compare: dict[str, Path],
) -> dict[str, Path]:
    """A working folder with a good spec, good scenarios, a finished run, a file and a folder (the placeholders)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MOOT_CACHE", str(tmp_path / "cache" / "responses.sqlite"))
    spec = tmp_path / "good.yaml"
    spec.write_text(GOOD_SPEC_YAML, encoding="utf-8")
    scenarios = tmp_path / "cases.jsonl"
    scenarios.write_text(json.dumps({"id": "a", "text": "x"}) + "\n", encoding="utf-8")
    run = tmp_path / "run"
    assert main(["run", str(spec), "--scenarios", str(scenarios), "--out", str(run), "--quiet", "--no-cache"]) == 0
    capsys.readouterr()
    existing = tmp_path / "existing.txt"
    existing.write_text("a file that is not a folder\n", encoding="utf-8")
    folder = tmp_path / "folder"
    folder.mkdir()
    return {
        "tmp": tmp_path,
        "spec": spec,
        "scenarios": scenarios,
        "run": run,
        "file": existing,
        "dir": folder,
        "missing": tmp_path / "missing" / "x",
        "out": tmp_path / "out",
        **runs_to_compare,
    }


def test_the_corpus_covers_every_kind_and_says_what_is_wrong() -> None:
    entries = sorted(p.name for p in CORPUS.iterdir())
    assert len(entries) >= 40
    assert entries == sorted(EXPECTED), "every corpus entry has its expected message, and only those"
    assert {kind_of(name) for name in entries} <= {"spec", "scenarios", "run", "cli"}
    assert set(RUN_EXPECTED) | set(VERIFY_FINDS) <= {name for name in entries if kind_of(name) == "run"}
    for name in entries:
        path = CORPUS / name
        data = path.read_bytes() if path.is_file() else b"#"
        if path.suffix not in COMMENTLESS and data and data.isascii():
            assert data.startswith(b"# "), f"{name} starts with a comment saying what is wrong"
        if kind_of(name) == "cli":
            assert path.suffix == ".args", f"{name}: a command line entry is a .args file"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_bad_input_gives_one_line_exit_2_and_writes_nothing(
    name: str, places: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    entry = CORPUS / name
    compared = [places["run_other_scenarios"], places["run_other_study"]]
    before = snapshot(CORPUS, places["tmp"], *compared)
    for command, argv in command_lines(entry, places):
        if command == "verify" and name in VERIFY_FINDS:
            check_verify_finds(argv, capsys, VERIFY_FINDS[name].format(entry=entry))
            continue
        expected = RUN_EXPECTED.get(name, {}).get(command, EXPECTED[name])
        if kind_of(name) == "cli":
            expected = expected.format(**{key: str(value) for key, value in places.items()})
        check_one_line(argv, capsys, expected, names=entry if kind_of(name) != "cli" else None)
    assert not places["out"].exists()
    assert snapshot(CORPUS, places["tmp"], *compared) == before, "nothing may be written"


def test_a_finished_run_a_taken_out_dir_and_stray_resume_options_are_refused_untouched(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    spec = tmp_path / "good.yaml"
    spec.write_text(GOOD_SPEC_YAML, encoding="utf-8")
    cases = tmp_path / "cases.jsonl"
    cases.write_text('{"id": "a", "text": "x"}\n', encoding="utf-8")
    run = tmp_path / "run"
    assert main(["run", str(spec), "--scenarios", str(cases), "--out", str(run), "--quiet"]) == 0
    capsys.readouterr()
    before = snapshot(run)
    check_one_line(
        ["run", "--resume", str(run)],
        capsys,
        f"run '{run}' is finished (1 completed, 0 failed of 1); nothing to resume",
    )
    check_one_line(
        ["run", str(spec), "--scenarios", str(cases), "--out", str(run), "--quiet"],
        capsys,
        f"output directory '{run}' already exists and holds another run",
    )
    check_one_line(["run", str(spec), "--resume", str(run)], capsys, f"--resume {run} takes no spec")
    check_one_line(["run", "--resume", str(run), "--limit", "2"], capsys, "takes no --limit")
    check_one_line(["run"], capsys, "moot run needs a spec")
    assert snapshot(run) == before, "the existing run is unchanged, byte for byte"
