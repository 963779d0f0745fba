"""Runs ``melody dev`` as a subprocess, as a developer would, and reads its console."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

from melody.local.services import free_port


class DevStack:
    def __init__(self, data_dir: Path, *, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.lines: list[str] = []
        self._ready = threading.Event()
        melody = Path(sys.executable).with_name("melody")
        self.process = subprocess.Popen(
            [str(melody), "dev", "--port", str(self.port), "--data-dir", str(data_dir)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **(env or {})},
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line.rstrip("\n"))
            if "listening on" in line:
                self._ready.set()

    def wait_ready(self, timeout: float = 120) -> None:
        if not self._ready.wait(timeout):
            self.stop()
            raise RuntimeError("melody dev did not start:\n" + "\n".join(self.lines[-40:]))

    def otp_code(self, phone_e164: str, timeout: float = 10) -> str:
        pattern = re.compile(rf"^otp phone={re.escape(phone_e164)} code=(\d{{6}})$")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in reversed(self.lines):
                match = pattern.match(line)
                if match:
                    return match.group(1)
            time.sleep(0.05)
        raise AssertionError(f"no code printed for {phone_e164}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
