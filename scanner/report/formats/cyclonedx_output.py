"""`--format cyclonedx-json` and `cyclonedx-xml`: a CycloneDX 1.6 SBOM of the scan; when
the input was an SBOM, that document annotated rather than replaced."""

from __future__ import annotations

from collections.abc import Callable

from scanner.model import ScanResult
from scanner.report.interface import OutputFormat, register


def _renderer(encoding: str) -> Callable[..., str]:
    def render(result: ScanResult, *, verbose: bool, version: str) -> str:
        from scanner.report.cyclonedx import annotate_sbom, render_cyclonedx

        if result.resolution.document is not None:
            # The input was an SBOM: annotate the user's own document rather than replace it.
            return annotate_sbom(result.resolution.document, result, version, encoding)
        return render_cyclonedx(result, encoding, version)

    return render


register(OutputFormat(name="cyclonedx-json", position=20, draws=False, render=_renderer("json")))
register(OutputFormat(name="cyclonedx-xml", position=30, draws=False, render=_renderer("xml")))
