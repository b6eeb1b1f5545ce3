"""The documentation stands on its own: every link resolves inside the repository, and the
rule-by-rule mapping names the rule codes pilotzone really reports."""

import re
from pathlib import Path

import pytest

from pilotzone.rules import RULES

REPO = Path(__file__).resolve().parents[1]
DOCUMENTS = sorted(
    [
        REPO / "README.md",
        REPO / "SECURITY.md",
        *REPO.glob("docs/**/*.md"),
        *REPO.glob("*/README.md"),
        *REPO.glob("*/*/README.md"),
    ]
)
#: A Markdown link's target, or a file path written as code (`../shared/x.md`); made-up hostile
#: paths such as `../../etc/passwd` in SECURITY.md name no file and are not links.
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")
CODE_PATH = re.compile(r"`((?:\.\./|\./)?(?:[\w.-]+/)+[\w-]+\.[a-z]+)`")


def targets(document: Path) -> list[str]:
    text = document.read_text(encoding="utf-8")
    found = [t for t in LINK.findall(text) if not re.match(r"[a-z]+:", t)]
    return found + [t for t in CODE_PATH.findall(text) if t.startswith("../")]


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(REPO)))
def test_links_stay_inside_the_repository_and_resolve(document: Path) -> None:
    for target in targets(document):
        resolved = (document.parent / target).resolve()
        assert resolved.is_relative_to(REPO), f"{document.name} links outside the repo: {target}"
        assert resolved.exists(), f"{document.name} links a missing file: {target}"


def test_readme_points_to_the_shipped_rule_mapping() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "](docs/rules.md)" in readme
    assert "shared/" not in readme


def test_rule_mapping_names_only_real_rule_codes_and_every_violation_rule() -> None:
    text = (REPO / "docs" / "rules.md").read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if re.match(r"\| \d+ \|", line)]
    named = {code for row in rows for code in re.findall(r"`([a-z_]+)`", row.split("|")[4])}
    assert named <= set(RULES), named - set(RULES)
    violations = {code for code, rule in RULES.items() if rule.severity == "violation"}
    assert violations <= named, violations - named


def test_the_regulation_text_ships_with_the_mapping() -> None:
    text = (REPO / "docs" / "regulation" / "miit-2024-107-pilot-program.txt").read_text("utf-8")
    assert "Gong Xin Bu Tong Han [2024] No. 107" in text
