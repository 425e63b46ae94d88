"""The redactor: long keys everywhere, short keys where they stand alone; the trace writer's use of it."""

from __future__ import annotations

import io
from urllib.parse import unquote, urlsplit

import pytest

from moot.trace import redaction
from moot.trace.events import ChatRecord, ErrorEvent, MessageAdded, ModelCall, Stopped
from moot.trace.postgres import PostgresTraceStore
from moot.trace.redaction import REDACTED, Redactor, public_location, trace_url_secrets, warn_short_keys
from moot.trace.writer import TraceWriter

LONG = "sk-planted-SECRET-123456"
IDS = {"run_id": "r", "conversation_id": "c", "scenario_id": "s"}


class ListStore:
    """A store that keeps the events it is given, as the trace writer hands them over."""

    def __init__(self, secrets: tuple[str, ...] = ()) -> None:
        self.events: list = []
        if secrets:
            self.secrets = secrets

    def append(self, event):
        self.events.append(event)
        return event


def test_a_long_key_is_redacted_wherever_it_occurs():
    redactor = Redactor([LONG])
    assert redactor.redact(f"Bearer {LONG}") == f"Bearer {REDACTED}"
    assert redactor.redact(f"token={LONG}789&next") == f"token={REDACTED}789&next"  # inside a longer string too
    assert redactor.redact(f"x{LONG}{LONG}") == f"x{REDACTED}{REDACTED}"
    assert redactor.finds(f"...{LONG}...") and not redactor.finds("sk-planted-SECRET-12345")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("x", REDACTED),
        ("Bearer x", f"Bearer {REDACTED}"),
        ("Bearer x.", f"Bearer {REDACTED}."),
        ('{"key": "x"}', f'{{"key": "{REDACTED}"}}'),
        ("key=x&y=2", f"key={REDACTED}&y=2"),
        ("(x)", f"({REDACTED})"),
        ("é x ü", f"é {REDACTED} ü"),
        ("the extra x-ray of the box", "the extra x-ray of the box"),
        ("xx x_1 x9 éx", "xx x_1 x9 éx"),
        ("X marks the spot", "X marks the spot"),
    ],
)
def test_a_short_key_is_redacted_only_where_it_stands_alone(text, expected):
    redactor = Redactor(["x"])
    assert redactor.redact(text) == expected
    assert redactor.finds(text) is (text != expected)


def test_a_short_key_of_several_letters_keeps_the_words_that_hold_it():
    redactor = Redactor(["abc"])
    text = "abc, abcdef, xabc, abc-def, ABC: abc"
    assert redactor.redact(text) == f"{REDACTED}, abcdef, xabc, abc-def, ABC: {REDACTED}"


def test_where_one_key_holds_another_the_longer_is_redacted_whole():
    redactor = Redactor(["abcdefgh", "abcdefgh-ijkl", "ab"])
    assert redactor.redact("abcdefgh-ijkl abcdefgh ab") == f"{REDACTED} {REDACTED} {REDACTED}"


def test_a_key_is_also_found_percent_encoded_and_without_surrounding_blanks():
    key = "p@ss/w:rd+long"
    redactor = Redactor([f" {key}\n"])
    text = f"postgresql://u:p%40ss%2Fw%3Ard%2Blong@host/db and {key}"
    assert redactor.redact(text) == f"postgresql://u:{REDACTED}@host/db and {REDACTED}"


def test_no_key_changes_nothing():
    for redactor in (Redactor(), Redactor(["", "   "])):
        assert not redactor
        assert redactor.redact("Bearer x") == "Bearer x" and not redactor.finds("anything")
        assert redactor.redact_value({"a": ["b"]}) == {"a": ["b"]}


def test_values_are_redacted_all_the_way_down_and_field_names_kept():
    redactor = Redactor([LONG, "x"])
    value = {"x": [f"Bearer {LONG}", {"note": "x"}, 3, None], "extra": ("x", "box")}
    expected = {"x": [f"Bearer {REDACTED}", {"note": REDACTED}, 3, None], "extra": [REDACTED, "box"]}
    assert redactor.redact_value(value) == expected


def test_the_password_of_a_trace_url_and_pgpassword_are_secrets(monkeypatch):
    monkeypatch.delenv("PGPASSWORD", raising=False)
    assert trace_url_secrets(None) == []
    assert trace_url_secrets("postgresql://moot@db.example/runs") == []
    assert trace_url_secrets("postgresql://moot:s%40cret@db.example:5432/runs") == ["s%40cret", "s@cret"]
    assert trace_url_secrets("postgresql://db.example/runs?user=moot&password=hunter22") == ["hunter22"]
    monkeypatch.setenv("PGPASSWORD", "from-the-environment")
    assert trace_url_secrets("postgresql://moot@db.example/runs") == ["from-the-environment"]


def test_a_short_key_is_warned_about_once_per_process_and_a_long_one_not(monkeypatch):
    monkeypatch.setattr(redaction, "WARNED_KEYS", set())
    stream = io.StringIO()
    keys = {"OPENAI_API_KEY": "x", "ANTHROPIC_API_KEY": LONG, "OPENAI_COMPATIBLE_API_KEY": "none"}
    first = warn_short_keys(keys, stream)
    again = warn_short_keys({"OPENAI_API_KEY": "x"}, stream)
    assert again == [] and stream.getvalue().splitlines() == first
    rest = (
        "it is redacted from what moot writes only where it stands alone, not inside longer words "
        "(keys of 8 characters or more are redacted everywhere)"
    )
    assert first == [
        f"moot: warning: the key in OPENAI_API_KEY is 1 character long: {rest}",
        f"moot: warning: the key in OPENAI_COMPATIBLE_API_KEY is 4 characters long: {rest}",
    ]
    assert warn_short_keys({"OPENAI_API_KEY": "y"}, stream) != []  # another key in the same variable is news


# -- the trace writer ---------------------------------------------------------------------------


def test_the_writer_redacts_short_keys_in_text_and_keeps_the_names_of_the_runs_parts():
    store = ListStore()
    writer = TraceWriter(store, secrets=["x", "user", "failed"])
    call = writer.emit(
        ModelCall(
            **{**IDS, "scenario_id": "x"},
            agent="x",
            role="user",
            model="openai-compatible:x",
            messages=[ChatRecord(role="user", content="You are x. The key is x; the extra box is yours.")],
            params={"seed": 1, "server": "http://x:8000/v1"},
            raw_reply='{"verdict": "NTA", "explanation": "failed? x"}',
            error="HTTP 401: key x failed",
        )
    )
    assert (call.scenario_id, call.agent, call.role, call.model) == ("x", "x", "user", "openai-compatible:x")
    assert call.messages[0].role == "user"  # a fixed value (Literal) is kept
    assert call.messages[0].content == f"You are {REDACTED}. The key is {REDACTED}; the extra box is yours."
    assert call.params == {"seed": 1, "server": f"http://{REDACTED}:8000/v1"}
    assert call.raw_reply == f'{{"verdict": "NTA", "explanation": "{REDACTED}? {REDACTED}"}}'
    assert call.error == f"HTTP 401: key {REDACTED} {REDACTED}"
    stop = writer.emit(Stopped(**IDS, status="failed", reason="failed with key x", rounds=1))
    assert stop.status == "failed" and stop.reason == f"{REDACTED} with key {REDACTED}"
    assert store.events == [call, stop]


def test_the_writer_redacts_long_keys_inside_every_text_and_parsed_reply():
    writer = TraceWriter(ListStore(), secrets=[LONG])
    said = MessageAdded(
        **IDS, agent="alice", role="debater", position=0, content=f"see {LONG}!", parsed={"explanation": f"k={LONG}"}
    )
    message = writer.emit(said)
    assert message.content == f"see {REDACTED}!" and message.parsed == {"explanation": f"k={REDACTED}"}
    clean = MessageAdded(**IDS, agent="alice", role="debater", position=1, content="nothing to hide")
    assert writer.emit(clean) is clean  # an event that holds no key is stored as it is


def test_the_writers_listeners_hear_each_event_as_stored_redacted():
    heard: list = []
    store = ListStore()
    writer = TraceWriter(store, secrets=[LONG], listeners=[heard.append])
    stored = writer.emit(ErrorEvent(**IDS, kind="model_error", message=f"refused key {LONG}"))
    assert heard == [stored] == store.events and stored.message == f"refused key {REDACTED}"


def test_the_writer_also_redacts_the_password_its_store_holds():
    writer = TraceWriter(ListStore(secrets=("hunter22",)), secrets=["x"])
    event = writer.emit(ErrorEvent(**IDS, kind="internal", message="connection with hunter22 failed: x"))
    assert event.message == f"connection with {REDACTED} failed: {REDACTED}"


def test_a_postgresql_trace_keeps_its_password_out_of_the_events(postgres_url, monkeypatch):
    password = urlsplit(postgres_url).password
    if password:
        password = unquote(password)
    else:  # a server that trusts local connections: the password of the environment is the secret
        password = "planted-pg-password"
        monkeypatch.setenv("PGPASSWORD", password)
    store = PostgresTraceStore(postgres_url, IDS["run_id"])
    try:
        assert password in store.secrets
        message = f"OperationalError: password={password} refused"
        TraceWriter(store).emit(ErrorEvent(**IDS, kind="internal", message=message))
        (stored,) = list(store.events())
    finally:
        store.close()
    assert stored.message == f"OperationalError: password={REDACTED} refused"


@pytest.mark.parametrize(
    ("location", "public"),
    [
        (None, None),
        ("postgresql://db.example:5432/traces", "postgresql://db.example:5432/traces"),
        ("postgresql://moot@db.example/traces", "postgresql://moot@db.example/traces"),
        ("postgresql://moot:pa%40ss:word@db.example:5433/traces", "postgresql://moot@db.example:5433/traces"),
        ("postgresql://moot:secret@db.example:notaport/traces", "postgresql://moot@db.example:notaport/traces"),
        (
            "postgres://db.example/traces?sslmode=require&password=secret",
            "postgres://db.example/traces?sslmode=require",
        ),
    ],
)
def test_the_public_location_has_no_password(location: str | None, public: str | None) -> None:
    assert public_location(location) == public
