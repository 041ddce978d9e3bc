"""Settings of one run: init() arguments merged with the WANLLMDB_* environment, validated once.

An explicit argument wins over the environment, the environment over the default. Invalid
arguments are the only errors the SDK raises into user code (ValueError / TypeError), and only here.
"""
from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence

DEFAULT_BASE_URL = "http://127.0.0.1:8080"
DEFAULT_DIR = "./wanllmdb"
MODES = ("online", "offline", "disabled")
CONSOLE_MODES = ("auto", "wrap", "redirect", "off")
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


@dataclass(frozen=True)
class Settings:
    """Immutable, validated configuration of one run."""

    project: str
    run_id: str
    name: Optional[str]
    config: Optional[Dict[str, Any]]
    tags: Optional[List[str]]
    resume: bool
    # True when this process joins a run another process created (WANLLMDB_RUN_ID, resume=True).
    joining: bool
    # True when run_id was generated here (so the run cannot exist yet).
    generated_id: bool
    # False when the project is the default (a joining process then uses the run's own project).
    project_given: bool
    capture_logs: bool
    console: str
    mode: str
    base_url: str
    api_key: Optional[str]
    spool_dir: str
    # How long the exit flush may wait for the server (WANLLMDB_EXIT_TIMEOUT, default 30 s).
    exit_timeout: float = 30.0
    writer_env: Mapping[str, str] = field(default_factory=dict)

    @property
    def run_url(self) -> str:
        return self.base_url + "/runs/" + self.run_id

    def run_body(self) -> Dict[str, Any]:
        """The POST /runs body (also stored as the spool's run.json)."""
        body: Dict[str, Any] = {"project": self.project, "id": self.run_id}
        if self.name is not None:
            body["name"] = self.name
        if self.config is not None:
            body["config"] = self.config
        if self.tags is not None:
            body["tags"] = self.tags
        return body


# The variables launchers set for each process they start, global ranks first (the same order as
# `wanllmdb run`'s src/capture/launcher_rank.h): torchrun/accelerate/DeepSpeed, srun, Open MPI,
# MPICH/Intel MPI, then a node-local rank.
RANK_VARIABLES = ("RANK", "SLURM_PROCID", "OMPI_COMM_WORLD_RANK", "PMI_RANK", "LOCAL_RANK")


def launcher_rank(env: Mapping[str, str]) -> Optional[int]:
    """This process's rank from the first launcher variable holding a whole number, else None."""
    for name in RANK_VARIABLES:
        value = env.get(name, "").strip()
        if value.isdigit():
            return int(value)
    return None


def joined_writer_name(env: Mapping[str, str], pid: int) -> str:
    """The writer of a process that joins an existing run: rank-N from the launcher's rank
    variable (RANK_VARIABLES), else pid-N."""
    rank = launcher_rank(env)
    if rank is not None:
        return f"rank-{rank}"
    return "pid-" + str(pid)


def _opt_str(name: str, value: Any) -> Optional[str]:
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(f"wanllmdb.init: {name} must be a str or None, not {type(value).__name__}")
    return value


def _check_uuid(value: str, where: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise ValueError(f"wanllmdb.init: {where} must be a UUID, got {value!r}") from None


def resolve_settings(
    *,
    project: Optional[str],
    name: Optional[str],
    config: Optional[Mapping[str, Any]],
    tags: Optional[Sequence[str]],
    id: Optional[str],
    resume: bool,
    capture_logs: bool,
    console: str,
    base_url: Optional[str],
    api_key: Optional[str],
    mode: Optional[str],
    env: Optional[Mapping[str, str]] = None,
) -> Settings:
    """Validates init() arguments and fills the rest from the environment."""
    env = os.environ if env is None else env

    project = _opt_str("project", project)
    project_given = project is not None or bool(env.get("WANLLMDB_PROJECT"))
    if project is None:
        project = env.get("WANLLMDB_PROJECT") or "uncategorized"
    if not project.strip():
        raise ValueError("wanllmdb.init: project must not be empty")
    name = _opt_str("name", name)
    if config is not None:
        if not isinstance(config, Mapping):
            raise TypeError(f"wanllmdb.init: config must be a dict or None, not {type(config).__name__}")
        try:
            # A round trip makes the stored config independent of later changes by the caller.
            config = json.loads(json.dumps(dict(config), default=str))
        except (TypeError, ValueError) as e:
            raise ValueError(f"wanllmdb.init: config is not JSON-serializable: {e}") from None
    if tags is not None:
        if isinstance(tags, (str, bytes)) or not isinstance(tags, Sequence):
            raise TypeError("wanllmdb.init: tags must be a list of str or None")
        for t in tags:
            if not isinstance(t, str):
                raise TypeError(f"wanllmdb.init: every tag must be a str, not {type(t).__name__}")
    if not isinstance(resume, bool):
        raise TypeError("wanllmdb.init: resume must be a bool")
    if not isinstance(capture_logs, bool):
        raise TypeError("wanllmdb.init: capture_logs must be a bool")

    console = _opt_str("console", console) or "auto"
    if console == "auto" and env.get("WANLLMDB_CONSOLE"):
        console = env["WANLLMDB_CONSOLE"].strip().lower()
    if console not in CONSOLE_MODES:
        raise ValueError(f"wanllmdb.init: console must be one of {', '.join(CONSOLE_MODES)}, got {console!r}")

    mode = _opt_str("mode", mode)
    if mode is None:
        mode = (env.get("WANLLMDB_MODE") or "online").strip().lower()
    if mode not in MODES:
        raise ValueError(f"wanllmdb.init: mode must be one of {', '.join(MODES)}, got {mode!r}")

    base_url = _opt_str("base_url", base_url) or env.get("WANLLMDB_BASE_URL") or DEFAULT_BASE_URL
    base_url = base_url.rstrip("/")
    if not (base_url.startswith("http://") or base_url.startswith("https://")):
        raise ValueError(f"wanllmdb.init: base_url must start with http:// or https://, got {base_url!r}")
    api_key = _opt_str("api_key", api_key) or env.get("WANLLMDB_API_KEY") or None

    run_id = _opt_str("id", id)
    env_run_id = env.get("WANLLMDB_RUN_ID", "").strip()
    joining = resume
    generated_id = False
    if run_id is not None:
        run_id = _check_uuid(run_id, "id")
    elif env_run_id:
        run_id = _check_uuid(env_run_id, "WANLLMDB_RUN_ID")
        joining = True
    else:
        run_id = str(uuid.uuid4())
        generated_id = True
        if resume:
            raise ValueError("wanllmdb.init: resume=True needs id= (or WANLLMDB_RUN_ID)")

    try:
        exit_timeout = float(env.get("WANLLMDB_EXIT_TIMEOUT") or 30.0)
    except ValueError:
        raise ValueError("WANLLMDB_EXIT_TIMEOUT must be a number of seconds") from None

    return Settings(
        project=project,
        run_id=run_id,
        name=name,
        config=dict(config) if config is not None else None,
        tags=list(tags) if tags is not None else None,
        resume=resume,
        joining=joining,
        generated_id=generated_id,
        project_given=project_given,
        capture_logs=capture_logs,
        console=console,
        mode=mode,
        base_url=base_url,
        api_key=api_key,
        # Absolute now: a script that changes directory later must not scatter its spool.
        spool_dir=os.path.abspath(env.get("WANLLMDB_DIR") or DEFAULT_DIR),
        exit_timeout=max(0.0, exit_timeout),
        writer_env={name: env.get(name, "") for name in RANK_VARIABLES},
    )
