"""A deployment report as one self-contained HTML page: inline CSS and SVG, no script, no fetch.

Every string from the report (hook reasons above all: the hooks' own words) is escaped; the page's
Content-Security-Policy forbids scripts and every outside resource, so a report opens offline and
cannot run anything even if a string slipped through.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from html import escape
from operator import attrgetter

from ecs_bg.hooks.ecs import DeploymentStatus, HookStatus, LifecycleHookStatus, WorkStage
from ecs_bg.report.model import Counts, DeploymentReport, FinalState, HookMark, PauseMark, StageSpan

WIDTH = 1200  # the SVGs' coordinate width; they scale to the page
LEFT, RIGHT = 250, 30  # room for row labels on the left, for the last tick label on the right
ROW, ROW_GAP = 22, 6
REVISION_COLORS = {"blue": "#2563eb", "green": "#16a34a"}
OTHER_COLORS = ("#7c3aed", "#ea580c", "#0891b2", "#db2777")  # revisions named otherwise, in order
UNATTRIBUTED = "#6b7280"  # errors no revision answered: the load balancer's own, connection failures
DECISION_COLORS: dict[str, str] = {
    HookStatus.SUCCEEDED: "#16a34a",
    HookStatus.IN_PROGRESS: "#d97706",
    HookStatus.FAILED: "#dc2626",
    "ERROR": "#7f1d1d",
    "INVALID": "#7f1d1d",
    LifecycleHookStatus.TIMED_OUT: "#7f1d1d",
}
PENDING = "#9ca3af"
STATUS_COLORS: dict[str, str] = {
    DeploymentStatus.SUCCESSFUL: "#15803d",
    DeploymentStatus.IN_PROGRESS: "#0369a1",
    DeploymentStatus.ROLLBACK_SUCCESSFUL: "#b45309",
}
STAGE_COLOR, BAKE_COLOR, PAUSE_COLOR = "#64748b", "#a78bfa", "#f59e0b"

CSS = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: #1f2937; background: #f8fafc; margin: 0; }
main { max-width: 1240px; margin: 0 auto; padding: 24px 20px 40px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 16px; margin: 28px 0 8px; }
.subtitle { color: #4b5563; margin: 0 0 14px; }
.status { display: inline-block; color: #fff; font-weight: 600; padding: 3px 10px; border-radius: 4px; }
.facts { display: flex; flex-wrap: wrap; gap: 8px 28px; margin: 12px 0 0; padding: 0; list-style: none; }
.facts b { font-variant-numeric: tabular-nums; }
.notes { margin: 14px 0 0; padding: 8px 14px 8px 30px; background: #f1f5f9; color: #334155; }
.rollback { margin: 14px 0 0; padding: 10px 14px; border-left: 4px solid #b45309; background: #fffbeb; }
.problems { margin: 6px 0 0; padding: 8px 14px 8px 30px; background: #fef2f2; color: #7f1d1d; }
td.yes { color: #15803d; font-weight: 600; } td.no { color: #b91c1c; font-weight: 600; }
section { background: #fff; border: 1px solid #e5e7eb; border-radius: 6px; padding: 4px 16px 12px;
  margin: 16px 0; }
svg { display: block; width: 100%; height: auto; }
svg text { font: 12px system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; fill: #374151; }
svg .axis-title { fill: #6b7280; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 18px; margin: 0 0 6px; padding: 0; list-style: none;
  color: #4b5563; font-size: 13px; }
.swatch { display: inline-block; width: 12px; height: 12px; border-radius: 2px; margin-right: 5px;
  vertical-align: -1px; }
.swatch.mark { border-radius: 50%; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid #e5e7eb; vertical-align: top; }
th { color: #4b5563; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.decision { font-weight: 600; }
td.reason { white-space: pre-wrap; word-break: break-word; }
td.reason pre { white-space: pre-wrap; margin: 4px 0 0; font-size: 12px; background: #f9fafb; padding: 6px; }
td.reason summary { color: #4b5563; cursor: pointer; }
"""


def render(
    report: DeploymentReport, *, title: str = "", time_label: str = "seconds since the deployment started"
) -> str:
    """The page for ``report``; ``time_label`` names the clock (e.g. simulated seconds)."""
    axis = _Axis(_end_time(report), time_label)
    status_color = STATUS_COLORS.get(report.status, "#b91c1c")
    ended = max((s.end if s.end is not None else s.start for s in report.stages), default=0.0)
    facts = [("duration", f"{_seconds(ended)} s"), ("stages", str(len(report.stages)))]
    facts.append(("hook invocations", str(len(report.invocations))))
    if report.production is not None:
        facts.append(("production requests", str(report.production.requests)))
        facts.append(("failed", str(report.production.errors)))
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        # Nothing from outside, and no script at all: the page opens offline and runs nothing.
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; img-src data:\">",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<link rel="icon" href="data:,">',  # else the browser asks for /favicon.ico
        f"<title>{escape(f'Deployment report: {report.status}')}</title>",
        f"<style>{CSS}</style></head><body><main>",
        "<header><h1>ECS blue/green deployment "
        f'<span class="status" style="background:{status_color}">{escape(report.status)}</span></h1>',
        f'<p class="subtitle">{escape(title)}</p>' if title else "",
        '<ul class="facts">'
        + "".join(f"<li>{escape(name)}: <b>{escape(value)}</b></li>" for name, value in facts)
        + "</ul>",
        f'<p class="rollback"><b>Rollback reason:</b> {escape(report.rollback_reason)}</p>'
        if report.rollback_reason
        else "",
        # statusReason: said when it adds to the rollback reason (why the rollback failed, say).
        f'<p class="rollback status-reason"><b>Status reason:</b> {escape(report.status_reason)}</p>'
        if report.status_reason and report.status_reason != report.rollback_reason
        else "",
        _list("problems", "Rollback carried on past:", report.rollback_problems),
        '<ul class="notes">' + "".join(f"<li>{escape(note)}</li>" for note in report.notes) + "</ul>"
        if report.notes
        else "",
        "</header>",
        _timeline(report, axis),
        _weights(report, axis),
        _traffic(report, axis),
        _final_state(report.final_state),
        _invocation_table(report.invocations),
        _pause_table(report.pauses),
        _stage_table(report.stages),
        _bake_table(report),
        _alarms(report),
        _replacement_table(report),
        "</main></body></html>",
    ]
    return "\n".join(part for part in parts if part)


# -- the time axis shared by every chart ---------------------------------------------------------------


def _end_time(report: DeploymentReport) -> float:
    times = [0.0]
    times += [s.end if s.end is not None else s.start for s in report.stages]
    times += [t for i in report.invocations for t in (i.start, i.end) if t is not None]
    times += [w.at for w in report.weights] + [t.end for t in report.intervals]
    times += [t for p in report.pauses for t in (p.start, p.end) if t is not None]
    return float(max(times))


def _nice_step(span: float, ticks: int) -> float:
    """1, 2 or 5 times a power of ten: about ``ticks`` steps across ``span``."""
    raw = max(span, 1e-9) / ticks
    magnitude = 10.0 ** math.floor(math.log10(raw))
    return next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)


@dataclass(frozen=True)
class _Axis:
    last: float
    label: str

    @property
    def step(self) -> float:
        return _nice_step(self.last, 10)

    @property
    def end(self) -> float:
        return max(math.ceil(self.last / self.step), 1) * self.step

    def x(self, t: float) -> float:
        return LEFT + t / self.end * (WIDTH - LEFT - RIGHT)

    def draw(self, top: float, bottom: float) -> str:
        """Gridlines from ``top`` to ``bottom``, tick labels under them, and the axis title."""
        out = []
        for index in range(round(self.end / self.step) + 1):
            x = self.x(index * self.step)
            out.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{bottom}" stroke="#e5e7eb"/>')
            out.append(_text(x, bottom + 15, _seconds(index * self.step), "middle"))
        middle = (LEFT + WIDTH - RIGHT) / 2
        out.append(_text(middle, bottom + 33, self.label, "middle", ' class="axis-title"'))
        return "".join(out)


AXIS_HEIGHT = 42  # tick labels and the axis title under a chart


def _text(x: float, y: float, content: str, anchor: str = "end", extra: str = "") -> str:
    """An SVG label; ``content`` is escaped here."""
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}"{extra}>{escape(content)}</text>'


def _panel(top: float, height: float, label: str, ticks: Iterable[tuple[float, str]]) -> str:
    """A chart panel's name on the left, and its value gridlines with their labels."""
    out = [_text(LEFT - 60, top + height / 2 + 4, label, extra=' font-weight="600"')]
    for y, tick in ticks:
        out.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" stroke="#e5e7eb"/>')
        out.append(_text(LEFT - 6, y + 4, tick, extra=' font-size="11"'))
    return "".join(out)


def _seconds(t: float) -> str:
    return f"{t:.0f}" if abs(t) >= 10 or t == int(t) else f"{t:.1f}"


def _svg(height: float, body: Iterable[str], label: str) -> str:
    return (
        f'<svg viewBox="0 0 {WIDTH} {height:.0f}" role="img" aria-label="{escape(label)}" '
        f'xmlns="http://www.w3.org/2000/svg">{"".join(body)}</svg>'
    )


def _legend(items: Iterable[tuple[str, str]], mark: bool = False, note: str = "") -> str:
    cls = "swatch mark" if mark else "swatch"
    entries = [f'<li><span class="{cls}" style="background:{c}"></span>{escape(n)}</li>' for n, c in items]
    entries += [f"<li>{escape(note)}</li>"] if note else []
    return f'<ul class="legend">{"".join(entries)}</ul>'


def _revision_color(revisions: Sequence[str]) -> Callable[[str], str]:
    others = iter(OTHER_COLORS * (len(revisions) // len(OTHER_COLORS) + 1))
    colors = {name: REVISION_COLORS.get(name) or next(others) for name in revisions}
    return lambda name: colors.get(name, UNATTRIBUTED)


# -- stages and hooks --------------------------------------------------------------------------------------


def _stage_name(stage: str, step: int | None) -> str:
    return f"{stage} · step {step}" if step is not None else stage


def _row_of(mark: HookMark, stages: Sequence[StageSpan], rollback_row: int) -> int:
    """The row of the stage (and step) the hook ran at: its last record starting no later."""
    if mark.rollback:
        return rollback_row
    rows = [
        index
        for index, span in enumerate(stages)
        if span.stage == mark.stage and span.step == mark.step and span.start <= (mark.start or 0) + 1e-6
    ]
    return rows[-1] if rows else rollback_row


def _pause_row(pause: PauseMark, stages: Sequence[StageSpan]) -> int | None:
    """The row of the stage (and step) a PAUSE hook held: its last record starting no later."""
    rows = [
        index
        for index, span in enumerate(stages)
        if span.stage == pause.stage and span.step == pause.step and span.start <= pause.start + 1e-6
    ]
    return rows[-1] if rows else None


def _timeline(report: DeploymentReport, axis: _Axis) -> str:
    stages = report.stages
    rollback_row = len(stages)
    has_rollback_row = any(_row_of(m, stages, rollback_row) == rollback_row for m in report.invocations)
    rows = len(stages) + has_rollback_row
    top = 8
    bottom = top + rows * (ROW + ROW_GAP)
    body = [axis.draw(top, bottom)]

    def y(row: int) -> float:
        return top + row * (ROW + ROW_GAP)

    for row, span in enumerate(stages):
        body.append(_text(LEFT - 10, y(row) + 15, _stage_name(span.stage, span.step)))
        end = span.end if span.end is not None else axis.last
        bake = span.start if span.stage == WorkStage.BAKE_TIME else span.bake_start
        for start, stop, color in (
            (span.start, bake if bake is not None else end, STAGE_COLOR),
            (bake, end, BAKE_COLOR),
        ):
            if start is None or (color == BAKE_COLOR and stop <= start):
                continue
            x0, x1 = axis.x(start), axis.x(stop)
            width = max(x1 - x0, 3)  # a stage that took no time still shows where it happened
            tip = escape(f"{_stage_name(span.stage, span.step)}: {_seconds(start)} to {_seconds(stop)} s")
            body.append(
                f'<rect class="stage" x="{x0:.1f}" y="{y(row) + 3}" width="{width:.1f}" height="{ROW - 6}" '
                f'rx="3" fill="{color}"><title>{tip}</title></rect>'
            )
    for pause in report.pauses:
        pause_row = _pause_row(pause, stages)
        if pause_row is None:
            continue
        x0, x1 = axis.x(pause.start), axis.x(pause.end if pause.end is not None else axis.last)
        tip = escape(
            f"PAUSE {pause.hook_id} at {_stage_name(pause.stage, pause.step)}: {pause.status or 'waiting'}, "
            f"{_seconds(pause.start)} to {_seconds(pause.end) if pause.end is not None else '…'} s"
        )
        body.append(
            f'<rect class="pause" x="{x0:.1f}" y="{y(pause_row) + 1}" width="{max(x1 - x0, 3):.1f}" '
            f'height="{ROW - 2}" rx="3" fill="none" stroke="{PAUSE_COLOR}" stroke-width="2" '
            f'stroke-dasharray="5 3"><title>{tip}</title></rect>'
        )
    if has_rollback_row:
        body.append(_text(LEFT - 10, y(rollback_row) + 15, "rollback hooks"))
    placed: dict[int, list[float]] = {}
    for number, mark in enumerate(report.invocations, 1):
        if mark.start is None:
            continue
        row = _row_of(mark, stages, rollback_row)
        x = axis.x(mark.start)
        # Hooks that ran side by side would hide each other: each steps right of the one before.
        while any(abs(x - other) < 11 for other in placed.get(row, [])):
            x += 11
        placed.setdefault(row, []).append(x)
        color = DECISION_COLORS.get(mark.status or "", PENDING)
        tip = escape(
            f"#{number} {mark.hook} at {_stage_name(mark.stage, mark.step)}"
            f"{' (rollback)' if mark.rollback else ''}: {mark.status or 'no answer'} at "
            f"{_seconds(mark.start)} s\n{mark.reason}"
        )
        cy = y(row) + ROW / 2
        shape = (
            f'<path d="M{x:.1f} {cy - 7:.1f} l7 7 l-7 7 l-7 -7 z"'
            if mark.rollback
            else f'<circle cx="{x:.1f}" cy="{cy:.1f}" r="6"'
        )
        outline = 'stroke="#fff" stroke-width="1.5"'
        body.append(f'<g class="hook-mark">{shape} fill="{color}" {outline}/><title>{tip}</title></g>')
    legend = _legend(
        [("stage", STAGE_COLOR), ("bake", BAKE_COLOR), ("PAUSE hook (dashed)", PAUSE_COLOR)]
    ) + _legend(
        [(status, DECISION_COLORS[status]) for status in HookStatus]
        + [
            ("no valid answer: ERROR, INVALID, TIMED_OUT", DECISION_COLORS["ERROR"]),
            ("no answer yet", PENDING),
        ],
        mark=True,
        note="◆ during a rollback; hover a mark for the hook's reason",
    )
    return (
        "<section><h2>Stages and hook invocations</h2>"
        + legend
        + _svg(bottom + AXIS_HEIGHT, body, "stage timeline with hook invocations")
        + "</section>"
    )


# -- traffic ---------------------------------------------------------------------------------------------


def _weights(report: DeploymentReport, axis: _Axis) -> str:
    if not report.weights:
        return ""
    revisions = list(dict.fromkeys(name for w in report.weights for name in (*w.production, *w.test)))
    color = _revision_color(revisions)
    panel, gap, top = 80, 48, 20
    body = []
    for index, listener in enumerate(("production", "test")):
        y0 = top + index * (panel + gap)

        def y(weight: float, y0: float = y0) -> float:
            return y0 + panel * (1 - weight / 100)

        body.append(_panel(y0, panel, f"{listener} listener", [(y(w), f"{w}%") for w in (0, 50, 100)]))
        for offset, revision in enumerate(revisions):
            points = []
            for change in report.weights:
                weights = change.production if listener == "production" else change.test
                points.append((axis.x(change.at), y(weights.get(revision, 0)) + 1.5 * offset))
            path = f"M{points[0][0]:.1f} {points[0][1]:.1f}" + "".join(
                f" H{x:.1f} V{yy:.1f}" for x, yy in points[1:]
            )
            path += f" H{axis.x(axis.last):.1f}"
            body.append(
                f'<path class="weight" d="{path}" fill="none" stroke="{color(revision)}" stroke-width="2.5"/>'
            )
    bottom = top + 2 * panel + gap
    body.insert(0, axis.draw(top, bottom))
    return (
        "<section><h2>Traffic weights</h2>"
        + _legend((revision, color(revision)) for revision in revisions)
        + _svg(bottom + AXIS_HEIGHT, body, "traffic weights per listener over time")
        + "</section>"
    )


def _traffic(report: DeploymentReport, axis: _Axis) -> str:
    intervals = report.intervals
    if not intervals:
        return ""
    revisions = list(dict.fromkeys(name for t in intervals for name in t.by_revision))
    color = _revision_color(revisions)
    panel, gap, top = 110, 40, 20
    body = []
    for index, what in enumerate(("requests", "errors")):
        count: Callable[[Counts], int] = attrgetter(what)
        y0 = top + index * (panel + gap)
        highest = max(count(t.total) for t in intervals)
        step = _nice_step(max(highest, 1), 3)
        ceiling = max(math.ceil(highest / step), 1) * step
        ticks = [tick * step for tick in range(round(ceiling / step) + 1)]
        body.append(_panel(y0, panel, what, [(y0 + panel * (1 - t / ceiling), _seconds(t)) for t in ticks]))
        for interval in intervals:
            x0, x1 = axis.x(interval.start) + 1, axis.x(interval.end) - 1
            base: float = y0 + panel
            attributed = sum(count(c) for c in interval.by_revision.values())
            stack = [(name, count(c)) for name, c in interval.by_revision.items()]
            stack.append(("no revision", count(interval.total) - attributed))
            for name, value in stack:
                if value <= 0:
                    continue
                height = panel * value / ceiling
                base -= height
                tip = escape(
                    f"{name}: {value} {what} from {_seconds(interval.start)} to {_seconds(interval.end)} s"
                )
                body.append(
                    f'<rect class="{what}" x="{x0:.1f}" y="{base:.1f}" width="{max(x1 - x0, 1):.1f}" '
                    f'height="{height:.1f}" fill="{color(name)}"><title>{tip}</title></rect>'
                )
    bottom = top + 2 * panel + gap
    body.insert(0, axis.draw(top, bottom))
    seconds = _seconds(intervals[0].end - intervals[0].start)
    return (
        f"<section><h2>Production requests and errors per revision, per {seconds} s</h2>"
        + _legend([*((r, color(r)) for r in revisions), ("no revision answered", UNATTRIBUTED)])
        + _svg(bottom + AXIS_HEIGHT, body, "production requests and errors per revision over time")
        + "</section>"
    )


# -- tables ----------------------------------------------------------------------------------------------


def _table(title: str, headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """``rows`` hold finished cells (``<td>…</td>``): the callers escape what they put in."""
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    return (
        f"<section><h2>{escape(title)}</h2><table><thead><tr>{head}</tr></thead><tbody>"
        + "".join(f"<tr>{''.join(row)}</tr>" for row in rows)
        + "</tbody></table></section>"
    )


def _cell(value: object, cls: str = "") -> str:
    text = "" if value is None else str(value)
    return f'<td class="{cls}">{escape(text)}</td>' if cls else f"<td>{escape(text)}</td>"


def _invocation_table(invocations: Sequence[HookMark]) -> str:
    def row(number: int, mark: HookMark) -> list[str]:
        status = mark.status or "no answer"
        color = DECISION_COLORS.get(mark.status or "", PENDING)
        return [
            _cell(number, "num"),
            _cell(_seconds(mark.start) if mark.start is not None else "", "num"),
            _cell(_seconds(mark.end) if mark.end is not None else "", "num"),
            _cell(mark.hook),
            _cell(_stage_name(mark.stage, mark.step) + (" (rollback)" if mark.rollback else "")),
            f'<td class="decision" style="color:{color}">{escape(status)}</td>',
            _cell(f"{mark.duration_ms:.0f} ms" if mark.duration_ms is not None else "", "num"),
            f'<td class="reason">{escape(mark.reason)}{_output(mark)}</td>',
        ]

    return _table(
        "Hook invocations",
        ("#", "start", "end", "hook", "stage", "decision", "took", "reason"),
        (row(number, mark) for number, mark in enumerate(invocations, 1)),
    )


def _output(mark: HookMark) -> str:
    """The function's own output, folded away (a <details>: no script needed to open it)."""
    if not mark.output:
        return ""
    lines = mark.output.count("\n") + (not mark.output.endswith("\n"))
    where = f" to {mark.log_stream}" if mark.log_stream else ""
    return (
        f"<details><summary>output: {lines} line{'s' if lines != 1 else ''}{escape(where)}</summary>"
        f"<pre>{escape(mark.output)}</pre></details>"
    )


def _stage_table(stages: Sequence[StageSpan]) -> str:
    def row(span: StageSpan) -> list[str]:
        duration = span.end - span.start if span.end is not None else None
        return [
            _cell(_stage_name(span.stage, span.step), "stage-name"),
            _cell(_seconds(span.start), "num"),
            _cell(_seconds(span.end) if span.end is not None else "running", "num"),
            _cell(_seconds(duration) if duration is not None else "", "num"),
            _cell(_seconds(span.bake_start) if span.bake_start is not None else "", "num"),
        ]

    return _table("Stages", ("stage", "start", "end", "took", "bake from"), (row(s) for s in stages))


def _optional(t: float | None, missing: str = "") -> str:
    return _seconds(t) if t is not None else missing


def _list(cls: str, title: str, items: Sequence[str]) -> str:
    if not items:
        return ""
    return (
        f'<ul class="{cls}"><b>{escape(title)}</b>'
        + "".join(f"<li>{escape(i)}</li>" for i in items)
        + "</ul>"
    )


def _pause_table(pauses: Sequence[PauseMark]) -> str:
    if not pauses:
        return ""

    def row(pause: PauseMark) -> list[str]:
        waited = pause.end - pause.start if pause.end is not None else None
        return [
            _cell(pause.hook_id, "hook-id"),
            _cell(_stage_name(pause.stage, pause.step)),
            _cell(pause.status or "waiting", "decision"),
            _cell(_seconds(pause.start), "num"),
            _cell(_optional(pause.end, "waiting"), "num"),
            _cell(_optional(waited), "num"),
            _cell(pause.timeout_action),
        ]

    return _table(
        "PAUSE hooks",
        ("hook id", "stage", "status", "start", "end", "waited", "on timeout"),
        (row(p) for p in pauses),
    )


def _bake_table(report: DeploymentReport) -> str:
    """Each step's bake as its own entry; the final bake is the BAKE_TIME stage."""
    rows = [
        [
            _cell(f"step {bake.step} bake" if bake.step is not None else "bake", "bake-name"),
            _cell(_seconds(bake.start), "num"),
            _cell(_optional(bake.end, "running"), "num"),
            _cell(_optional(bake.end - bake.start if bake.end is not None else None), "num"),
        ]
        for bake in report.step_bakes
    ]
    return _table("Step bakes", ("bake", "start", "end", "took"), rows) if rows else ""


def _weights_text(weights: Mapping[str, float]) -> str:
    return ", ".join(f"{name} {weight:g}%" for name, weight in weights.items()) or "none"


def _final_state(state: FinalState | None) -> str:
    if state is None:
        return ""
    tasks = ", ".join(f"{name} {count}" for name, count in state.running_tasks.items()) or "none"
    serving = "yes" if state.green_serving else "no"
    rows = [
        [_cell("production listener"), _cell(_weights_text(state.production))],
        [_cell("test listener"), _cell(_weights_text(state.test))],
        [_cell("running tasks"), _cell(tasks)],
        [_cell("green still serves"), _cell(serving, serving)],
    ]
    return _table("Final state", ("what", "at the final status"), rows).replace(
        "<section>", '<section class="final-state">', 1
    )


def _alarms(report: DeploymentReport) -> str:
    if not (report.alarms or report.alarm_changes or report.alarm_problems):
        return ""
    last = {change.alarm: change.state for change in report.alarm_changes}
    watched = [
        [
            _cell(alarm.alarm),
            _cell(alarm.measures),
            _cell(last.get(alarm.alarm, "OK") if alarm.evaluated else "not evaluated"),
            _cell(alarm.why),
        ]
        for alarm in report.alarms
    ]
    changes = [
        [_cell(_seconds(c.at), "num"), _cell(c.alarm), _cell(c.state, "decision"), _cell(c.reason, "reason")]
        for c in report.alarm_changes
    ]
    parts = [_table("Alarms watched", ("alarm", "measures", "state at the end", "note"), watched)]
    if changes:
        parts.append(_table("Alarm changes", ("at", "alarm", "state", "why"), changes))
    if report.alarm_problems:
        parts.append(
            "<section><h2>Alarm problems</h2>" + _list("problems", "", report.alarm_problems) + "</section>"
        )
    return "".join(parts)


def _replacement_table(report: DeploymentReport) -> str:
    if not report.replacements:
        return ""
    rows = [
        [_cell(_seconds(r.at), "num"), _cell(r.revision), _cell(r.cause), _cell(r.replaced_by)]
        for r in report.replacements
    ]
    return _table("Tasks replaced by the service scheduler", ("at", "revision", "why", "replaced by"), rows)
