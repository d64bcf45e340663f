"""A small DevTools-protocol driver for headless Chromium, for the report's browser checks.

The report's content security policy forbids scripts, so axe-core cannot be put in the
page; it is evaluated through the DevTools protocol instead (Runtime.evaluate), which a
page's policy does not govern. Also measures the page: its height, horizontal overflow,
and every table's scroll region.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import websocket  # websocket-client, pinned in requirements.lock (a Jupyter dependency)

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
AXE = Path(__file__).resolve().parents[1] / "node_modules" / "axe-core" / "axe.min.js"
# WCAG 2.2 level A and AA rules, and axe's best practices (landmarks, regions).
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]

MEASURE = """(() => {
  const doc = document.documentElement;
  const wraps = [...document.querySelectorAll('.table-wrap')].map(w => ({
    id: (w.querySelector('table') || {}).id, scroll: w.scrollWidth, visible: w.clientWidth,
    focusable: w.tabIndex >= 0, named: !!w.getAttribute('aria-labelledby')}));
  const images = [...document.querySelectorAll('figure img')].map(i => ({
    alt: i.alt, shown: i.getBoundingClientRect().width, natural: i.naturalWidth,
    width: Number(i.getAttribute('width')), column: i.closest('.pair, main, body').clientWidth,
    opens: (i.closest('a') || {}).href || null,
    files: [...i.closest('figure').querySelectorAll('figcaption a')].map(a => a.href)}));
  return JSON.stringify({height: doc.scrollHeight, width: doc.scrollWidth, viewport: window.innerWidth,
                         wraps, images});
})()"""


class Browser:
    """One headless Chromium with one page, driven over the DevTools protocol."""

    def __init__(self):
        assert CHROMIUM, "Chromium is needed: run make browser (apt-get install chromium)"
        self.profile = Path(tempfile.mkdtemp(prefix="nhsda-cdp-"))  # removed in close()
        self.process = subprocess.Popen(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--remote-debugging-port=0", "--remote-allow-origins=*", f"--user-data-dir={self.profile}",
             "about:blank"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
            start_new_session=True)  # its helper processes in one group, ended together in close()
        port = None
        deadline = time.monotonic() + 60
        while port is None and time.monotonic() < deadline:
            line = self.process.stderr.readline()
            found = re.search(r"ws://127\.0\.0\.1:(\d+)/", line)
            port = int(found.group(1)) if found else None
        assert port, "Chromium did not open its DevTools port"
        targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list"))
        page = next(t for t in targets if t["type"] == "page")
        self.socket = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=120)
        self.next_id = 0
        self.console_errors: list[str] = []
        self.requests: list[str] = []
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable")

    def call(self, method: str, **params) -> dict:
        self.next_id += 1
        self.socket.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") == self.next_id:
                assert "error" not in message, f"{method}: {message['error']}"
                return message.get("result", {})
            self._event(message)

    def _event(self, message: dict) -> None:
        method, params = message.get("method"), message.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") == "error":
            self.console_errors.append(str(params.get("args")))
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            self.console_errors.append(params["entry"]["text"])
        elif method == "Network.requestWillBeSent":
            url = params["request"]["url"]
            if not url.startswith(("data:", "file:", "about:")):
                self.requests.append(url)

    def open(self, page: Path, width: int, height: int = 900) -> None:
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1,
                  mobile=width < 600)
        self.call("Page.navigate", url=Path(page).resolve().as_uri())
        while True:
            message = json.loads(self.socket.recv())
            self._event(message)
            if message.get("method") == "Page.loadEventFired":
                break

    def evaluate(self, expression: str, promise: bool = False):
        result = self.call("Runtime.evaluate", expression=expression, awaitPromise=promise, returnByValue=True)
        assert "exceptionDetails" not in result, result["exceptionDetails"]
        return result["result"].get("value")

    def measure(self) -> dict:
        return json.loads(self.evaluate(MEASURE))

    def axe(self) -> list[dict]:
        """axe-core's violations (id, impact, nodes) of the open page."""
        assert AXE.is_file(), f"{AXE} is missing: run make browser (npm ci installs axe-core)"
        self.evaluate(AXE.read_text(encoding="utf-8"))
        run = (f"axe.run(document, {{runOnly: {{type: 'tag', values: {json.dumps(AXE_TAGS)}}}}}).then(r => "
               "JSON.stringify(r.violations.map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.length,"
               " targets: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))))")
        return json.loads(self.evaluate(run, promise=True))

    def close(self) -> None:
        try:
            self.socket.close()
        finally:
            self.process.terminate()
            self.process.wait(timeout=30)
            # Chromium's helper processes can outlive the browser for a moment and still write
            # to the profile: end the whole group, then remove the profile (retrying while the
            # last writes land).
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except OSError:
                pass
            for _attempt in range(20):
                try:
                    shutil.rmtree(self.profile)
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.1)
            else:
                shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def audit(page: Path, widths=(1366, 390)) -> dict[int, dict]:
    """Per width: axe violations, the page's measures, console errors and outside requests."""
    results = {}
    with Browser() as browser:
        for width in widths:
            browser.console_errors.clear()
            browser.requests.clear()
            browser.open(page, width)
            results[width] = {"violations": browser.axe(), **browser.measure(),
                              "console_errors": list(browser.console_errors), "requests": list(browser.requests)}
    return results


if __name__ == "__main__":  # python tests/cdp.py reports/cohort1/report.html: print the audit
    import sys

    for width, result in audit(Path(sys.argv[1])).items():
        serious = [v for v in result["violations"] if v["impact"] in ("serious", "critical")]
        clipped = [w for w in result["wraps"] if w["scroll"] > w["visible"]]
        print(f"{width}px: height {result['height']} px, page width {result['width']}/{result['viewport']}, "
              f"serious+critical {sum(v['nodes'] for v in serious)} nodes in {len(serious)} rules, "
              f"all violations {[(v['id'], v['impact'], v['nodes']) for v in result['violations']]}, "
              f"scrolling tables {[(w['id'], w['scroll'], w['visible'], w['focusable']) for w in clipped]}, "
              f"console errors {len(result['console_errors'])}, requests {result['requests']}")
