pytest_plugins = [
    "tests.fixtures.s3",
    "tests.fixtures.faultproxy",
    "tests.fixtures.leaks",
    "tests.fixtures.cluster",
]
