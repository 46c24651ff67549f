import contextlib
import os
import signal
import socket
import subprocess
import sys

import httpx

from tests.waiting import wait_until


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_demo_migrates_loads_demo_data_and_answers_http(tmp_path):
    port = free_port()
    # Out of the box: no COUNTERMAND_SECRET_KEY (production mode refuses that, the demo does not).
    env = {k: v for k, v in os.environ.items() if k != "COUNTERMAND_SECRET_KEY"}
    env = {**env, "DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}"}
    # Output goes to a file: an unread pipe fills up and blocks the server's log writes.
    log_path = tmp_path / "serve.log"
    log = log_path.open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "countermand", "serve", "--demo", "--port", str(port), "--workers", "1"],
        cwd=tmp_path,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:

        def answering() -> bool:
            assert proc.poll() is None, log_path.read_text()[-3000:]
            try:
                httpx.get(f"http://127.0.0.1:{port}/", timeout=2)
            except httpx.TransportError:
                return False
            return True

        wait_until(answering, timeout=60, interval=0.3, message="serve answers HTTP")
        response = httpx.get(f"http://127.0.0.1:{port}/", timeout=5)
        assert response.status_code == 200
        assert "Countermand" in response.text
        check = subprocess.run(
            [sys.executable, "-m", "countermand", "check"], cwd=tmp_path, env=env, capture_output=True, text=True
        )
        assert check.returncode == 0, check.stdout + check.stderr
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=40)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise AssertionError("serve did not stop on Ctrl-C:\n" + log_path.read_text()[-3000:]) from None
        finally:
            log.close()


def test_gunicorn_lets_request_lines_up_to_its_maximum_reach_django():
    from countermand.core.management.commands.web import gunicorn_command

    command = gunicorn_command("127.0.0.1", 8000, 1)
    assert command[command.index("--limit-request-line") + 1] == "8190"


def descendants(pid: int) -> set[int]:
    """The live processes below `pid` (children, grandchildren…), read from /proc."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[0] != "Z":
                parents[int(entry)] = int(fields[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_serve_killed_with_sigkill_takes_its_children_along_and_restarts_on_the_same_port(tmp_path):
    port = free_port()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}"}
    command = [sys.executable, "-m", "countermand", "serve", "--port", str(port), "--workers", "1"]
    log_path = tmp_path / "serve.log"

    def start() -> subprocess.Popen:
        with log_path.open("a") as log:
            return subprocess.Popen(command, cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)

    def answering(proc: subprocess.Popen) -> bool:
        assert proc.poll() is None, log_path.read_text()[-3000:]
        try:
            return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    first = start()
    second = None
    children: set[int] = set()
    try:
        wait_until(lambda: answering(first), timeout=60, interval=0.3, message=lambda: log_path.read_text()[-3000:])
        children = descendants(first.pid)
        assert len(children) >= 3, children  # gunicorn's master and worker, the integration worker

        first.kill()  # SIGKILL: no handler runs, nothing is stopped by serve itself
        first.wait(timeout=10)
        wait_until(
            lambda: not any(alive(pid) for pid in children),
            timeout=30,
            message=lambda: f"children of the killed serve still running: {[p for p in children if alive(p)]}",
        )

        second = start()
        wait_until(lambda: answering(second), timeout=60, interval=0.3, message=lambda: log_path.read_text()[-3000:])
        assert "Connection in use" not in log_path.read_text()
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGINT)
                try:
                    proc.wait(timeout=40)
                except subprocess.TimeoutExpired:
                    proc.kill()
        for pid in children:  # left running only when the test failed
            if alive(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
