"""cfn-lint and cdk-nag over the synthesized templates: zero errors, zero unacknowledged findings."""

from __future__ import annotations

import json

import pytest

from .conftest import Synthesized

pytestmark = pytest.mark.slow


def test_cfn_lint_finds_no_errors(any_app: Synthesized) -> None:
    # Imported here: cfn-lint (with sympy) takes most of a second to import, in every xdist worker that
    # collects this module, and only the CDK group's worker runs it.
    from cfnlint.api import lint_file

    errors = [str(m) for m in lint_file(any_app.template_file) if m.rule.id.startswith("E")]
    assert errors == []


def test_cdk_nag_aws_solutions_has_no_unacknowledged_findings(any_app: Synthesized) -> None:
    assert any_app.nag_findings == []


def test_every_acknowledgement_gives_a_reason(any_app: Synthesized) -> None:
    metadata = json.loads((any_app.outdir / f"{any_app.config.stack_name}.metadata.json").read_text())
    reasons = {
        (path, rule): reason
        for path, entries in metadata.items()
        for entry in entries
        if entry["type"] == "aws:cdk:acknowledged-rules"
        for rule, reason in entry["data"].items()
        if "AwsSolutions-" in rule
    }
    assert reasons  # the stack does acknowledge findings...
    short = {key: reason for key, reason in reasons.items() if len(reason.split()) < 6}
    assert short == {}  # ...and says why, in words, every time
