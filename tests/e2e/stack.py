"""Runs ``melody dev`` as a subprocess, as a developer would, and reads its console.

One implementation for every end-to-end test (HTTP and browser) and for the benchmarks.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from melody_dev.local.standins import free_port


class DevStack:
    def __init__(self, data_dir: Path, *, env: dict[str, str] | None = None) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.lines: list[str] = []
        self._cond = threading.Condition()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "melody_dev.cli", "dev", "--port", str(self.port), "--data-dir", str(data_dir)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
        )
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            with self._cond:
                self.lines.append(line.rstrip("\n"))
                self._cond.notify_all()
        with self._cond:  # end of output: the process exited, wake up whoever waits for a line
            self._cond.notify_all()

    def mark(self) -> int:
        with self._cond:
            return len(self.lines)

    def wait_for(self, pattern: re.Pattern[str], *, since: int = 0, timeout: float = 30.0, newest: bool = False) -> re.Match[str]:
        """The first (or newest) line after ``since`` matching ``pattern``, waiting for it."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [m for m in map(pattern.search, self.lines[since:]) if m]
                if found:
                    return found[-1] if newest else found[0]
                if self.process.poll() is not None:
                    raise RuntimeError("melody dev exited:\n" + "\n".join(self.lines[-40:]))
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no line matching {pattern.pattern!r} on melody dev's stderr")
                # Poll too: a child it started (PostgreSQL) may hold the stderr pipe open after it exits.
                self._cond.wait(min(left, 0.5))

    def wait_ready(self, timeout: float = 180) -> None:
        """The ``listening on`` line, then an answer from the health route."""
        try:
            self.wait_for(re.compile(r"listening on"), timeout=timeout)
            deadline = time.monotonic() + 60
            while True:
                try:
                    self.request("GET", "/api/v1/system/health")
                    return
                except (urllib.error.URLError, ConnectionError, TimeoutError):
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.25)
        except Exception:
            self.stop()
            raise

    def otp_code(self, phone_e164: str, *, since: int = 0, timeout: float = 20.0) -> str:
        pattern = re.compile(rf"^otp phone={re.escape(phone_e164)} code=(\d{{6}})$")
        return self.wait_for(pattern, since=since, timeout=timeout, newest=True).group(1)

    def request(self, method: str, path: str, body: dict | None = None, token: str | None = None) -> tuple[int, dict | None]:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base_url + path, data=data, method=method)
        req.add_header("Accept", "application/json")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                raw = resp.read()
                return resp.status, (json.loads(raw) if raw else None)
        except urllib.error.HTTPError as err:
            raw = err.read()
            try:
                return err.code, json.loads(raw)
            except ValueError:
                return err.code, None

    def login_api(self, phone_national: str) -> dict:
        since = self.mark()
        status, body = self.request("POST", "/api/v1/auth/request-otp", {"phone_number": phone_national, "country_code": "+91"})
        assert status == 202, body
        code = self.otp_code("+91" + phone_national, since=since)
        status, tokens = self.request("POST", "/api/v1/auth/verify-otp", {"challenge_id": body["challenge_id"], "code": code})
        assert status == 200, tokens
        return tokens

    def route_missing(self, method: str, path: str, token: str | None, body: dict | None = None) -> bool:
        """True when the server has no such route (its generic 404/405), not a resource 404."""
        status, payload = self.request(method, path, body, token)
        if status == 405:
            return True
        if status != 404:
            return False
        message = ((payload or {}).get("error") or {}).get("message", "")
        return message.strip().lower() == "not found"

    def stop(self) -> None:
        """SIGTERM, as a developer's terminal or a supervisor would; ``melody dev`` stops what it
        started (its embedded PostgreSQL included). If it has to be killed, its PostgreSQL is
        stopped here, so no test run leaves a postmaster behind."""
        from melody_dev.local.standins import stop_embedded_postgres

        if self.process.poll() is None:
            self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        stop_embedded_postgres(self.data_dir / "postgres")
