"""The promotion Job's peak memory copying a large model, against the tests' real S3 server.

    PYTHONPATH=. .venv/bin/python bench/promote_bench.py [--mib 1024] [--legacy] [--local]

Starts versitygw over TLS (as the tests do; `make cluster-binaries` first), uploads a model of
random bytes (multipart, as a training job's upload would be), and runs `kubedrift promote-copy`
as its own process, as in the promotion pod. Peak memory is the job process's own high-water
mark, VmHWM from /proc/self/status read just before it exits, and, as a cross-check, GNU time's
"Maximum resident set size" when /usr/bin/time exists. (A child's ru_maxrss from wait4 would
not do: Linux carries the forking parent's peak over exec into it.)

`--legacy` runs the copy the way kubedrift did before (read the whole object, then write it) for
comparison; `--local` copies between local files instead (what `kubedrift run` does).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.fixtures.s3 import running_s3_server, upload_file

MIB = 2**20

# The job, then its own peak: what the promotion pod's memory limit has to hold.
JOB = """
import sys
from kubedrift.cli import main
code = main(sys.argv[1:])
sys.stderr.write(next(line for line in open("/proc/self/status") if line.startswith("VmHWM")))
sys.exit(code)
"""

# The copy as it was: the whole object read into memory, then written.
LEGACY = """
import sys
from kubedrift import storage
from kubedrift.models.jobconfig import CheckJobConfig
from kubedrift_jobs.runtime import load_config
settings = load_config(CheckJobConfig, sys.argv[7]).storage
source, target = sys.argv[3], storage.join(sys.argv[5], "model.skops")
fs = storage.filesystem(source, settings)
storage.write_bytes(target, bytes(fs.cat_file(source.removeprefix("s3://"))), settings)
sys.stderr.write(next(line for line in open("/proc/self/status") if line.startswith("VmHWM")))
"""


def write_model(path: Path, mib: int) -> None:
    with path.open("wb") as out:
        for _ in range(mib):
            out.write(os.urandom(MIB))


def measure(code: str, source: str, destination: str, config: Path, env: dict[str, str]) -> dict[str, float]:
    argv = [sys.executable, "-c", code, "promote-copy", "--from", source, "--to", destination]
    argv += ["--config", str(config)]
    timed = Path("/usr/bin/time").is_file()
    if timed:
        argv = ["/usr/bin/time", "-f", "TIME_MAXRSS_KB %M", *argv]
    started = time.perf_counter()
    result = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"promote-copy failed ({result.returncode}):\n{result.stderr}")
    out: dict[str, float] = {"wall_s": round(wall, 2)}
    out["vmhwm_mib"] = round(int(result.stderr.rsplit("VmHWM:", 1)[1].split()[0]) / 1024, 1)
    if timed:
        out["time_maxrss_mib"] = round(int(result.stderr.rsplit("TIME_MAXRSS_KB", 1)[1].split()[0]) / 1024, 1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mib", type=int, default=1024, help="model size in MiB")
    parser.add_argument("--legacy", action="store_true", help="also measure the old read-all-then-write copy")
    parser.add_argument("--local", action="store_true", help="copy between local files instead of on S3")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kubedrift-promote-bench-") as scratch:
        root = Path(scratch)
        model = root / "model.skops"
        write_model(model, args.mib)
        with running_s3_server(root / "s3") as server:
            env = {
                **os.environ,
                **server.env(),
                "AWS_CA_BUNDLE": str(server.ca_bundle),
                "KUBEDRIFT_TERMINATION_MESSAGE_PATH": str(root / "termination"),
            }
            bucket = server.create_bucket()
            if args.local:
                (root / "runs").mkdir()
                shutil.move(model, root / "runs" / "model.skops")
                source, destination = str(root / "runs" / "model.skops"), str(root / "production")
            else:
                started = time.perf_counter()
                upload_file(server.client(), model, bucket, "runs/r1/0/model.skops", part_size=64 << 20)
                print(f"upload: {time.perf_counter() - started:.1f} s", file=sys.stderr)
                model.unlink()
                source, destination = f"s3://{bucket}/runs/r1/0/model.skops", f"s3://{bucket}/production"
            config = root / "config.json"
            config.write_text(
                json.dumps(
                    {
                        "check": "bench",
                        "reference": {"uri": f"s3://{bucket}/r.parquet"},
                        "current": {"uri": f"s3://{bucket}/c.parquet"},
                        "storage": {"reportsUri": f"s3://{bucket}/reports", "endpoint": server.endpoint},
                    }
                )
            )
            results = {"mib": args.mib, "where": "local" if args.local else "s3", "streamed": {}}
            results["streamed"] = measure(JOB, source, destination, config, env)
            if args.legacy:
                results["legacy"] = measure(LEGACY, source, destination, config, env)
            print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
