"""The image references the Helm chart renders by default: repository:tag, where an empty tag
means the chart's appVersion (the `kubedrift.image` helper in templates/_helpers.tpl)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

# Which values hold each image's repository and tag, by the name of the image's folder in images/.
VALUES_PATH = {"operator": ("image",), "jobs": ("jobs", "image")}


def default_refs(chart: Path) -> dict[str, str]:
    values = yaml.safe_load((chart / "values.yaml").read_text())
    app_version = str(yaml.safe_load((chart / "Chart.yaml").read_text())["appVersion"])
    refs = {}
    for name, path in VALUES_PATH.items():
        image: Any = values
        for key in path:
            image = image[key]
        refs[name] = f"{image['repository']}:{image['tag'] or app_version}"
    return refs
