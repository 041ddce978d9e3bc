"""Uploader: batches the lines of one writer and delivers them to the server in seq order.

Thread-safety: submit*() may be called from any thread; the rest from the owning run. One lazily
started daemon thread does all network I/O (sentry-python / analytics-python style).

Delivery invariants:
* Every line gets the writer's next seq (0, 1, 2, ...) when it is submitted; batches hold
  consecutive seqs and are sent strictly in order, one at a time, so the server's per-writer
  "skip seq <= highest stored" rule makes any retry idempotent and never skips a line.
* A batch is sealed at BATCH_MAX_LINES lines, BATCH_MAX_BYTES bytes, or BATCH_MAX_AGE seconds after
  its first line. Sealed batches wait in one ordered queue; each is in memory or, once spilled, a
  byte range of a spool segment. Either way it keeps its place in the queue.
* Memory is bounded (MEMORY_LIMIT_BYTES): past it, queued batches spill to disk. While the server
  is unreachable every batch spills, so a crash during an outage loses at most the open batch.
* 5xx/429/transport errors are retried forever with capped, jittered backoff (Retry-After is a
  minimum); other 4xx: one warning, the batch is skipped and counted as done.
* Never reached: when every attempt so far failed without an HTTP reply (no server there), the
  exit flush does not wait — the lines go to the spool at once for `wanllmdb sync`. The wait is
  only for uploads that were making progress.
* Heartbeat: after HEARTBEAT_INTERVAL without sending anything, an empty batch tells the server
  this writer is alive (it marks a run crashed when no writer is heard from; doc/api.md).
"""
from __future__ import annotations

import json
import json.encoder
import threading
import time
from collections import deque
from itertools import chain, repeat
from typing import Any, Callable, Deque, Dict, List, Optional, Tuple

from . import sdk_stderr
from .api_client import ApiClient, Response, TransportError
from .backoff import Backoff
from .spool import DiskRef, RunSpool, WriterSpool

BATCH_MAX_LINES = 1000
BATCH_MAX_BYTES = 1024 * 1024
BATCH_MAX_AGE = 0.15  # as the native uploader (src/capture/uploader.h, kBatchMaxAgeUs): why 150 ms
MEMORY_LIMIT_BYTES = 64 * 1024 * 1024
HEARTBEAT_INTERVAL = 30.0
_HEARTBEAT = object()  # what _next_batch returns when a heartbeat is due
# Per line JSON overhead ({"seq":..,"timestamp":..,"source":"stdout","message":""}), for byte limits.
_LINE_OVERHEAD = 80

# Lines submitted together share timestamp, source and level: (timestamp seconds, source,
# level or None, messages). Keeping them as one part avoids per-line Python work on the hot path.
# (timestamp, source, level, messages, extra): extra is JSON members every message of the part
# gets (structured.extra_members: level_name, fields), "" for none.
Part = Tuple[float, str, Optional[str], List[str], str]


def fresh_seq_base() -> int:
    """The first seq of a writer that may have had an earlier incarnation in the same run.

    The server skips any seq at or below the highest it stored for (run, writer). A process that
    joins a run under a name used before (rank-0 after an elastic restart, a resumed run, a reused
    pid) must therefore start above its predecessor: the wall clock in microseconds is, unless the
    predecessor wrote more than a million lines per second on average.
    """
    return time.time_ns() // 1000


class _Batch:
    """Consecutive lines of one writer: in memory (lines) or spilled (ref)."""

    __slots__ = ("first_seq", "lines", "nbytes", "ref", "count")

    def __init__(self, first_seq: int) -> None:
        self.first_seq = first_seq
        self.lines: Optional[List[Part]] = []
        self.nbytes = 0
        self.ref: Optional[DiskRef] = None
        self.count = 0

    @property
    def last_seq(self) -> int:
        return self.first_seq + self.count - 1


_encode_str = json.encoder.encode_basestring  # the C encoder: escapes quotes and controls, keeps UTF-8


def encode_batch(writer: str, first_seq: int, parts: List[Part]) -> bytes:
    """The POST .../logs/batch body (also the spool's batch record).

    Built from C-level iterators (zip/repeat/map/join) instead of a dict per line: this runs for
    every line printed, on a thread that competes with the user's code for the GIL.
    """
    chunks: List[str] = []
    seq = first_seq
    for ts, source, level, messages, extra in parts:
        n = len(messages)
        if n == 0:
            continue
        # Only numbers and fixed words go into `fields`; messages are JSON-encoded in C.
        fields = ',"timestamp":' + repr(float(ts)) + ',"source":' + _encode_str(source)
        if level is not None:
            fields += ',"level":' + _encode_str(level)
        fields += extra + ',"message":'
        lines = "".join(chain.from_iterable(
            zip(map(str, range(seq, seq + n)), repeat(fields), map(_encode_str, messages), repeat(_LINE_SEP))))
        chunks.append('{"seq":' + lines[: -len(_LINE_SEP)] + "}")
        seq += n
    body = '{"writer":' + _encode_str(writer) + ',"logs":[' + ",".join(chunks) + "]}"
    return body.encode("utf-8", "surrogatepass")


_LINE_SEP = '},{"seq":'


class Uploader:
    def __init__(self, *, run_body: Dict[str, Any], writer: str, base_url: str, api_key: Optional[str],
                 spool_root: str, offline: bool, run_created: bool, first_seq: int = 0) -> None:
        self._run_body = run_body
        self._run_id = str(run_body["id"])
        self._base_url = base_url
        self._api_key = api_key
        self._spool_run = RunSpool(spool_root, run_body)
        self._offline = offline
        self._init_state(writer, run_created, first_seq)
        if offline:
            # An offline run always has its directory, even when it prints nothing.
            self._spool.run.ensure()

    def _init_state(self, writer: str, run_created: bool, first_seq: int) -> None:
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        # Guarded by _lock:
        self.writer = writer
        self._spool = self._spool_run.writer(writer)
        self._next_seq = first_seq
        self._open: Optional[_Batch] = None
        self._open_since = 0.0
        self._queue: Deque[_Batch] = deque()
        self._mem_bytes = 0
        self._acked_seq = first_seq - 1
        self._outage = False
        self._stopping = False
        self._flush_requested = False
        self._thread: Optional[threading.Thread] = None
        self._run_created = run_created
        self._given_up = False  # the run cannot be created: everything stays in the spool
        self._skipped_lines = 0
        self._reached = False  # some request got an HTTP reply
        self._attempt_failed = False  # some request got no reply at all
        self._last_sent = time.monotonic()

    # ---- producer side (any thread; never raises, never blocks beyond the lock) ----

    def submit(self, message: str, source: str, level: Optional[str] = None,
               timestamp: Optional[float] = None) -> None:
        self.submit_lines([message], source, time.time() if timestamp is None else timestamp, level)

    def submit_lines(self, messages: List[str], source: str, timestamp: float, level: Optional[str] = None,
                     extra: str = "") -> None:
        """`extra`: structured.extra_members() of the messages (each message gets them)."""
        if not messages:
            return
        try:
            with self._lock:
                self._add_locked(messages, source, timestamp, level, extra)
        except Exception:
            pass  # the user's print() must never see an SDK error

    def _add_locked(self, messages: List[str], source: str, ts: float, level: Optional[str],
                    extra: str = "") -> None:
        if self._thread is None and not self._stopping:
            self._start_thread_locked()
        wake = False
        i = 0
        n = len(messages)
        while i < n:
            batch = self._open
            if batch is None:
                batch = self._open = _Batch(self._next_seq)
                self._open_since = time.monotonic()
                wake = True
            room = BATCH_MAX_LINES - batch.count
            take = messages[i:i + room] if (i or n - i > room) else messages
            nbytes = sum(map(len, take)) + (_LINE_OVERHEAD + len(extra)) * len(take)
            assert batch.lines is not None
            batch.lines.append((ts, source, level, take, extra))
            batch.count += len(take)
            batch.nbytes += nbytes
            self._mem_bytes += nbytes
            self._next_seq += len(take)
            i += len(take)
            if batch.count >= BATCH_MAX_LINES or batch.nbytes >= BATCH_MAX_BYTES:
                self._seal_locked()
                wake = True
        if self._mem_bytes > MEMORY_LIMIT_BYTES:
            self._spill_locked()
        if wake:
            self._cond.notify()

    def _seal_locked(self) -> None:
        if self._open is not None:
            self._queue.append(self._open)
            self._open = None

    # ---- spilling ----

    def _spill_locked(self) -> None:
        """Moves every in-memory queued batch to the spool, keeping its place in the queue.

        When the spool cannot be written either (disk full, no permission), memory still stays
        bounded: past twice the limit the oldest batches are dropped, with one warning.
        """
        for batch in self._queue:
            if batch.lines is not None:
                self._spill_batch_locked(batch)
        if self._mem_bytes > 2 * MEMORY_LIMIT_BYTES:
            dropped = 0
            while self._mem_bytes > MEMORY_LIMIT_BYTES and self._queue and self._queue[0].lines is not None:
                batch = self._queue.popleft()
                self._mem_bytes -= batch.nbytes
                batch.lines = None
                dropped += batch.count
            if dropped:
                sdk_stderr.say(f"dropped {dropped} lines: the server is unreachable, the spool cannot be written "
                               "and the memory limit is reached", once_key="dropped-lines")

    def _spill_batch_locked(self, batch: _Batch) -> None:
        assert batch.lines is not None
        try:
            batch.ref = self._spool.append(encode_batch(self.writer, batch.first_seq, batch.lines))
        except OSError as e:
            sdk_stderr.say(f"cannot write the spool in {self._spool.dir} ({e}); keeping lines in memory",
                           once_key="spool-write")
            return
        batch.lines = None
        self._mem_bytes -= batch.nbytes

    # ---- the upload thread ----

    def _start_thread_locked(self) -> None:
        t = threading.Thread(target=self._loop, name="wanllmdb-uploader", daemon=True)
        self._thread = t
        t.start()

    def ensure_started(self) -> None:
        with self._lock:
            if self._thread is None:
                self._start_thread_locked()

    def _next_batch(self) -> Optional[_Batch]:
        """Waits for the next batch to send; None when stopped and empty."""
        with self._cond:
            while True:
                if self._open is not None and (self._flush_requested or self._stopping or
                                               time.monotonic() - self._open_since >= BATCH_MAX_AGE):
                    self._seal_locked()
                if self._offline or self._given_up or self._outage:
                    # Whatever is queued goes to disk now: during an outage a crash loses nothing.
                    self._spill_locked()
                if self._queue and not (self._offline or self._given_up):
                    return self._queue[0]
                if self._offline or self._given_up:
                    while self._queue and self._queue[0].lines is None:
                        self._queue.popleft()
                    self._cond.notify_all()
                if self._stopping and not self._queue and self._open is None:
                    return None
                timeout: Optional[float] = None
                if self._open is not None:
                    timeout = max(0.0, BATCH_MAX_AGE - (time.monotonic() - self._open_since))
                elif self._reached and not (self._offline or self._given_up or self._outage or self._stopping):
                    timeout = self._last_sent + HEARTBEAT_INTERVAL - time.monotonic()
                    if timeout <= 0:
                        self._last_sent = time.monotonic()
                        return _HEARTBEAT  # type: ignore[return-value]
                self._cond.wait(timeout)

    def _loop(self) -> None:
        client = ApiClient(self._base_url, self._api_key, timeout=30.0)
        backoff = Backoff()
        while True:
            try:
                batch = self._next_batch()
                if batch is None:
                    return
                if batch is _HEARTBEAT:
                    self._send(client, lambda: client.post_batch(self._run_id, encode_batch(self.writer, 0, [])))
                    continue
                result = self._deliver(client, batch)
            except Exception as e:  # a bug here must not kill uploading for the rest of the run
                sdk_stderr.say(f"internal error in the uploader: {e!r}", once_key="uploader-bug")
                result = None
            if result is True:
                if self._outage:
                    sdk_stderr.say("server reachable again; uploading spooled lines")
                self._outage = False
                backoff.reset()
                continue
            if result is False:
                continue  # permanently refused and skipped, or a fallthrough to the spool
            # Retryable: keep the order by retrying the same head batch after a pause.
            with self._cond:
                self._outage = True
                self._spill_locked()
                deadline = time.monotonic() + backoff.next_delay(self._last_retry_after)
                # New lines wake us (notify) but must not cut the backoff short: keep waiting,
                # moving what arrives to disk so that a crash during the outage loses nothing.
                while True:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    self._cond.wait(remaining)
                    if self._open is not None and time.monotonic() - self._open_since >= BATCH_MAX_AGE:
                        self._seal_locked()
                    self._spill_locked()

    _last_retry_after: Optional[float] = None

    def _deliver(self, client: ApiClient, batch: _Batch) -> Optional[bool]:
        """Sends the head batch. True: acknowledged; False: skipped; None: retry later."""
        if not self._run_created and not self._create_run(client):
            return None if not self._given_up else False
        with self._lock:
            lines = batch.lines
            ref = batch.ref
        body = encode_batch(self.writer, batch.first_seq, lines) if lines is not None else WriterSpool.read(ref)  # type: ignore[arg-type]
        resp = self._send(client, lambda: client.post_batch(self._run_id, body))
        if resp is None:
            return None
        if resp.status == 404:
            # The run vanished (or its creation was lost): create it again once, then resend.
            self._run_created = False
            if not self._create_run(client):
                return None if not self._given_up else False
            resp = self._send(client, lambda: client.post_batch(self._run_id, body))
            if resp is None:
                return None
        if not resp.ok:
            self._skipped_lines += batch.count
            sdk_stderr.say(f"the server refused a batch of {batch.count} lines ({resp.error_text()}); "
                           "skipped it", once_key="refused-" + str(resp.status))
        self._ack(batch)
        return resp.ok

    def _send(self, client: ApiClient, call: Callable[[], Response]) -> Optional[Response]:
        """One attempt; None when it should be retried later."""
        self._last_retry_after = None
        try:
            resp = call()
        except TransportError as e:
            self._note_reply(False)
            self._warn_unreachable(str(e))
            return None
        self._note_reply(True)
        if resp.retryable:
            self._last_retry_after = resp.retry_after
            if resp.auth_refused:
                sdk_stderr.say(f"the server refused the API key ({resp.error_text()}); keeping output in "
                               f"{self._spool_run.dir}; upload it with a valid key: "
                               f"python -m wanllmdb sync {self._spool_run.dir}", once_key="auth-refused")
            else:
                self._warn_unreachable(resp.error_text())
            return None
        return resp

    def _note_reply(self, replied: bool) -> None:
        with self._cond:
            if replied:
                self._reached = True
                self._last_sent = time.monotonic()
            else:
                self._attempt_failed = True
            self._cond.notify_all()  # a flush may wait for the first outcome

    def note_unreachable(self) -> None:
        """The run's creation at init got no reply: the server was not there."""
        self._note_reply(False)

    @property
    def never_reached(self) -> bool:
        """Every request so far failed without a reply (nobody there to wait for)."""
        return self._attempt_failed and not self._reached

    def _warn_unreachable(self, why: str) -> None:
        sdk_stderr.say(f"cannot reach {self._base_url} ({why}); keeping output in {self._spool_run.dir} "
                       "and retrying", once_key="unreachable")

    def _create_run(self, client: ApiClient) -> bool:
        resp = self._send(client, lambda: client.create_run(self._run_body))
        if resp is None:
            return False
        if resp.ok:
            self._run_created = True
            return True
        sdk_stderr.say(f"the server refused to create run {self._run_id} ({resp.error_text()}); output stays in "
                       f"{self._spool_run.dir}", once_key="create-refused")
        with self._cond:
            self._given_up = True
        return False

    def _ack(self, batch: _Batch) -> None:
        with self._cond:
            if self._queue and self._queue[0] is batch:
                self._queue.popleft()
                if batch.lines is not None:
                    self._mem_bytes -= batch.nbytes
                    batch.lines = None
            self._acked_seq = batch.last_seq
            try:
                self._spool.set_acked(batch.last_seq)
            except OSError:
                pass
            self._cond.notify_all()

    # ---- control (the owning run) ----

    def pending_lines(self) -> int:
        with self._lock:
            return self._next_seq - 1 - self._acked_seq

    def flush(self, timeout: float, announce_after: Optional[float] = None) -> bool:
        """Waits until every submitted line is acknowledged (online) or on disk (offline).

        Returns False on timeout; then everything still queued is spilled to the spool.
        """
        deadline = time.monotonic() + timeout
        announced = False
        start = time.monotonic()
        with self._cond:
            if self._thread is None:
                if self._open is None and not self._queue:
                    return True
                self._start_thread_locked()
            self._flush_requested = True
            self._cond.notify_all()
            try:
                while self._open is not None or self._queue:
                    now = time.monotonic()
                    cap = self._deadline_cap
                    if cap is not None:
                        deadline = min(deadline, cap)
                    if now >= deadline or (self.never_reached and not self._offline):
                        self._seal_locked()
                        self._spill_locked()
                        return False
                    if announce_after is not None and not announced and now - start >= announce_after:
                        announced = True
                        n = self._next_seq - 1 - self._acked_seq
                        sdk_stderr.say(f"waiting for {n} lines to reach {self._base_url} "
                                       f"(up to {timeout:.0f} s)")
                    # Short waits: a deadline cap (cap_deadline) may arrive without a notify.
                    wait = min(deadline - now, 0.25)
                    if announce_after is not None and not announced:
                        wait = min(wait, max(0.01, start + announce_after - now))
                    self._cond.wait(wait)
                return True
            finally:
                self._flush_requested = False

    def cap_deadline(self, seconds: float) -> None:
        """Makes a flush under way give up within `seconds`. Safe from a signal handler (no lock)."""
        self._deadline_cap = time.monotonic() + seconds

    _deadline_cap: Optional[float] = None

    def close(self, timeout: float, announce_after: Optional[float] = None) -> bool:
        """Flushes and stops the thread. Returns False when lines were left in the spool."""
        ok = self.flush(timeout, announce_after)
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
            if not ok:
                self._spool.sync_to_disk()
        return ok

    @property
    def spool_dir(self) -> str:
        return str(self._spool_run.dir)

    @property
    def spool_used(self) -> bool:
        return self._spool.created

    def after_fork_child(self, writer: str) -> None:
        """In a fork child: a fresh writer with its own seqs, queue, thread and connection.

        The parent keeps uploading what it had queued; the child's copy of it is dropped.
        """
        run_created = self._run_created
        self._spool.forget()
        self._init_state(writer, run_created, fresh_seq_base())
