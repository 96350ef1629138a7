"""The check command imports what a check needs, not the operator, the local run or training."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import sys
from kubedrift.cli import build_parser
args = build_parser(sys.argv[1]).parse_args([sys.argv[1], "--termination-message-path", "/tmp/t"])
assert args.run.__name__ == sys.argv[2], args.run
heavy = ("kopf", "kubedrift_operator.main", "kubedrift.local.main", "sklearn")
print(",".join(m for m in heavy if m in sys.modules))
"""


def loaded_for(command: str, runner: str) -> set[str]:
    path = os.pathsep.join(str(ROOT / p) for p in ("", "operator", "jobs"))
    out = subprocess.run(
        [sys.executable, "-c", PROBE, command, runner],
        env=dict(os.environ, PYTHONPATH=path),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    return set(out.split(",")) - {""}


def test_a_check_does_not_import_the_other_commands() -> None:
    assert loaded_for("check", "_check") == set()


def test_train_still_gets_its_own_arguments() -> None:
    assert "kubedrift.local.main" not in loaded_for("train", "_train")
