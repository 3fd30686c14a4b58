"""The app's log file: rotated in the user log directory, with secrets scrubbed on the way in."""

from __future__ import annotations

import logging
import logging.handlers
import re
from pathlib import Path

from app.paths import log_dir

LOG_FILE = "studio.log"
MAX_BYTES = 2_000_000
BACKUPS = 5

# API keys and bearer tokens that might slip into a message (an exception text, a URL).
_SECRET_PATTERNS = (
    re.compile(r"\b(sk|rk|pk|gsk|xai|key)-[A-Za-z0-9_\-]{12,}"),
    # platform tokens (gst_, gnt_), Hugging Face (hf_), Google API keys (AIza...)
    re.compile(r"\b(gst_|gnt_|hf_)[A-Za-z0-9_\-]{12,}"),
    re.compile(r"\b(AIza)[0-9A-Za-z_\-]{30,}"),
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._\-]{8,}"),
    re.compile(r"(?i)((?:api[_-]?key|token|password|secret)[\"']?\s*[:=]\s*[\"']?)[^\s\"',}]{4,}"),
)


def redact(text: str) -> str:
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(lambda m: (m.group(1) if m.re.groups else "") + "•••", text)
    return text


class RedactSecrets(logging.Filter):
    """Rewrites a record's final text so no key or token reaches the log file."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


class _RedactingFormatter(logging.Formatter):
    def formatException(self, ei) -> str:  # noqa: N802 - logging's API name
        return redact(super().formatException(ei))


def configure_logging(verbose: bool = False) -> Path:
    """Send the app's logs to a rotating file; returns its path. Idempotent."""
    folder = log_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOG_FILE
    root = logging.getLogger()
    for handler in root.handlers:
        if (
            isinstance(handler, logging.handlers.RotatingFileHandler)
            and Path(handler.baseFilename) == path
        ):
            return path
    handler = logging.handlers.RotatingFileHandler(
        path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8"
    )
    handler.setFormatter(
        _RedactingFormatter("%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s")
    )
    handler.addFilter(RedactSecrets())
    handler.setLevel(logging.DEBUG if verbose else logging.INFO)
    # The console keeps the level the CLI chose; only the file gets the app's details.
    console_level = root.level if root.level != logging.NOTSET else logging.WARNING
    for existing in root.handlers:
        if existing.level == logging.NOTSET:
            existing.setLevel(console_level)
    root.addHandler(handler)
    if root.level > handler.level or root.level == logging.NOTSET:
        root.setLevel(handler.level)
    # Chatty libraries stay at warnings; their debug lines can carry request headers.
    for name in ("httpx", "httpcore", "LiteLLM", "litellm", "urllib3", "docker", "keyring"):
        logging.getLogger(name).setLevel(logging.WARNING)
    return path


def remove_file_logging() -> None:
    """Close the file handler (tests and the smoke test delete the profile afterwards)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, logging.handlers.RotatingFileHandler):
            root.removeHandler(handler)
            handler.close()
