"""`python -m tests.cluster.images`: build what changed, print one `name archive ref` line per image."""

from __future__ import annotations

import sys
import time

from .build import ensure_images, log


def main() -> int:
    started = time.monotonic()
    try:
        images = ensure_images()
    except RuntimeError as error:
        log(str(error))
        return 1
    log(f"up to date in {time.monotonic() - started:.1f} s; import with: ctr -n k8s.io images import ARCHIVE")
    for image in images:
        print(image.name, image.archive, image.ref)
    return 0


if __name__ == "__main__":
    sys.exit(main())
