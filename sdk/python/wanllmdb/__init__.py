"""wanLLMDB SDK: capture what a training run prints and logs, and stream it to a wanLLMDB server.

    import wanllmdb
    with wanllmdb.init(project="mnist", config={"lr": 1e-3}) as run:
        print("epoch 1 loss 0.3")            # captured (stdout)
        logging.warning("lr too high")        # captured once, level WARNING, source "user"
        run.log_message("checkpoint saved")   # source "user"
    print(run.url)

Environment: WANLLMDB_BASE_URL, WANLLMDB_API_KEY, WANLLMDB_MODE (online|offline|disabled),
WANLLMDB_CONSOLE (auto|wrap|redirect|off), WANLLMDB_DIR (spool, default ./wanllmdb),
WANLLMDB_RUN_ID (join an existing run as writer rank-N / pid-N), WANLLMDB_PROJECT.
"""
from __future__ import annotations

from typing import Any, Mapping, Optional, Sequence, Union

from . import current_run, sdk_stderr
from ._version import __version__
from .run import DisabledRun, Run
from .settings import resolve_settings

__all__ = ["init", "finish", "run", "Run", "DisabledRun", "__version__"]

# The current run (None when there is none); kept up to date by current_run.
run: Optional[Union[Run, DisabledRun]] = None


def init(
    project: Optional[str] = None,
    name: Optional[str] = None,
    config: Optional[Mapping[str, Any]] = None,
    tags: Optional[Sequence[str]] = None,
    id: Optional[str] = None,
    resume: bool = False,
    capture_logs: bool = True,
    console: str = "auto",
    base_url: Optional[str] = None,
    api_key: Optional[str] = None,
    mode: Optional[str] = None,
) -> Union[Run, DisabledRun]:
    """Starts (or joins / resumes) a run and begins capturing this process's output.

    capture_logs: upload `logging` records (with their level, source "user").
    console: "auto" | "wrap" | "redirect" | "off" — how stdout/stderr are captured.
    Raises ValueError/TypeError for invalid arguments; never for server or I/O trouble.
    A run that is still active in this process is finished first.
    """
    settings = resolve_settings(project=project, name=name, config=config, tags=tags, id=id, resume=resume,
                                capture_logs=capture_logs, console=console, base_url=base_url,
                                api_key=api_key, mode=mode)
    previous = current_run.get()
    if previous is not None:
        previous.finish()
    if settings.mode == "disabled":
        disabled = DisabledRun(settings)
        current_run.set_current(disabled)
        return disabled
    new_run = Run(settings)
    try:
        new_run._start()
    except Exception as e:  # never into user code: the script runs on, uncaptured
        sdk_stderr.say(f"could not start the run ({e!r}); continuing without wanllmdb")
        disabled = DisabledRun(settings)
        current_run.set_current(disabled)
        return disabled
    current_run.set_current(new_run)
    return new_run


def finish(exit_code: int = 0) -> None:
    """Finishes the current run (if any): flush, then state finished (0) or failed (non-zero)."""
    current = current_run.get()
    if current is not None:
        current.finish(exit_code)
