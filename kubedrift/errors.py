"""The errors kubedrift reports, each mapped once to an exit code and a reason.

    KubedriftError
     ├── ConfigError        bad config or spec; retrying cannot help     exit 2
     ├── DataError
     │    ├── DataNotFound   a reference/current/train/test URI is empty  exit 3
     │    │    └── EmptyWindow  a window has no data (yet); the check job  exit 3
     │    │                     ends CheckSkipped with exit 0 instead
     │    └── DataUnreadable corrupt Parquet, wrong column, wrong type    exit 4
     ├── NotFound           a Kubernetes object that is not there         exit 1
     ├── TrainingError      the estimator failed to fit with these params exit 5
     ├── CredentialsError   the object store refused the credentials:
     │    ├── UnknownAccessKey the access key id is unknown (InvalidAccessKeyId) exit 6
     │    ├── WrongSecretKey   the secret does not match the key id (SignatureDoesNotMatch) exit 7
     │    └── AccessDenied     a valid key without rights on the bucket (AccessDenied) exit 8
     └── TransientError     storage unreachable, throttled, 5xx, timeouts; worth a retry  exit 75
          └── ReadInterrupted a response broke off mid-body               exit 75

Exit 1 is left to Python itself (an unexpected traceback). The operator maps
the permanent codes (2-8) to podFailurePolicy FailIndex and lets 75 retry:
a refused credential stays refused until someone fixes the Secret, so retrying
it would only repeat the refusal.
"""

from __future__ import annotations


class KubedriftError(Exception):
    exit_code = 1
    reason = "Error"
    permanent = True

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigError(KubedriftError):
    exit_code = 2
    reason = "InvalidConfig"


class DataError(KubedriftError):
    exit_code = 4
    reason = "DataUnreadable"


class DataNotFound(DataError):
    exit_code = 3
    reason = "DataNotFound"


class EmptyWindow(DataNotFound):
    """A window with no data, e.g. a partition that has not landed; the message names the window."""

    reason = "EmptyWindow"


class DataUnreadable(DataError):
    exit_code = 4
    reason = "DataUnreadable"


class NotFound(KubedriftError):
    """A Kubernetes object that is not there; missing data is DataNotFound."""

    exit_code = 1
    reason = "NotFound"


class TrainingError(KubedriftError):
    exit_code = 5
    reason = "TrainingFailed"


class CredentialsError(KubedriftError):
    """The object store refused the request's credentials; each kind has its own code."""

    exit_code = 8
    reason = "AccessDenied"


class UnknownAccessKey(CredentialsError):
    exit_code = 6
    reason = "InvalidAccessKeyId"


class WrongSecretKey(CredentialsError):
    exit_code = 7
    reason = "SignatureDoesNotMatch"


class AccessDenied(CredentialsError):
    exit_code = 8
    reason = "AccessDenied"


class TransientError(KubedriftError):
    exit_code = 75  # EX_TEMPFAIL
    reason = "Transient"
    permanent = False


class ReadInterrupted(TransientError):
    """A response broke off mid-body (reset, stall, truncation): the operation may be run again."""


PERMANENT_EXIT_CODES = (
    ConfigError.exit_code,
    DataNotFound.exit_code,
    DataUnreadable.exit_code,
    TrainingError.exit_code,
    UnknownAccessKey.exit_code,
    WrongSecretKey.exit_code,
    AccessDenied.exit_code,
)


class ReportsUnwritable(ConfigError):
    """storage.reportsUri cannot be written: a setting to fix, not unreadable data (exit 2)."""

    reason = "ReportsUnwritable"
