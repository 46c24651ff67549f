"""requirements.lock (what scripts/test and CI install) covers every dependency that pyproject.toml declares."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_the_lock_pins_every_dependency_and_test_dependency_with_hashes():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = {_name(r) for r in project["dependencies"] + project["optional-dependencies"]["test"]}
    lock = (ROOT / "requirements.lock").read_text()
    pinned = {m.group(1).lower() for m in re.finditer(r"^([A-Za-z0-9._-]+)==\S+ \\$", lock, re.MULTILINE)}
    assert declared - pinned == set()
    blocks = re.findall(r"^[A-Za-z0-9._-]+==\S+ \\\n((?:\s+--hash=sha256:[0-9a-f]{64}.*\n)+)", lock, re.MULTILINE)
    assert len(blocks) == len(pinned)  # every pin carries at least one hash


def test_scripts_test_installs_from_the_lock_with_hashes_required():
    script = (ROOT / "scripts" / "test").read_text()
    assert "--require-hashes -r requirements.lock" in script
    assert "-e '.[test]'" not in script
