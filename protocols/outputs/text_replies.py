"""The free-text reply mode: a role asked to end its answer with `Field: value` lines, and those lines read back."""

from __future__ import annotations

import re
from typing import Any

from moot.protocols.outputs.schema import OutputSchema

_LABEL = re.compile(
    r"^[\s>*_#-]*(?:my\s+(?:current\s+|final\s+)?)?(?P<label>[A-Za-z][A-Za-z _-]{0,40}?)\s*[*_]*\s*:\s*(?P<value>.*)$"
)


def text_format_instructions(schema: OutputSchema) -> str:
    """The documented line format of the free-text mode, e.g. `My current verdict: NTA`."""
    lines = []
    for field_name in schema.fields:
        allowed = schema.enum_values(field_name)
        hint = " | ".join(str(v) for v in allowed) if allowed else "..."
        label = f"My current {field_name}" if allowed else field_name.capitalize()
        lines.append(f"{label}: {hint}")
    return "End your answer with these lines:\n" + "\n".join(lines)


def parse_text_reply(schema: OutputSchema, text: str) -> tuple[dict[str, Any] | None, str | None]:
    """Parse a free-text reply written in the `Field: value` line format, tolerantly.

    Labels are matched case-insensitively and may carry a prefix (`My current verdict:`) or
    markdown emphasis. An enum field without a label is taken from the last allowed value
    that stands alone as a word. A free-text field without a label gets the unlabelled text,
    and free text longer than the field's `maxLength` is cut to it.
    """
    found: dict[str, str] = {}
    current: str | None = None
    loose: list[str] = []
    wanted = {name.lower().replace("_", " "): name for name in schema.fields}
    for line in text.splitlines():
        match = _LABEL.match(line)
        label = match and match.group("label").strip().lower().replace("_", " ")
        if match and label in wanted:
            current = wanted[label]
            found[current] = match.group("value").strip().strip("*_").strip()
        elif current is not None and schema.enum_values(current) is None and line.strip():
            found[current] = (found[current] + "\n" + line.strip()).strip()
        elif line.strip():
            loose.append(line.strip())
    data: dict[str, Any] = {}
    for field_name in schema.fields:
        allowed = schema.enum_values(field_name)
        value = found.get(field_name)
        if allowed is not None:
            pool = value if value else text
            hits = [v for v in allowed if re.search(rf"(?<![A-Za-z]){re.escape(str(v))}(?![A-Za-z])", pool)]
            if value and hits:
                data[field_name] = hits[0]
            elif hits:
                positions = {
                    v: max(m.start() for m in re.finditer(rf"(?<![A-Za-z]){re.escape(str(v))}(?![A-Za-z])", pool))
                    for v in hits
                }
                data[field_name] = max(positions, key=positions.__getitem__)
        elif value is not None:
            data[field_name] = value
        elif loose:
            data[field_name] = " ".join(loose)
        limit = schema.json_schema["properties"][field_name].get("maxLength")
        if limit is not None and isinstance(data.get(field_name), str):
            data[field_name] = data[field_name][:limit]
    return schema.validate_data(data)
