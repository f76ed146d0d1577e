"""`--format html`: one self-contained HTML file to look at rather than read: the summary,
a picture of the dependency graph (risky packages by colour, blast radius by size), a
chart of the accounts that can publish the most packages, a findings table that sorts and
filters, and a panel per package (facts, findings, publishers, what pulls it in).

Safe to open whatever the metadata holds, and offline: nothing is loaded from any host
(inline style and script only), and a Content-Security-Policy (`default-src 'none'`)
allows just this report's own script and style, by hash. Every string from the scan goes
through `esc` (safe_text, then html.escape, in text and attributes alike); a URL becomes a
link only when it is http or https; the data the script reads is JSON in a
`<script type="application/json">` block with `<`, `>` and `&` escaped, so no value can
close the block."""

from __future__ import annotations

import base64
import hashlib
import html
import json
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from scanner.model import SEVERITIES, Finding, Ownership, ScanResult, Undetermined
from scanner.report.html_assets import SCRIPT, STYLE
from scanner.report.html_graph import Node, radius_for, render_graph_svg
from scanner.report.summary import finding_path, sorted_findings, summary_of
from scanner.report.terminal import WARNING_NOTES
from scanner.report.text import MAX_SHOWN, coded_meaning, safe_text
from scanner.wording import counted

SEVERITY_COLOUR = {
    "critical": "#7a0019",
    "high": "#d7301f",
    "medium": "#f28e2b",
    "low": "#d9b520",
    "info": "#7fa7d1",
    "undetermined": "#cbbfe0",
    "none": "#9aa5ad",
}
CHART_ACCOUNTS = 15
MAX_URL = 2000
MAX_FACT_TEXT = 200  # a fact value longer than this is cut in its panel


def esc(value: object, limit: int = MAX_SHOWN) -> str:
    """Text from the scan as HTML element text: control characters made visible and long
    values cut (safe_text), then `&`, `<` and `>` escaped (quotes are harmless in text)."""
    return html.escape(safe_text(value, limit), quote=False)


def attr(value: object, limit: int = MAX_SHOWN) -> str:
    """Text from the scan as a quoted attribute value: as `esc`, quotes escaped too."""
    return html.escape(safe_text(value, limit), quote=True)


def link(url: object, limit: int = MAX_SHOWN) -> str:
    """A link when `url` is an http(s) URL; any other scheme (javascript:, data:, file:)
    is shown as text and never becomes a link."""
    text = url if isinstance(url, str) else str(url)
    try:
        parts = urlsplit(text)
    except ValueError:
        return esc(text, limit)
    if parts.scheme.lower() in ("http", "https") and parts.netloc and len(text) <= MAX_URL:
        if text == safe_text(text, MAX_URL):  # no control or invisible characters
            return (
                f'<a href="{html.escape(text, quote=True)}" rel="noopener noreferrer nofollow">'
                f"{esc(text, limit)}</a>"
            )
    return esc(text, limit)


def json_for_script(value: Any) -> str:
    """JSON that can sit inside a <script> element: no `<`, `>` or `&`, so neither
    `</script>` nor `<!--` can appear in it."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def _hash(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


CONTENT_SECURITY_POLICY = (
    f"default-src 'none'; script-src '{_hash(SCRIPT)}'; style-src '{_hash(STYLE)}'; "
    "img-src 'none'; base-uri 'none'; form-action 'none'"
)


def _severity_badge(severity: str) -> str:
    return f'<span class="sev sev-{severity}">{severity}</span>'


def _worst(findings: Iterable[Finding]) -> str | None:
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    return max((f.severity for f in findings), key=lambda s: rank[s], default=None)


def _publishers_text(owner: Ownership | None) -> str:
    if owner is None or owner.accounts is None:
        reason = owner.reason if owner and owner.reason else "not known"
        return f"unknown ({reason})"
    text = ", ".join(owner.accounts) or "none listed"
    if owner.organization:
        text += f" (organisation {owner.organization})"
    return text


def _path_html(path: list[str], top_level: bool) -> str:
    if len(path) <= 1:
        return "(top-level)" if top_level else "(no top-level package pulls it in)"
    # Each name unbroken: a line may break between names, never inside one at a hyphen.
    steps = " → ".join(f"<span>{esc(step, 100)}</span>" for step in path)
    return f'<span class="path">{steps}</span>'


def _names(names: Iterable[str], shown: int = 12) -> str:
    listed = list(names)
    text = ", ".join(esc(n, 100) for n in listed[:shown])
    return text + (f", … {len(listed) - shown} more" if len(listed) > shown else "")


class _Report:
    def __init__(self, result: ScanResult, version: str) -> None:
        self.result = result
        self.version = version
        self.summary = summary_of(result)
        self.packages = result.packages
        self.index = {name: i for i, name in enumerate(sorted(self.packages))}
        self.findings: dict[str, list[Finding]] = {}
        for finding in sorted_findings(result):
            self.findings.setdefault(finding.package, []).append(finding)
        # Why facts are unknown, numbered: the same reason holds for most packages, and is
        # written out once (in Notes) rather than once per package.
        self.reasons: dict[str, int] = {}
        self.undetermined: dict[str, list[Undetermined]] = {}
        for item in result.undetermined:
            self.undetermined.setdefault(item.package, []).append(item)

    def severity_of(self, name: str) -> str:
        worst = _worst(self.findings.get(name, ()))
        if worst:
            return worst
        return "undetermined" if name in self.undetermined else "none"

    def dependents(self, name: str) -> int:
        reach = self.summary.radius.get(name)
        return reach.dependents if reach else 0

    def top_level(self, name: str) -> bool:
        graph = self.result.graph
        return bool(graph.nodes[name].get("top_level")) if name in graph else False

    # --- sections ----------------------------------------------------------------------

    def document(self) -> str:
        source = self.result.resolution.source
        target = self.result.resolution.target
        subtitle = esc(source)
        if target.python_version:
            subtitle += f" · Python {esc(target.python_version, 20)}"
            platform = target.markers.get("sys_platform")
            if platform:
                subtitle += f" ({esc(platform, 40)})"
        return "".join(
            [
                '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">',
                f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">',
                '<meta name="referrer" content="no-referrer">',
                '<meta name="viewport" content="width=device-width, initial-scale=1">',
                f"<title>trustmap report: {esc(source, 120)}</title>",
                f"<style>{STYLE}</style></head><body>",
                f'<header><h1>trustmap report</h1><p class="sub">{subtitle} · trustmap '
                f"{esc(self.version, 40)}</p>",
                '<nav><a href="#summary">Summary</a><a href="#graph">Graph</a>'
                '<a href="#accounts">Accounts</a><a href="#findings">Findings</a>'
                '<a href="#packages">Packages</a><a href="#notes">Notes</a></nav></header><main>',
                self.summary_section(),
                self.graph_section(),
                self.accounts_section(),
                self.findings_section(),
                self.packages_section(),
                self.notes_section(),
                "</main>",
                f"<footer>Written by trustmap {esc(self.version, 40)}. Every name, summary and "
                "URL in this file was written by someone on the internet and is shown as "
                "text.</footer>",
                '<script type="application/json" id="report-data">',
                json_for_script(self.script_data()),
                "</script>",
                f"<script>{SCRIPT}</script></body></html>\n",
            ]
        )

    def summary_section(self) -> str:
        s = self.summary

        def publishers(count: int) -> str:
            # A count is a lower bound when some packages' ownership is unknown.
            if s.ownership_unknown and not s.ownership_known:
                return "unknown"
            return str(count) if s.publishers_exact else f"&ge;&nbsp;{count}"

        cards = [
            (s.packages, f"packages ({s.top_level} top-level, {s.edges} edges)"),
            (publishers(s.publishing_accounts), "publishing accounts"),
            (publishers(s.organizations), "organisations"),
            (sum(s.findings_by_severity.values()), "findings"),
            (s.undetermined, "rule checks undetermined"),
        ]
        out = ['<section id="summary"><h2>Summary</h2>']
        verdict = self.result.verdict
        if verdict is not None:  # `gate -f html`: the outcome before anything else
            reasons = "; ".join(verdict.reasons)
            out.append(
                f'<p class="verdict verdict-{verdict.outcome}"><b>Gate: {verdict.outcome}</b>'
                f"{': ' + esc(reasons, 1000) if reasons else ''}</p>"
            )
        out.append('<div class="cards">')
        for number, label in cards:
            out.append(f'<div class="card"><b>{number}</b>{esc(label)}</div>')
        out.append("</div><p>Findings by severity: ")
        out.append(
            " ".join(
                f"{_severity_badge(severity)} {count}"
                for severity, count in s.findings_by_severity.items()
            )
        )
        out.append("</p>")
        if s.organization_names:
            out.append(f"<p>Organisations: {_names(s.organization_names)}</p>")
        unchecked = []
        for item in s.not_checked:
            share = (
                f"all {item.of}" if item.packages == item.of else f"{item.packages} of {item.of}"
            )
            unchecked.append(
                f"<li><b>{esc(item.kind)}</b> for {share} packages: {esc(item.reason, 400)}</li>"
            )
        if s.ownership_unknown:
            unchecked.append(
                f"<li><b>ownership</b> unknown for {counted(s.ownership_unknown, 'package')}: "
                f"{_names(s.ownership_unknown_packages)}</li>"
            )
        if s.undetermined:
            by_fact = ", ".join(
                f"{esc(fact, 60)} ({count})"
                for fact, count in list(s.undetermined_by_fact.items())[:8]
            )
            unchecked.append(
                f"<li>{counted(s.undetermined, 'rule check')} undetermined for want of "
                f"{by_fact}: not a pass</li>"
            )
        if s.problems:
            unchecked.append(f"<li>{counted(s.problems, 'problem')} in the input (see Notes)</li>")
        # A service that was not asked, or an answer past its time-to-live, as the terminal
        # says it in yellow: here, not only at the foot of the page.
        notes = (*self.result.resolution.target.notes, *self.result.notes)
        unchecked.extend(f"<li>{esc(n, 600)}</li>" for n in notes if n.startswith(WARNING_NOTES))
        if unchecked:
            out.append('<h3 class="warn">What could not be checked</h3><ul class="tight">')
            out.extend(unchecked)
            out.append("</ul>")
        if s.concentrated_accounts:
            out.append(
                f'<p class="warn">{counted(len(s.concentrated_accounts), "account")} can each '
                f"publish {s.concentration_threshold} or more of these packages: "
                + ", ".join(
                    f"{esc(a.account, 60)} ({len(a.packages)})" for a in s.concentrated_accounts
                )
                + "</p>"
            )
        if s.look_first:
            out.append('<h3>Where to look first</h3><ol class="tight">')
            for item in s.look_first:
                why = ", ".join(
                    f"{_severity_badge(sev)} {esc(rule, 80)}" for rule, sev in item.risk.findings
                )
                out.append(
                    f'<li><a href="#pkg-{self.index[item.name]}">{esc(item.label, 120)}</a> '
                    f"risk {item.risk.score:g}: {why}; depended on by "
                    f"{counted(item.risk.dependents, 'package')}; pulled in by "
                    f"{_path_html(item.path, item.top_level)}</li>"
                )
            out.append("</ol>")
        out.append("</section>")
        return "".join(out)

    def graph_section(self) -> str:
        nodes = {}
        for name, package in self.packages.items():
            severity = self.severity_of(name)
            dependents = self.dependents(name)
            title = f"{package.label}: {severity}; depended on by {dependents}"
            nodes[name] = Node(
                index=self.index[name],
                name=name,
                label=name,
                colour=SEVERITY_COLOUR[severity],
                radius=radius_for(dependents),
                title=title,
                css=f"sev-{severity}",
            )
        legend = "".join(
            f'<span><span class="dot dot-{key}"></span>{key}</span>' for key in SEVERITY_COLOUR
        )
        return (
            '<section id="graph"><h2>Dependency graph</h2>'
            '<p class="muted">Top-level packages on the left; each package sits right of '
            "what requires it. Colour: the most severe finding. Size: how many packages "
            "depend on it (blast radius). Scroll to zoom, drag to move, click a package for "
            "what requires it (blue) and what it requires (red).</p>"
            f'<div class="legend">{legend}</div><div id="graph-box">'
            + render_graph_svg(self.result.graph, nodes, esc)
            + '<div id="graph-tools"><button type="button" id="zoom-in" title="zoom in">+</button>'
            '<button type="button" id="zoom-out" title="zoom out">−</button>'
            '<button type="button" id="zoom-fit" title="fit">fit</button></div>'
            '<div id="node-info" hidden></div></div></section>'
        )

    def accounts_section(self) -> str:
        shares = self.summary.accounts[:CHART_ACCOUNTS]
        out = ['<section id="accounts"><h2>Accounts that can publish the most packages</h2>']
        if not shares:
            out.append('<p class="muted">No publishing account is known.</p></section>')
            return "".join(out)
        threshold = self.summary.concentration_threshold
        label_width, bar_space, row = 190, 480, 22
        chart_width = label_width + bar_space + 60
        most = max(len(a.packages) for a in shares)
        height = row * len(shares) + 10
        out.append(
            f'<svg id="accounts-chart" xmlns="http://www.w3.org/2000/svg" role="img" '
            f'aria-label="accounts by packages they can publish" width="{chart_width}" '
            f'height="{height}" viewBox="0 0 {chart_width} {height}">'
        )
        for number, share in enumerate(shares):
            y = number * row + 4
            width = max(2.0, bar_space * len(share.packages) / most)
            concentrated = ' class="concentrated"' if len(share.packages) >= threshold else ""
            names = ", ".join(share.packages)
            account = share.account if len(share.account) <= 28 else share.account[:27] + "…"
            out.append(
                f"<g><title>{esc(share.account, 100)}: {esc(names, 2000)}</title>"
                f'<text x="{label_width - 6}" y="{y + 14}" text-anchor="end">'
                f"{esc(account, 40)}</text>"
                f'<rect x="{label_width}" y="{y}" width="{width:.1f}" height="{row - 6}"'
                f"{concentrated}/>"
                f'<text x="{label_width + width + 6:.1f}" y="{y + 14}">'
                f"{len(share.packages)}</text></g>"
            )
        out.append("</svg>")
        out.append(
            f'<p class="muted">Red: an account that can publish {threshold} or more of these '
            "packages; taking it over reaches them all. Hover a bar for the packages. "
            f"{counted(self.summary.publishing_accounts, 'account')} in all.</p></section>"
        )
        return "".join(out)

    def findings_section(self) -> str:
        rank = {s: i for i, s in enumerate(SEVERITIES)}
        out = [
            '<section id="findings"><h2>Findings</h2><div class="filters">'
            '<input type="search" id="findings-filter" placeholder="filter: package, rule, text" '
            'aria-label="filter findings">'
            '<select id="findings-severity" aria-label="least severity">',
        ]
        for severity in SEVERITIES:
            out.append(f'<option value="{rank[severity]}">{severity} and above</option>')
        out.append(
            '</select><span id="findings-count" class="muted"></span></div>'
            '<table id="findings-table"><thead><tr>'
            '<th data-type="number">severity</th><th>package</th><th>rule</th><th>title</th>'
            '<th data-type="number">depended on by</th><th>evidence</th></tr></thead><tbody>'
        )
        for finding in sorted_findings(self.result):
            name = finding.package
            package = self.packages.get(name)
            label = package.label if package else name
            evidence = "; ".join(f"{k}={_value_text(v, k)}" for k, v in finding.evidence.items())
            dependents = self.dependents(name)
            out.append(
                f'<tr data-rank="{rank[finding.severity]}">'
                f'<td data-v="{rank[finding.severity]}">{_severity_badge(finding.severity)}</td>'
                f'<td data-v="{attr(name, 200)}"><a href="#pkg-{self.index.get(name, "")}">'
                f"{esc(label, 120)}</a></td>"
                f'<td data-v="{attr(finding.rule_id, 80)}">{esc(finding.rule_id, 80)}</td>'
                f'<td data-v="{attr(finding.title, 200)}">{esc(finding.title, 200)}</td>'
                f'<td class="num" data-v="{dependents}">{dependents}</td>'
                f'<td data-v="">{esc(evidence, 300)}</td></tr>'
            )
        out.append("</tbody></table>")
        if not self.result.findings:
            out.append('<p class="muted">No findings.</p>')
        out.append("</section>")
        return "".join(out)

    def packages_section(self) -> str:
        out = [
            '<section id="packages"><h2>Packages</h2><p class="muted">Riskiest first; click '
            "one to open it.</p>"
        ]
        risks = self.summary.risks

        def order(name: str) -> tuple[float, str]:
            risk = risks.get(name)
            return (-(risk.score if risk else 0.0), name)

        for name in sorted(self.packages, key=order):
            out.append(self.package_panel(name))
        out.append("</section>")
        return "".join(out)

    def package_panel(self, name: str) -> str:
        package = self.packages[name]
        graph = self.result.graph
        severity = self.severity_of(name)
        findings = self.findings.get(name, [])
        undetermined = self.undetermined.get(name, [])
        facts = self.result.facts.get(name)
        risk = self.summary.risks.get(name)
        badge = _severity_badge(severity) if severity != "none" else ""
        rows = []
        if package.summary:
            rows.append(("summary", esc(package.summary, 400)))
        rows.append(("publishers", esc(_publishers_text(self.summary.owners.get(name)), 600)))
        if risk is not None:
            rows.append(
                (
                    "risk",
                    f"{risk.score:g} (findings {risk.findings_score:g} × reach "
                    f"{risk.reach_factor:g}); depended on by {risk.dependents}; in the closure "
                    f"of {risk.top_level} of {self.summary.top_level} top-level packages",
                )
            )
        rows.append(
            ("pulled in by", _path_html(finding_path(self.result, name), self.top_level(name)))
        )
        if name in graph:
            required_by = sorted(graph.predecessors(name))
            requires = sorted(graph.successors(name))
            rows.append(("required by", _names(required_by, 30) or "nothing"))
            rows.append(("requires", _names(requires, 30) or "nothing"))
        if package.declared_at:
            rows.append(("declared at", _names((str(loc) for loc in package.declared_at), 10)))
        if package.origin:
            rows.append(("from", esc(str(package.origin), 300)))
        if package.direct_url:
            rows.append(("direct URL", link(package.direct_url)))
        out = [
            f'<details class="package" id="pkg-{self.index[name]}"><summary>'
            f'{esc(package.label, 160)} {badge}</summary><table class="facts">'
        ]
        out.extend(f"<tr><td>{label}</td><td>{value}</td></tr>" for label, value in rows)
        out.append("</table>")
        if findings:
            out.append('<h3>Findings</h3><ul class="tight">')
            for finding in findings:
                evidence = "; ".join(
                    f"{esc(k, 60)}={_value_html(v, k)}" for k, v in finding.evidence.items()
                )
                also = f" (also: {_names(finding.covers)})" if finding.covers else ""
                out.append(
                    f"<li>{_severity_badge(finding.severity)} <b>{esc(finding.rule_id, 80)}</b>: "
                    f'{esc(finding.title, 300)}{also}<br><span class="muted">{evidence}</span></li>'
                )
            out.append("</ul>")
        if undetermined:
            out.append('<h3>Undetermined (facts unknown: not a pass)</h3><ul class="tight">')
            for item in undetermined:
                out.append(
                    f"<li><b>{esc(item.rule_id, 80)}</b> needs {_names(item.missing)}: "
                    f"{esc('; '.join(item.reasons), 400)}</li>"
                )
            out.append("</ul>")
        if facts is not None:
            # One line per fact, not a table row: a closure of 250 packages has some 20,000
            # facts, and the markup of a row per fact would double the file.
            lines = [
                f"{esc(key, 80)}: {_value_html(value, key)}"
                for key, value in facts.values.items()
                if key not in ("name", "version")
            ]
            by_reason: dict[str, list[str]] = {}
            for key, reason in facts.unknown.items():
                by_reason.setdefault(reason, []).append(key)
            for reason, keys in by_reason.items():
                number = self.reasons.setdefault(reason, len(self.reasons) + 1)
                lines.append(
                    f'<span class="warn">unknown ({_names(keys, 40)}): <a href="#why-{number}">'
                    f"why {number}</a></span>"
                )
            out.append('<h3>Facts</h3><div class="factlines">' + "\n".join(lines) + "</div>")
        out.append("</details>")
        return "".join(out)

    def notes_section(self) -> str:
        resolution = self.result.resolution
        out = ['<section id="notes"><h2>Notes</h2>']
        if resolution.problems:
            out.append('<h3>Problems in the input</h3><ul class="tight">')
            for problem in resolution.problems:
                where = f" ({esc(str(problem.location), 200)})" if problem.location else ""
                out.append(
                    f"<li><b>{esc(problem.kind, 60)}</b>: {esc(problem.message, 400)}{where}</li>"
                )
            out.append("</ul>")
        if self.reasons:
            out.append('<h3>Why facts are unknown</h3><ol class="tight">')
            out.extend(
                f'<li id="why-{number}">{esc(reason, 600)}</li>'
                for reason, number in self.reasons.items()
            )
            out.append("</ol>")
        notes = [*resolution.target.notes, *self.result.notes]
        out.append('<h3>How the scan ran</h3><ul class="tight">')
        out.extend(f"<li>{esc(note, 600)}</li>" for note in notes)
        out.append("</ul></section>")
        return "".join(out)

    def script_data(self) -> dict[str, Any]:
        """What the script shows when a package is clicked in the graph, by number."""
        packages = []
        for name in sorted(self.packages, key=self.index.__getitem__):
            package = self.packages[name]
            packages.append(
                {
                    "label": safe_text(package.label, 160),
                    "summary": safe_text(package.summary, 200),
                    "severity": self.severity_of(name),
                    "findings": len(self.findings.get(name, ())),
                    "dependents": self.dependents(name),
                    "publishers": safe_text(_publishers_text(self.summary.owners.get(name)), 200),
                }
            )
        return {"packages": packages}


def _value_text(value: Any, fact: str = "") -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str) + coded_meaning(
        fact, value
    )


def _value_html(value: Any, fact: str = "") -> str:
    """A fact value: a URL as a link (http/https only), anything else as escaped text."""
    if isinstance(value, str) and value.lower().startswith(("http://", "https://")):
        return link(value)
    return esc(_value_text(value, fact), MAX_FACT_TEXT)


def render_html(result: ScanResult, version: str) -> str:
    return _Report(result, version).document()
