"""A page opened in a real headless Chromium, driven over the DevTools protocol on 127.0.0.1.

One browser per call, in its own profile directory, killed on the way out; every wait is bounded.
What a test gets back: the console's errors (console.error, uncaught exceptions, and the browser's
own log errors such as a Content-Security-Policy refusal), the page's visible text, and a full-page
screenshot.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import os
import shutil
import signal
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest

CHROMIUM_NAMES = ("chromium", "chromium-browser")


def chromium() -> str:
    """The browser's path; a skip when there is none here, a failure in CI (which installs it)."""
    found = next((path for name in CHROMIUM_NAMES if (path := shutil.which(name))), None)
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing in CI: .ci/run installs it (apt-get install chromium)")
        pytest.skip("chromium is not installed (apt-get install chromium); CI runs this test")
    return found


@dataclass
class Page:
    errors: list[str] = field(default_factory=list)
    text: str = ""
    png: bytes = b""


class _DevTools:
    def __init__(self, socket: aiohttp.ClientWebSocketResponse) -> None:
        self.socket = socket
        self.ids = itertools.count(1)
        self.events: list[dict[str, Any]] = []

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        call_id = next(self.ids)
        await self.socket.send_json({"id": call_id, "method": method, "params": params})
        while True:
            message = await self.socket.receive_json()
            if message.get("id") == call_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return dict(message.get("result", {}))
            self.events.append(message)

    async def until(self, method: str) -> None:
        while not any(event.get("method") == method for event in self.events):
            self.events.append(await self.socket.receive_json())


def _errors(events: list[dict[str, Any]]) -> list[str]:
    errors = []
    for event in events:
        params = event.get("params", {})
        if event.get("method") == "Runtime.exceptionThrown":
            errors.append(json.dumps(params.get("exceptionDetails", {}))[:500])
        elif event.get("method") == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            errors.append(json.dumps(params.get("args", []))[:500])
        elif event.get("method") == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            errors.append(str(params["entry"].get("text", ""))[:500])
    return errors


async def _open(binary: str, url: str, width: int, profile: Path, until_text: str = "") -> Page:
    browser = await asyncio.create_subprocess_exec(
        binary,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--remote-debugging-address=127.0.0.1",
        "--remote-debugging-port=0",  # a free port, written to DevToolsActivePort
        f"--user-data-dir={profile}",
        "about:blank",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
        start_new_session=True,  # its renderer and helper processes form one group, stopped together
    )
    try:
        active = profile / "DevToolsActivePort"
        while not active.is_file() or not active.read_text().strip():
            if browser.returncode is not None:
                raise RuntimeError(f"chromium exited with {browser.returncode} before it listened")
            await asyncio.sleep(0.05)
        port = int(active.read_text().split()[0])
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{port}/json/list") as listing:
                targets = await listing.json()
            page_socket = next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page")
            async with session.ws_connect(page_socket, max_msg_size=0) as socket:
                devtools = _DevTools(socket)
                for domain in ("Runtime", "Log", "Page"):
                    await devtools.call(f"{domain}.enable")
                await devtools.call(
                    "Emulation.setDeviceMetricsOverride",
                    width=width,
                    height=900,
                    deviceScaleFactor=1,
                    mobile=False,
                )
                await devtools.call("Page.navigate", url=url)
                await devtools.until("Page.loadEventFired")
                while True:  # until the page's own work after its load has written ``until_text``
                    evaluated = await devtools.call(
                        "Runtime.evaluate", expression="document.body.innerText", returnByValue=True
                    )
                    if until_text in str(evaluated["result"].get("value", "")):
                        break
                    await asyncio.sleep(0.05)
                size = (await devtools.call("Page.getLayoutMetrics"))["cssContentSize"]
                shot = await devtools.call(
                    "Page.captureScreenshot",
                    format="png",
                    captureBeyondViewport=True,
                    clip={"x": 0, "y": 0, "width": width, "height": size["height"], "scale": 1},
                )
                # Messages logged after the load arrive before the answer to one more call.
                await asyncio.sleep(0.2)
                await devtools.call("Runtime.evaluate", expression="1")
                return Page(
                    errors=_errors(devtools.events),
                    text=str(evaluated["result"].get("value", "")),
                    png=base64.b64decode(shot["data"]),
                )
    finally:
        # The whole group: a helper left running would still write to the profile being removed.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(browser.pid, signal.SIGKILL)
        await browser.wait()
        await _gone(browser.pid)


async def _gone(group: int, timeout: float = 5.0) -> None:
    """Wait (bounded) until no process of ``group`` is left."""
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return
        await asyncio.sleep(0.05)


def open_page(path: Path, *, width: int = 1280, timeout: float = 60.0) -> Page:
    """Load ``path`` (a local file) and collect what the console said, its text and a screenshot."""
    return open_url(path.resolve().as_uri(), width=width, timeout=timeout)


def open_url(url: str, *, width: int = 1280, timeout: float = 60.0, until_text: str = "") -> Page:
    """Load ``url``, wait (bounded by ``timeout``) until its text holds ``until_text``, and collect
    what the console said, its text and a screenshot."""
    binary = chromium()
    with tempfile.TemporaryDirectory(prefix="ecs-bg-chromium-") as profile:
        return asyncio.run(asyncio.wait_for(_open(binary, url, width, Path(profile), until_text), timeout))
