"""Removes a real node's cgroups once the harness is gone, however it went.

`python -m tests.cluster.janitor <cgroup-root-name>` blocks reading stdin, a pipe whose write end
only the harness holds. Stdin reaches EOF when the harness closes it after stopping the node, or
when the kernel closes it because the harness died (kill -9 included). The node's processes die
with the harness (see netns.py), but cgroup directories do not, so this process, which is not tied
to the harness's life, waits for them to empty and removes them.
"""

from __future__ import annotations

import sys

from tests.cluster import cgroups


def main() -> int:
    name = sys.argv[1]
    sys.stdin.buffer.read()
    left = cgroups.remove_tree(name)
    if left:
        print(f"janitor: could not remove {[str(path) for path in left]}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
