"""Inline SVG charts drawn by hand: no library, no script, nothing fetched."""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

PALETTE = ("#2f6fdf", "#e8833a", "#3aa76d", "#c94f7c", "#8a63d2", "#d4b72c", "#3bb3c3",
           "#7f8c8d", "#b55d3a", "#5e7d2f")
STATUS_COLOURS = {"success": "#3aa76d", "error": "#d64545", "warn": "#e8a33a"}


def _attr(value: object) -> str:
    return escape(str(value), quote=True)


def bar_chart(
    items: Sequence[tuple[str, float]],
    *,
    title: str,
    unit: str = "",
    width: int = 640,
    bar_height: int = 22,
) -> str:
    """Horizontal bars, one per ``(label, value)``, labelled with their value."""
    if not items:
        return f'<p class="empty">{escape(title)}: no data</p>'
    label_w = min(220, 12 + 7 * max(len(label) for label, _ in items))
    chart_w = width - label_w - 90
    top = max((v for _, v in items), default=0.0) or 1.0
    height = 30 + len(items) * (bar_height + 6)
    parts = [
        f'<svg class="chart" role="img" aria-label="{_attr(title)}" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
        f'<text x="0" y="16" class="chart-title">{escape(title)}</text>',
    ]
    for i, (label, value) in enumerate(items):
        y = 28 + i * (bar_height + 6)
        w = max(1.0, chart_w * max(value, 0.0) / top)
        colour = PALETTE[i % len(PALETTE)]
        parts.append(
            f'<text x="{label_w - 8}" y="{y + bar_height * 0.7:.1f}" text-anchor="end" '
            f'class="label">{escape(label)}</text>'
            f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_height}" rx="3" '
            f'fill="{colour}"><title>{escape(label)}: {value:,.2f} {escape(unit)}</title></rect>'
            f'<text x="{label_w + w + 6:.1f}" y="{y + bar_height * 0.7:.1f}" class="value">'
            f"{value:,.2f} {escape(unit)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def run_timeline(
    runs: Sequence[tuple[str, float, str]], *, title: str, width: int = 640, height: int = 180
) -> str:
    """Vertical bars per run: height = duration in seconds, colour = status."""
    if not runs:
        return f'<p class="empty">{escape(title)}: no recorded runs</p>'
    left, bottom, top_pad = 48, 24, 26
    plot_w, plot_h = width - left - 10, height - bottom - top_pad
    top = max(v for _, v, _ in runs) or 1.0
    step = plot_w / len(runs)
    bar_w = max(2.0, step * 0.7)
    parts = [
        f'<svg class="chart" role="img" aria-label="{_attr(title)}" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
        f'<text x="0" y="16" class="chart-title">{escape(title)}</text>',
        f'<line x1="{left}" y1="{top_pad + plot_h}" x2="{width - 10}" y2="{top_pad + plot_h}" '
        'class="axis"/>',
        f'<text x="{left - 6}" y="{top_pad + 10}" text-anchor="end" class="value">'
        f"{top:,.1f} s</text>",
        f'<text x="{left - 6}" y="{top_pad + plot_h}" text-anchor="end" class="value">0</text>',
    ]
    for i, (label, value, status) in enumerate(runs):
        h = max(1.0, plot_h * value / top)
        x = left + i * step + (step - bar_w) / 2
        colour = STATUS_COLOURS.get(status, "#7f8c8d")
        parts.append(
            f'<rect x="{x:.1f}" y="{top_pad + plot_h - h:.1f}" width="{bar_w:.1f}" '
            f'height="{h:.1f}" fill="{colour}"><title>{escape(label)}: {value:,.1f} s, '
            f"{escape(status)}</title></rect>"
        )
    parts.append("</svg>")
    return "".join(parts)


def dependency_graph(
    teams: Sequence[str], edges: Sequence[tuple[str, str, int]], *, title: str, size: int = 460
) -> str:
    """Teams on a circle; an arrow from a consumer to each team it reads (width = models)."""
    if not teams:
        return f'<p class="empty">{escape(title)}: no teams</p>'
    cx = cy = size / 2
    radius = size / 2 - 70
    pos = {}
    for i, team in enumerate(teams):
        angle = -math.pi / 2 + 2 * math.pi * i / len(teams)
        pos[team] = (cx + radius * math.cos(angle), cy + radius * math.sin(angle))
    parts = [
        f'<svg class="chart" role="img" aria-label="{_attr(title)}" width="{size}" '
        f'height="{size}" viewBox="0 0 {size} {size}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
        f'<text x="0" y="16" class="chart-title">{escape(title)}</text>',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" '
        'fill="#555"/></marker></defs>',
    ]
    for consumer, producer, weight in edges:
        if consumer not in pos or producer not in pos or consumer == producer:
            continue
        (x1, y1), (x2, y2) = pos[consumer], pos[producer]
        dx, dy = x2 - x1, y2 - y1
        dist = math.hypot(dx, dy) or 1.0
        shrink = 26 / dist
        sx, sy = x1 + dx * shrink, y1 + dy * shrink
        ex, ey = x2 - dx * shrink, y2 - dy * shrink
        # bend the line a little so that two-way dependencies do not overlap
        mx, my = (sx + ex) / 2 - dy * 0.12, (sy + ey) / 2 + dx * 0.12
        stroke = min(1 + math.log2(1 + weight), 6)
        parts.append(
            f'<path d="M {sx:.1f} {sy:.1f} Q {mx:.1f} {my:.1f} {ex:.1f} {ey:.1f}" '
            f'stroke="#555" stroke-opacity="0.7" stroke-width="{stroke:.1f}" fill="none" '
            f'marker-end="url(#arrow)"><title>{escape(consumer)} reads {weight} model(s) of '
            f"{escape(producer)}</title></path>"
        )
    for i, team in enumerate(teams):
        x, y = pos[team]
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="24" fill="{PALETTE[i % len(PALETTE)]}">'
            f"<title>{escape(team)}</title></circle>"
            f'<text x="{x:.1f}" y="{y + 40:.1f}" text-anchor="middle" class="label">'
            f"{escape(team)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)
