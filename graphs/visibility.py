"""What an agent may see on its turn. The graph state holds everything; this picks the view."""

from __future__ import annotations

from moot.graphs.state import TranscriptMessage
from moot.protocols.spec import RoleSpec


def visible_messages(
    messages: list[TranscriptMessage],
    *,
    agent: str,
    round: int,
    role: RoleSpec,
    speaker_roles: set[str],
    earlier_this_round: set[str],
) -> list[TranscriptMessage]:
    """The messages `agent` is shown in `round`.

    Earlier rounds are shown as the role's `history` allows; of the current round only the
    messages of agents that come before this one in the round graph. Only messages of the
    roles the role `sees` are shown (every speaker role by default).
    """
    allowed_roles = set(role.sees) if role.sees is not None else speaker_roles
    view = []
    for message in messages:
        if message.role not in allowed_roles:
            continue
        this_round = message.round == round and message.agent in earlier_this_round
        earlier_round = message.round < round and (
            role.history == "full" or (role.history == "last_round" and message.round == round - 1)
        )
        if this_round or earlier_round:
            view.append(message)
    return view
