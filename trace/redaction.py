"""One redactor for everything moot writes: no key of a run reaches a file or a terminal line.

A server may quote the credentials it was sent in a reply or an error body, so every place that
writes a model's or a server's text (the trace writer, and through it error events, exports and
the report; the response cache, which leaves out a reply holding a key) passes it through a
`Redactor` built from the run's keys: its providers' API keys (`ModelPool.secrets`) and the
password of a PostgreSQL trace (`trace_url_secrets`).

A key of `FULL_MATCH_LENGTH` characters or more is replaced wherever it occurs, inside longer
strings too. A shorter one (`--api-key x` is common with local servers) is replaced only where it
stands as a token, bounded by characters that cannot continue a key (anything but letters, digits,
`_` and `-`): the `x` of "Bearer x." is replaced, the x of "extra" or "x-ray" is not, so that
redacting a one-letter key does not blank letters inside words. `warn_short_keys` says so on
stderr, once per key.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterable, Mapping
from typing import Any, TextIO
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

REDACTED = "[redacted]"
"""What a key is replaced with."""

FULL_MATCH_LENGTH = 8
"""Keys at least this long are redacted everywhere; shorter ones only where they stand alone."""

_KEY_CHARACTER = r"[\w-]"
"""A character that may continue a key: a letter or digit (any script), `_` or `-`."""

WARNED_KEYS: set[tuple[str, str]] = set()
"""(variable, key) pairs already warned about in this process (a run may build several model pools)."""


def _variants(secret: str) -> set[str]:
    """The forms a key takes in text: as it is, without surrounding blanks, and percent-encoded (in a URL)."""
    return {form for form in (secret, secret.strip(), quote(secret.strip(), safe="")) if form.strip()}


def _pattern(secret: str) -> str:
    """The regular expression of one key: anywhere when long, as a token when short."""
    escaped = re.escape(secret)
    if len(secret) >= FULL_MATCH_LENGTH:
        return escaped
    # A boundary is needed only on a side where the key's own character could run on into a word.
    before = rf"(?<!{_KEY_CHARACTER})" if re.match(_KEY_CHARACTER, secret[0]) else ""
    after = rf"(?!{_KEY_CHARACTER})" if re.match(_KEY_CHARACTER, secret[-1]) else ""
    return before + escaped + after


class Redactor:
    """Replaces a run's keys in text with `[redacted]`; a redactor of no keys changes nothing."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        forms = {form for secret in secrets if secret for form in _variants(secret)}
        # Longest first: where one key contains another, the whole of the longer one is replaced.
        self.secrets: tuple[str, ...] = tuple(sorted(forms, key=lambda form: (-len(form), form)))
        """Every form of every key looked for, longest first."""
        self._regex = re.compile("|".join(_pattern(form) for form in self.secrets)) if self.secrets else None

    def __bool__(self) -> bool:
        return self._regex is not None

    def redact(self, text: str) -> str:
        """The text with every key replaced."""
        return self._regex.sub(REDACTED, text) if self._regex is not None else text

    def finds(self, text: str) -> bool:
        """Whether the text holds a key (where `redact` would replace one)."""
        return self._regex is not None and self._regex.search(text) is not None

    def redact_value(self, value: Any) -> Any:
        """A JSON-like value with every string in it redacted (dictionary keys are kept: they name fields)."""
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, (list, tuple)):
            return [self.redact_value(item) for item in value]
        if isinstance(value, dict):
            return {key: self.redact_value(item) for key, item in value.items()}
        return value


def trace_url_secrets(location: str | None) -> list[str]:
    """The password of a PostgreSQL trace: the URL's (user info or `password=` parameter), and `$PGPASSWORD`."""
    if location is None:
        return []
    parts = urlsplit(location)
    found = []
    if "@" in parts.netloc:
        userinfo = parts.netloc.rsplit("@", 1)[0]
        if ":" in userinfo:
            found.append(userinfo.split(":", 1)[1])
    found += [value for key, value in parse_qsl(parts.query) if key == "password"]
    found += [unquote(secret) for secret in found]
    if os.environ.get("PGPASSWORD"):
        found.append(os.environ["PGPASSWORD"])
    return [secret for secret in dict.fromkeys(found) if secret]


def warn_short_keys(keys: Mapping[str, str], stream: TextIO | None = None) -> list[str]:
    """Warn, one line on stderr per key, about keys under `FULL_MATCH_LENGTH` characters; return the lines written.

    `keys` maps the environment variable holding each key to the key. A key is warned about once
    per process.
    """
    lines = []
    for variable, key in keys.items():
        if not key or len(key) >= FULL_MATCH_LENGTH or (variable, key) in WARNED_KEYS:
            continue
        WARNED_KEYS.add((variable, key))
        characters = f"{len(key)} character{'s' if len(key) != 1 else ''}"
        lines.append(
            f"moot: warning: the key in {variable} is {characters} long: it is redacted from what moot writes "
            "only where it stands alone, not inside longer words "
            f"(keys of {FULL_MATCH_LENGTH} characters or more are redacted everywhere)"
        )
    for line in lines:
        print(line, file=stream or sys.stderr, flush=True)
    return lines


def public_location(location: str | None) -> str | None:
    """The location with any password removed (what run.json records and errors show).

    Works on malformed URLs too (a bad port, say), so that an error about one never shows its password.
    """
    if location is None:
        return None
    parts = urlsplit(location)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, hostport = netloc.rsplit("@", 1)
        netloc = f"{userinfo.split(':', 1)[0]}@{hostport}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(key == "password" for key, _ in pairs):
            query = urlencode([(key, value) for key, value in pairs if key != "password"])
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
