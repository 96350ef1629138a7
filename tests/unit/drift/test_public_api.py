"""The drift package's public API is re-exported in one place; this pins it."""

import kubedrift_jobs.drift as drift


def test_public_api_is_pinned() -> None:
    assert drift.__all__ == [
        "StatTest",
        "check",
        "choose",
        "default_method",
        "get",
        "main",
        "names",
        "register",
        "run_check",
    ]
    for name in drift.__all__:
        assert getattr(drift, name) is not None
