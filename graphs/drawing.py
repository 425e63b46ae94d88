"""A compiled protocol drawn: its round graph in steps, its judges, the loop with its stop rule, and who sees what.

One description of the protocol (`speaking_order`, `visibility_table`, the stop rule's `describe`)
is drawn four ways: plain text (`protocol_text`), mermaid (`protocol_mermaid`), Graphviz dot
(`protocol_dot`) and a self-contained SVG made here (`protocol_svg`: no script, no fonts or
styles fetched, so a page shows it offline).

A round is drawn as steps: the agents of one step have no speaker before them that is not in an
earlier step, and speak in parallel (none sees another's answer of the round); an agent in a
later step speaks after the speakers its round-graph edges come from. Judges decide after every
speaker of the round.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from textwrap import wrap

import networkx as nx

from moot.graphs.compiler import CompiledProtocol
from moot.graphs.turns import RoundPlan
from moot.protocols.spec import ROUND_END, ROUND_START, CustomTurns

HISTORY_WORDS = {"full": "every earlier round", "last_round": "the last round", "none": "no earlier round"}
"""How each `history` setting reads in a drawing."""


@dataclass(frozen=True)
class VisibilityRow:
    """What one agent is shown: the roles whose messages it sees, and which earlier rounds of them."""

    agent: str
    role: str
    kind: str
    """`speaker` or `judge`."""
    sees: list[str]
    """Names of the roles whose messages the agent is shown (every speaker role when its role names none)."""
    history: str
    """Which earlier rounds it is shown: `full`, `last_round` or `none`."""


def speaking_order(compiled: CompiledProtocol) -> list[list[str]]:
    """The speakers of a round (in the spec's default order) as ordered steps; the agents of one step speak in
    parallel. Judges are not in it: they decide after the last step (`compiled.plan().judges`)."""
    plan = compiled.plan()
    step = _steps(plan)
    steps: list[list[str]] = [[] for _ in range(max((step[name] for name in plan.order), default=0))]
    for name in plan.order:
        steps[step[name] - 1].append(name)
    return steps


def speaker_edges(compiled: CompiledProtocol) -> list[tuple[str, str]]:
    """The pairs `(before, after)` of speakers where one speaks right after the other in the round graph."""
    plan = compiled.plan()
    speakers = set(plan.order)
    rank = {name: index for index, name in enumerate(plan.order)}
    edges = [(a, b) for a, b in plan.graph.edges if a in speakers and b in speakers]
    return sorted(edges, key=lambda edge: (rank[edge[0]], rank[edge[1]]))


def visibility_table(compiled: CompiledProtocol) -> list[VisibilityRow]:
    """One row per agent of the protocol (speakers, then judges, in the spec's order): what it is shown."""
    spec = compiled.spec
    speaker_roles = sorted({agent.role for agent in spec.speakers()}, key=list(spec.roles).index)
    plan = compiled.plan()
    rows = []
    for agent in [*spec.speakers(), *spec.judges()]:
        if agent.name not in plan.graph:
            continue  # a speaker in no edge of a custom round graph never speaks
        role = spec.roles[agent.role]
        sees = list(role.sees) if role.sees is not None else list(speaker_roles)
        rows.append(VisibilityRow(agent.name, agent.role, role.kind, sees, role.history))
    return rows


def _steps(plan: RoundPlan) -> dict[str, int]:
    """The step of every node of the round graph: the length of the longest path to it from the round's start."""
    step = {ROUND_START: 0}
    for node in nx.topological_sort(plan.graph):
        if node != ROUND_START:
            step[node] = max((step[p] + 1 for p in plan.graph.predecessors(node) if p in step), default=1)
    return step


@dataclass(frozen=True)
class _Drawing:
    """What every format draws: the protocol's headline, its steps and judges, its loop, and who sees what."""

    title: str
    steps: list[list[str]]
    judges: list[str]
    rows: dict[str, VisibilityRow]
    this_round: dict[str, str]
    """For each agent, whose messages of the same round it is shown."""
    after: dict[str, list[str]]
    """For each speaker, the speakers it speaks right after."""
    edges: list[tuple[str, str]]
    """Edges of the round graph, with `start` and `end` (the end leads to the stop check)."""
    stop: str
    """The stop rule in words (the round limit included)."""
    reasons: list[str]
    per_message: set[str]
    """Judges that decide about each message alone."""

    def label_lines(self, agent: str) -> list[str]:
        """The lines of an agent's box: name, role and kind, what it sees."""
        row = self.rows[agent]
        kind = "judge of each message" if agent in self.per_message else row.kind
        return [agent, f"{row.role} · {kind}", f"sees {', '.join(row.sees) or 'nothing'} · {self.history(agent)}"]

    def history(self, agent: str) -> str:
        """Which earlier rounds an agent is shown, in words."""
        return "one message alone" if agent in self.per_message else _history(self.rows[agent].history)


def _history(history: str) -> str:
    return {"full": "full history", "last_round": "last round", "none": "no history"}[history]


def _drawing(compiled: CompiledProtocol) -> _Drawing:
    spec = compiled.spec
    plan = compiled.plan()
    rows = {row.agent: row for row in visibility_table(compiled)}
    this_round: dict[str, str] = {}
    for name in plan.order:
        earlier = [n for n in plan.order if n in plan.earlier(name) and rows[n].role in rows[name].sees]
        this_round[name] = ", ".join(earlier) if earlier else "nobody"
    per_message = {j for j in plan.judges if spec.roles[spec.agent(j).role].per == "message"}
    for judge in plan.judges:
        seen = [n for n in plan.order if rows[n].role in rows[judge].sees]
        this_round[judge] = ("each message of " if judge in per_message else "") + (", ".join(seen) or "nobody")
    turns = "custom round graph" if isinstance(spec.turns, CustomTurns) else spec.turns.replace("_", "-")
    title = f"{spec.name}: {len(rows)} agents, {turns}, up to {spec.rounds} rounds"
    return _Drawing(
        title=title,
        steps=speaking_order(compiled),
        judges=list(plan.judges),
        rows=rows,
        this_round=this_round,
        after={name: plan.predecessors(name) for name in plan.order},
        edges=list(plan.graph.edges),
        stop=compiled.rule.describe(),
        reasons=compiled.rule.kinds(),
        per_message=per_message,
    )


# --- text ------------------------------------------------------------------------------------------


def protocol_text(compiled: CompiledProtocol) -> str:
    """The protocol as plain text: each round's steps, the judges, the loop and stop rule, and a visibility table."""
    drawing = _drawing(compiled)
    lines = [drawing.title, "", "each round:"]
    for index, step in enumerate(drawing.steps, 1):
        together = " (in parallel)" if len(step) > 1 else ""
        after = sorted(
            {p for name in step for p in drawing.after[name]}, key=[n for s in drawing.steps for n in s].index
        )
        follows = f", after {', '.join(after)}" if after else ""
        lines.append(f"  step {index}: {', '.join(step)}{together}{follows}")
    if drawing.judges:
        lines.append(f"  then the judges: {', '.join(drawing.judges)} (after every speaker)")
    lines += [
        f"then: stop if {drawing.stop}; else the next round",
        f"stop reasons: {' | '.join(drawing.reasons)}",
        "",
        "visibility (who is shown which messages):",
    ]
    header = ["agent", "kind", "role", "sees roles", "earlier rounds", "this round"]
    table = [header] + [
        [
            row.agent,
            row.kind,
            row.role,
            ", ".join(row.sees) or "nothing",
            drawing.history(name),
            drawing.this_round[name],
        ]
        for name, row in drawing.rows.items()
    ]
    widths = [max(len(cells[i]) for cells in table) for i in range(len(header))]
    lines += [
        "  " + "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)).rstrip()
        for cells in table
    ]
    return "\n".join(lines) + "\n"


# --- mermaid ---------------------------------------------------------------------------------------


def _mermaid_text(text: str) -> str:
    return escape(text, quote=True).replace("&quot;", "#quot;")


def protocol_mermaid(compiled: CompiledProtocol) -> str:
    """The protocol as a mermaid flowchart: the round's agents by step, judges, and the loop with its stop rule."""
    drawing = _drawing(compiled)
    ids = {ROUND_START: "round_start", ROUND_END: "stop_check"}
    lines = ["flowchart TD", '  round_start(["round start"])']
    for index, step in enumerate(drawing.steps, 1):
        if len(step) > 1:
            lines.append(f'  subgraph step_{index}["step {index}: in parallel"]')
        for name in step:
            ids[name] = f"agent_{name}"
            label = "<br/>".join(_mermaid_text(line) for line in drawing.label_lines(name))
            lines.append(f'  {"  " if len(step) > 1 else ""}agent_{name}["{label}"]')
        if len(step) > 1:
            lines.append("  end")
    for judge in drawing.judges:
        ids[judge] = f"agent_{judge}"
        label = "<br/>".join(_mermaid_text(line) for line in drawing.label_lines(judge))
        lines.append(f'  agent_{judge}{{{{"{label}"}}}}')
    lines.append(f'  stop_check{{"stop if {_mermaid_text(drawing.stop)}"}}')
    lines.append('  finish(["end"])')
    lines += [f"  {ids[a]} --> {ids[b]}" for a, b in drawing.edges]
    lines += ['  stop_check -- "no: next round" --> round_start', '  stop_check -- "yes" --> finish']
    return "\n".join(lines) + "\n"


# --- dot -------------------------------------------------------------------------------------------


def _dot_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _dot_label(lines: list[str]) -> str:
    return "\\n".join(_dot_text(line) for line in lines)


def protocol_dot(compiled: CompiledProtocol) -> str:
    """The protocol as a Graphviz dot digraph: the round's agents by step, judges, and the loop with its stop rule."""
    drawing = _drawing(compiled)
    ids = {ROUND_START: "round_start", ROUND_END: "stop_check"}
    lines = [
        f'digraph "{_dot_text(compiled.spec.name)}" {{',
        "  rankdir=TB;",
        '  node [shape=box, style="rounded", fontname="Helvetica"];',
        '  round_start [label="round start", shape=oval];',
    ]
    for index, step in enumerate(drawing.steps, 1):
        lines.append(f'  subgraph cluster_step_{index} {{ label="step {index}"; style=dashed;')
        for name in step:
            ids[name] = f"agent_{name}"
            lines.append(f'    agent_{name} [label="{_dot_label(drawing.label_lines(name))}"];')
        lines.append("  }")
    for judge in drawing.judges:
        ids[judge] = f"agent_{judge}"
        lines.append(f'  agent_{judge} [label="{_dot_label(drawing.label_lines(judge))}", shape=hexagon];')
    lines.append(f'  stop_check [label="stop if {_dot_text(drawing.stop)}", shape=diamond];')
    lines.append('  finish [label="end", shape=oval];')
    lines += [f"  {ids[a]} -> {ids[b]};" for a, b in drawing.edges]
    lines += [
        '  stop_check -> round_start [label="no: next round", style=dashed];',
        '  stop_check -> finish [label="yes"];',
    ]
    return "\n".join(lines + ["}"]) + "\n"


# --- svg -------------------------------------------------------------------------------------------

_BOX_W, _BOX_H, _GAP_X, _GAP_Y, _MARGIN, _LANE = 210, 62, 28, 46, 20, 150
_STOP_W = 320
_LINE = 15
_STOP_WRAP = 44


@dataclass(frozen=True)
class _Box:
    x: float
    y: float
    w: float
    h: float

    @property
    def top(self) -> tuple[float, float]:
        return self.x + self.w / 2, self.y

    @property
    def bottom(self) -> tuple[float, float]:
        return self.x + self.w / 2, self.y + self.h


def protocol_svg(compiled: CompiledProtocol) -> str:
    """The protocol as a self-contained SVG: layers of the round graph top to bottom (agents of one step side by
    side), judges, the stop check, and the loop back to the round's start. Made here: no script, nothing fetched."""
    drawing = _drawing(compiled)
    stop_lines = wrap(f"stop if {drawing.stop}", _STOP_WRAP) or ["stop"]
    layers: list[list[str]] = [[ROUND_START], *drawing.steps]
    if drawing.judges:
        layers.append(drawing.judges)
    layers.append([ROUND_END])
    widest = max(len(layer) for layer in layers)
    content_w = max(widest * _BOX_W + (widest - 1) * _GAP_X, _STOP_W)
    width = _MARGIN * 2 + content_w + _LANE
    boxes: dict[str, _Box] = {}
    y = _MARGIN + 24.0
    for layer in layers:
        heights = [_node_height(name, stop_lines) for name in layer]
        row_h = max(heights)
        box_w = _STOP_W if layer == [ROUND_END] else _BOX_W
        row_w = len(layer) * box_w + (len(layer) - 1) * _GAP_X
        x = _MARGIN + (content_w - row_w) / 2
        for name, h in zip(layer, heights, strict=True):
            boxes[name] = _Box(x, y + (row_h - h) / 2, box_w, h)
            x += box_w + _GAP_X
        y += row_h + _GAP_Y
    finish = _Box(_MARGIN + (content_w - 120) / 2, y, 120, 30)
    height = y + finish.h + _MARGIN
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}"'
        f' height="{height:.0f}" style="max-width: 100%; height: auto" role="img" aria-label="{escape(drawing.title)}"'
        ' class="protocol-drawing">',
        "<defs><marker id='arrow' viewBox='0 0 10 10' refX='9' refY='5' markerWidth='7' markerHeight='7'"
        " orient='auto-start-reverse'><path d='M0,0 L10,5 L0,10 z' fill='#555'/></marker></defs>",
        '<g font-family="Helvetica, Arial, sans-serif" font-size="12" fill="#222">',
        f'<text x="{_MARGIN}" y="{_MARGIN + 8}" font-size="14" font-weight="bold">{escape(drawing.title)}</text>',
    ]
    for a, b in drawing.edges:
        (x1, y1), (x2, y2) = boxes[a].bottom, boxes[b].top
        parts.append(_line(x1, y1, x2, y2, "edge"))
    stop_box = boxes[ROUND_END]
    parts.append(_line(*stop_box.bottom, *finish.top, "edge"))
    parts.append(_text(finish.top[0] + 8, (stop_box.bottom[1] + finish.top[1]) / 2 + 4, "yes", anchor="start"))
    start_box = boxes[ROUND_START]
    lane_x = _MARGIN + content_w + 30
    sx, sy = stop_box.x + stop_box.w, stop_box.y + stop_box.h / 2
    tx, ty = start_box.x + start_box.w, start_box.y + start_box.h / 2
    parts.append(
        f'<path class="loop" d="M{sx:.1f},{sy:.1f} H{lane_x:.1f} V{ty:.1f} H{tx:.1f}" fill="none" stroke="#555"'
        ' stroke-dasharray="5,4" marker-end="url(#arrow)"/>'
    )
    parts.append(_text(lane_x + 6, (sy + ty) / 2, "no: next round", anchor="start"))
    for name, box in boxes.items():
        parts.append(_node(name, box, drawing, stop_lines))
    parts.append(
        f'<rect x="{finish.x:.1f}" y="{finish.y:.1f}" width="{finish.w}" height="{finish.h}" rx="15" fill="#eee"'
        ' stroke="#555"/>'
    )
    parts.append(_text(*_center(finish), "end"))
    parts += ["</g>", "</svg>"]
    return "\n".join(parts) + "\n"


def _node_height(name: str, stop_lines: list[str]) -> float:
    if name == ROUND_START:
        return 30
    if name == ROUND_END:
        return 16 + _LINE * len(stop_lines)
    return _BOX_H


def _center(box: _Box) -> tuple[float, float]:
    return box.x + box.w / 2, box.y + box.h / 2 + 4


def _line(x1: float, y1: float, x2: float, y2: float, css: str) -> str:
    return (
        f'<line class="{css}" x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="#555"'
        ' marker-end="url(#arrow)"/>'
    )


def _text(x: float, y: float, text: str, anchor: str = "middle", extra: str = "") -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}"{extra}>{escape(text)}</text>'


def _node(name: str, box: _Box, drawing: _Drawing, stop_lines: list[str]) -> str:
    rect = f'x="{box.x:.1f}" y="{box.y:.1f}" width="{box.w}" height="{box.h:.0f}"'
    if name == ROUND_START:
        return f'<rect {rect} rx="15" fill="#eee" stroke="#555"/>' + _text(*_center(box), "round start")
    cx = box.x + box.w / 2
    if name == ROUND_END:
        texts = [_text(cx, box.y + 12 + _LINE * (i + 0.5), line) for i, line in enumerate(stop_lines)]
        return f'<rect class="stop" {rect} rx="4" fill="#fff4dd" stroke="#b07b00"/>' + "".join(texts)
    kind = drawing.rows[name].kind
    fill, stroke = ("#e6f0ff", "#3a6fb0") if kind == "speaker" else ("#f3e8ff", "#7a4bb0")
    name_line, *rest = drawing.label_lines(name)
    texts = [_text(cx, box.y + 18, name_line, extra=' font-weight="bold"')]
    texts += [
        _text(cx, box.y + 18 + _LINE * (i + 1), _clip(line), extra=' font-size="11"') for i, line in enumerate(rest)
    ]
    title = escape(" — ".join(drawing.label_lines(name)))
    return (
        f'<g class="agent {kind}" data-agent="{escape(name)}"><title>{title}</title>'
        f'<rect {rect} rx="6" fill="{fill}" stroke="{stroke}"/>' + "".join(texts) + "</g>"
    )


def _clip(line: str, limit: int = 34) -> str:
    return line if len(line) <= limit else line[: limit - 1] + "…"
