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
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}"}
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
