import os


def base_env() -> dict[str, str]:
    """Only what a subprocess needs to start: none of the suite's own test settings."""
    return {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "TMPDIR") if k in os.environ}
