"""End to end, delivery side: volume, outages, offline + sync, fork, several writers."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest

from sdk_harness import SDK_DIR, Server, free_port


def _sync(spool: Path, server: Server) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(SDK_DIR))
    return subprocess.run([sys.executable, "-m", "wanllmdb", "sync", str(spool), "--base-url", server.url],
                          env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)


@pytest.mark.parametrize("console", ["wrap", "redirect"])
def test_burst_of_100k_lines_complete_in_order_without_duplicates(server: Server, run_script, console: str) -> None:
    run_id = str(uuid.uuid4())
    res = run_script(f"""
        import wanllmdb
        wanllmdb.init(project="burst", id="{run_id}", console="{console}")
        for i in range(100000):
            print(f"line {{i}}")
        wanllmdb.finish()
    """, server=server)
    assert res.returncode == 0, res
    lines = server.logs(run_id)
    assert [line["message"] for line in lines] == [f"line {i}" for i in range(100000)]
    assert server.run(run_id)["line_count"] == 100000


def test_server_killed_and_restarted_mid_run_loses_nothing(own_server: Server, run_script, tmp_path: Path) -> None:
    run_id = str(uuid.uuid4())
    marker = tmp_path / "progress"
    result = {}

    def run() -> None:
        result["res"] = run_script(f"""
            import time, wanllmdb
            wanllmdb.init(project="outage", id="{run_id}")
            for i in range(300):
                print(f"tick {{i}}")
                if i == 50:
                    open("{marker}", "w").close()
                time.sleep(0.01)
            wanllmdb.finish()
        """, server=own_server)

    t = threading.Thread(target=run)
    t.start()
    deadline = time.monotonic() + 30
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert marker.exists()
    own_server.kill()
    time.sleep(1.5)  # the script keeps printing into the spool meanwhile
    own_server.start()
    t.join(90)
    res = result["res"]
    assert res.returncode == 0, res
    assert res.stderr.count("cannot reach") == 1, res
    assert [line["message"] for line in own_server.logs(run_id)] == [f"tick {i}" for i in range(300)]
    assert own_server.run(run_id)["state"] == "finished"
    # The outage went through the spool, and the replay was acknowledged to the last line.
    writer_dir = res.spool / run_id / "writers" / "main"
    assert list(writer_dir.glob("*.jsonl"))
    assert json.loads((writer_dir / "acked.json").read_text())["seq"] == 299


def test_offline_then_sync_twice_uploads_exactly_once(server: Server, run_script) -> None:
    run_id = str(uuid.uuid4())
    res = run_script(f"""
        import logging, wanllmdb
        run = wanllmdb.init(project="offline", id="{run_id}", mode="offline")
        for i in range(2500):
            print(f"offline {{i}}")
        logging.error("offline error")
        wanllmdb.finish()
    """, server=server)
    assert res.returncode == 0, res
    assert "python -m wanllmdb sync" in res.stderr
    assert server.status("/runs/" + run_id) == 404  # offline: nothing was sent
    run_dir = res.spool / run_id
    assert json.loads((run_dir / "run.json").read_text())["id"] == run_id
    for attempt in range(2):
        sync = _sync(res.spool, server)
        assert sync.returncode == 0, sync
        lines = server.logs(run_id)
        assert [line["message"] for line in lines] == [f"offline {i}" for i in range(2500)] + ["ERROR:root:offline error"]
        assert lines[-1]["level"] == "ERROR" and lines[-1]["source"] == "user"
    assert b"0 lines uploaded" in sync.stdout
    assert server.run(run_id)["state"] == "finished"


def test_server_down_at_init_warns_once_and_spools(server: Server, run_script) -> None:
    run_id = str(uuid.uuid4())
    dead_url = f"http://127.0.0.1:{free_port()}"
    res = run_script(f"""
        import wanllmdb
        wanllmdb.init(project="down", id="{run_id}")
        for i in range(100):
            print(f"unsent {{i}}")
        print("done")
    """, env={"WANLLMDB_BASE_URL": dead_url, "WANLLMDB_EXIT_TIMEOUT": "2"})
    assert res.returncode == 0, res
    assert "unsent 99\ndone\n" in res.stdout
    assert res.stderr.count("cannot reach") == 1, res
    # The server was never reached: no wait for it at exit (issue 9), straight to the spool.
    assert "waiting for" not in res.stderr and "python -m wanllmdb sync" in res.stderr
    sync = _sync(res.spool, server)
    assert sync.returncode == 0, sync
    assert [line["message"] for line in server.logs(run_id)] == [f"unsent {i}" for i in range(100)] + ["done"]
    assert server.run(run_id)["state"] == "finished"


@pytest.mark.parametrize("console", ["wrap", "redirect"])
def test_fork_child_output_is_captured(server: Server, run_script, console: str) -> None:
    """wrap: the child writes into the run as its own writer pid-N. redirect: its fds 1/2 lead into
    the parent's capture, so its lines are the parent's (the SDK stays out of the child's way)."""
    run_id = str(uuid.uuid4())
    res = run_script(f"""
        import os, sys, warnings, wanllmdb
        warnings.simplefilter("ignore", DeprecationWarning)  # 3.12+: fork() in a threaded process
        wanllmdb.init(project="fork", id="{run_id}", console="{console}")
        print("parent before fork")
        pid = os.fork()
        if pid == 0:
            for i in range(20):
                print(f"child {{i}}")
            sys.exit(0)
        os.waitpid(pid, 0)
        print(f"parent after fork child={{pid}}")
        wanllmdb.finish()
    """, server=server)
    assert res.returncode == 0, res
    child_pid = int(res.stdout.split("child=")[1].split()[0])
    lines = server.logs(run_id)
    got = Counter((line["writer"], line["message"]) for line in lines)
    expected = Counter({("main", "parent before fork"): 1, ("main", f"parent after fork child={child_pid}"): 1})
    child_writer = f"pid-{child_pid}" if console == "wrap" else "main"
    expected.update({(child_writer, f"child {i}"): 1 for i in range(20)})
    assert got == expected, lines
    assert server.run(run_id)["state"] == "finished"


def test_processes_joining_by_run_id_get_rank_writers(server: Server, run_script) -> None:
    run_id = str(uuid.uuid4())
    res = run_script(f"""
        import os, subprocess, sys, wanllmdb
        wanllmdb.init(project="ranks", id="{run_id}", console="wrap")
        print("from main")
        for rank in range(2):
            env = dict(os.environ, WANLLMDB_RUN_ID="{run_id}", RANK=str(rank))
            subprocess.run([sys.executable, "-c",
                            "import wanllmdb, os; wanllmdb.init(project='ranks'); print('hello from', os.environ['RANK'])"],
                           env=env, check=True)
        wanllmdb.finish()
    """, server=server)
    assert res.returncode == 0, res
    got = Counter((line["writer"], line["message"]) for line in server.logs(run_id))
    assert got == Counter({("main", "from main"): 1, ("rank-0", "hello from 0"): 1, ("rank-1", "hello from 1"): 1})
    assert server.run(run_id)["state"] == "finished"


def test_a_restarted_rank_joining_again_loses_nothing(server: Server, run_script) -> None:
    """An elastic restart: rank 0 joins the same run twice under the same writer name. Its second
    incarnation must not have its lines skipped as duplicates of the first one's seqs."""
    run_id = str(uuid.uuid4())
    res = run_script(f"""
        import os, subprocess, sys, wanllmdb
        wanllmdb.init(project="restart", id="{run_id}", console="wrap")
        for attempt in range(2):
            env = dict(os.environ, WANLLMDB_RUN_ID="{run_id}", RANK="0")
            code = "import wanllmdb; wanllmdb.init(); [print('attempt %d line %d' % ({{a}}, i)) for i in range(3)]"
            subprocess.run([sys.executable, "-c", code.format(a=attempt)], env=env, check=True)
        wanllmdb.finish()
    """, server=server)
    assert res.returncode == 0, res
    got = [(line["writer"], line["message"]) for line in server.logs(run_id)]
    assert got == [("rank-0", f"attempt {a} line {i}") for a in range(2) for i in range(3)]


def test_sigterm_flushes_and_marks_the_run_crashed(server: Server, tmp_path: Path) -> None:
    run_id = str(uuid.uuid4())
    script = tmp_path / "term.py"
    marker = tmp_path / "ready"
    script.write_text(f"""
import time, wanllmdb
wanllmdb.init(project="term", id="{run_id}")
for i in range(50):
    print(f"before the signal {{i}}")
open("{marker}", "w").close()
time.sleep(60)
""")
    env = {k: v for k, v in os.environ.items() if not k.startswith("WANLLMDB_")}
    env.update(PYTHONPATH=str(SDK_DIR), WANLLMDB_BASE_URL=server.url, WANLLMDB_DIR=str(tmp_path / "spool"))
    proc = subprocess.Popen([sys.executable, str(script)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.terminate()
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == -15, err  # it still dies of SIGTERM
    assert [line["message"] for line in server.logs(run_id)] == [f"before the signal {i}" for i in range(50)]
    run = server.run(run_id)
    assert run["state"] == "crashed" and run["exit_code"] == 143


@pytest.mark.parametrize("console", ["wrap", "redirect"])
def test_multiprocessing_pool_workers_are_captured(server: Server, run_script, console: str) -> None:
    """redirect: the workers' fds lead into the parent's capture, so even workers that
    Pool.terminate() kills have their lines stored (as the parent's). wrap: each worker is its own
    writer and flushes at its normal end (close + join); a worker killed by SIGTERM loses what
    it had not sent, as it loses what it had not flushed without the SDK (no handler of ours in
    a child: issue 9)."""
    run_id = str(uuid.uuid4())
    ending = "pool.close(); pool.join()" if console == "wrap" else "pass"
    res = run_script(f"""
        import multiprocessing as mp, os, warnings, wanllmdb
        warnings.simplefilter("ignore", DeprecationWarning)
        def work(n):
            print(f"task {{n}} in {{os.getpid()}}")
            return n
        if __name__ == "__main__":
            wanllmdb.init(project="pool", id="{run_id}", console="{console}")
            with mp.get_context("fork").Pool(2) as pool:  # __exit__ terminates the workers
                print("results", pool.map(work, range(6)))
                {ending}
            wanllmdb.finish()
    """, server=server)
    assert res.returncode == 0, res
    lines = server.logs(run_id)
    tasks = sorted(line["message"].split()[1] for line in lines if line["message"].startswith("task "))
    assert tasks == [str(n) for n in range(6)], lines
    for line in lines:
        if line["message"].startswith("task "):
            assert line["writer"] == ("pid-" + line["message"].split()[-1] if console == "wrap" else "main")
    assert ("main", "results [0, 1, 2, 3, 4, 5]") in [(line["writer"], line["message"]) for line in lines]
    assert server.run(run_id)["state"] == "finished"


def test_api_key_is_sent_and_a_wrong_key_keeps_everything_for_sync(tmp_path: Path, run_script) -> None:
    """401/403 are an outage, not a bad batch: a rotated key must not drop the run; one warning
    names the spool and the sync command, and `sync` with a good key uploads everything."""
    srv = Server(tmp_path / "keyed-data", extra_args=["--api-key", "s3cret"])
    srv.start()
    try:
        good, bad = str(uuid.uuid4()), str(uuid.uuid4())
        code = """
            import wanllmdb
            wanllmdb.init(project="keyed", id="{run_id}")
            print("with a key")
        """
        res = run_script(code.format(run_id=good), server=srv, env={"WANLLMDB_API_KEY": "s3cret"})
        assert res.returncode == 0 and "wanllmdb:" not in res.stderr, res
        assert [line["message"] for line in srv.logs(good)] == ["with a key"]
        res = run_script(code.format(run_id=bad), server=srv, env={"WANLLMDB_API_KEY": "wrong",
                                                                 "WANLLMDB_EXIT_TIMEOUT": "1"})
        assert res.returncode == 0 and "with a key" in res.stdout, res
        assert res.stderr.count("refused the API key") == 1 and "403" in res.stderr, res
        assert "wanllmdb sync" in res.stderr, res
        assert srv.status("/runs/" + bad) == 404
        assert list((res.spool / bad / "writers" / "main").glob("*.jsonl"))  # kept for a later sync
        env = dict(os.environ, PYTHONPATH=str(SDK_DIR), WANLLMDB_API_KEY="s3cret")
        synced = subprocess.run([sys.executable, "-m", "wanllmdb", "sync", str(res.spool),
                                 "--base-url", srv.url], env=env, capture_output=True, text=True,
                                timeout=120)
        assert synced.returncode == 0, synced
        assert [line["message"] for line in srv.logs(bad)] == ["with a key"]
    finally:
        srv.stop()
