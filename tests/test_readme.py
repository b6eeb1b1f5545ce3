"""Every command and code block in the README runs as written (on the sample filing)."""

import json
import re
import shlex
import shutil
from pathlib import Path

import pandas as pd
import pytest

from pilotzone.cli import main

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")
SAMPLE = REPO / "data" / "samples" / "filing.csv"
REPORT = (
    "facilities.geojson", "findings.csv", "findings.xlsx", "summary.json", "map.html", "report.html"
)  # fmt: skip
#: What `--out DIR` writes, per command (`sample --out FILE` is checked on its own).
OUT_FILES = {
    "verify": REPORT,
    "demo": REPORT,
    "site": ("sites.csv", "feasible_area.geojson", "sites_map.html"),
    "diff": ("changes.csv", "changes.json", "changes_map.html"),
}


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)


def cli_lines() -> list[str]:
    lines = []
    for block in blocks("bash"):
        for line in block.splitlines():
            command = line.split("#")[0].strip()
            if command.startswith("pilotzone "):
                lines.append(command)
    return lines


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copy(SAMPLE, tmp_path / "filing.csv")
    frame = pd.read_csv(SAMPLE, dtype=str, keep_default_na=False)
    frame.to_excel(tmp_path / "filing.xlsx", index=False)
    candidates = frame.loc[frame["kind"] != "registration", ["name", "lon", "lat"]]
    candidates[candidates["lon"] != ""].to_csv(tmp_path / "candidates.csv", index=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_readme_shows_the_two_setup_commands() -> None:
    commands = [line.split("#")[0].strip() for line in blocks("bash")[0].splitlines()]
    assert commands == ["make demo", "make test"]
    assert "make test" in (REPO / ".ci" / "run").read_text()


def test_readme_has_commands_for_every_cli_verb() -> None:
    verbs = {line.split()[1] for line in cli_lines()}
    assert {"zones", "locate", "verify", "site", "sample", "diff", "demo"} <= verbs


@pytest.mark.parametrize("line", cli_lines())
def test_cli_line_runs(line: str, workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = shlex.split(line)[1:]
    # The sample mixes coordinate systems per row; the README's --crs only fills rows without one.
    status = main(argv)
    captured = capsys.readouterr()
    assert status in (0, 1), captured.err
    assert "Traceback" not in captured.err
    if "--out" not in argv:
        return
    out = workdir / argv[argv.index("--out") + 1]
    if argv[0] == "sample":  # FILE.json, or FILE.csv with the record beside it as FILE.json
        expected = [out, out.with_suffix(".json")]
    else:
        assert argv[0] in OUT_FILES, f"add the files `{argv[0]} --out` writes to OUT_FILES"
        expected = [out / name for name in OUT_FILES[argv[0]]]
    missing = [str(path.relative_to(workdir)) for path in expected if not path.is_file()]
    assert not missing, f"`{line}` did not write {missing}"
    if argv[0] == "sample":
        record = json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))
        assert record["seed"] == int(argv[argv.index("--seed") + 1])
        assert len(record["operators"]) == record["drawn"] == int(argv[argv.index("--n") + 1])


def test_python_block_runs(workdir: Path) -> None:
    (code,) = [b for b in blocks("python") if "import pilotzone" in b]
    namespace: dict[str, object] = {}
    exec(compile(code, "README.md", "exec"), namespace)
    result = namespace["result"]
    assert len(result) == len(pd.read_csv(SAMPLE))  # type: ignore[arg-type]
    assert (workdir / "audit" / "summary.json").is_file()
