#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 the gridfront authors
"""Render pages in headless Chromium through its DevTools protocol.

Usage: cdp.py CHROMIUM PROFILE_DIR OUT_DIR NAME=URL...

Starts Chromium (headless, its own profile; HOME from the environment
picks the NSS database with the client certificate), opens each URL in
one tab and, once loaded, reports one JSON line per page:
  name, url, dialogs (JavaScript dialogs that opened: alert, confirm,
  prompt; each is dismissed), tags (every element name in the document),
  summary (text of #summary, or null), text (document.body.innerText),
  title, and screenshot (a PNG written to OUT_DIR/NAME.png).
Every wait is bounded; exits 2 when Chromium or a page cannot be reached.
Needs python3-websocket (Debian).
"""

import base64
import json
import os
import subprocess
import sys
import time

import websocket

STEP = 20  # seconds any one wait may take


class Cdp:
    def __init__(self, url):
        self.ws = websocket.create_connection(url, timeout=STEP)
        self.n = 0
        self.events = []

    def send(self, method, params=None, session=None):
        self.n += 1
        msg = {"id": self.n, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        self.ws.send(json.dumps(msg))
        deadline = time.time() + STEP
        while time.time() < deadline:
            m = json.loads(self.ws.recv())
            if m.get("id") == self.n:
                if "error" in m:
                    raise RuntimeError("%s: %s" % (method, m["error"]))
                return m.get("result", {})
            self.events.append(m)
        raise TimeoutError(method)

    def wait_event(self, method, session, deadline):
        while time.time() < deadline:
            for i, m in enumerate(self.events):
                if m.get("method") == method and m.get("sessionId") == session:
                    del self.events[i]
                    return m
            self.ws.settimeout(max(0.1, deadline - time.time()))
            try:
                self.events.append(json.loads(self.ws.recv()))
            except websocket.WebSocketTimeoutException:
                break
        return None


PAGE_JS = r"""
(() => {
  const tags = [...new Set([...document.querySelectorAll('*')].map(e => e.tagName))];
  const s = document.getElementById('summary');
  return JSON.stringify({
    tags: tags.sort(),
    summary: s ? s.innerText : null,
    text: document.body ? document.body.innerText : '',
    title: document.title,
  });
})()
"""


def main():
    chromium, profile, out = sys.argv[1:4]
    pages = [a.split("=", 1) for a in sys.argv[4:]]
    os.makedirs(out, exist_ok=True)
    port_file = os.path.join(profile, "DevToolsActivePort")
    if os.path.exists(port_file):
        os.unlink(port_file)
    proc = subprocess.Popen(
        [chromium, "--headless=new", "--no-sandbox", "--disable-gpu",
         "--no-first-run", "--no-default-browser-check",
         "--disable-background-networking", "--disable-extensions",
         "--disable-component-update", "--disable-sync",
         "--user-data-dir=" + profile, "--remote-debugging-port=0",
         "--window-size=1100,1300", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=open(profile + ".log", "w"))
    try:
        deadline = time.time() + STEP
        while time.time() < deadline and not os.path.exists(port_file):
            time.sleep(0.1)
        if not os.path.exists(port_file):
            print("cdp: Chromium did not start (see %s.log)" % profile,
                  file=sys.stderr)
            return 2
        time.sleep(0.2)
        port, path = open(port_file).read().split("\n")[:2]
        cdp = Cdp("ws://127.0.0.1:%s%s" % (port, path))
        tid = cdp.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        sess = cdp.send("Target.attachToTarget",
                        {"targetId": tid, "flatten": True})["sessionId"]
        cdp.send("Page.enable", session=sess)
        cdp.send("Runtime.enable", session=sess)
        for name, url in pages:
            cdp.events = []
            cdp.send("Page.navigate", {"url": url}, session=sess)
            deadline = time.time() + STEP
            dialogs = []
            loaded = False
            while time.time() < deadline and not loaded:
                ev = cdp.wait_event("Page.javascriptDialogOpening", sess,
                                    time.time() + 0.2)
                if ev:
                    dialogs.append(ev["params"].get("message", ""))
                    cdp.send("Page.handleJavaScriptDialog",
                             {"accept": False}, session=sess)
                    continue
                loaded = cdp.wait_event("Page.loadEventFired", sess,
                                        time.time() + 0.2) is not None
            # Dialogs a late script might open after load.
            end = time.time() + 0.5
            while time.time() < end:
                ev = cdp.wait_event("Page.javascriptDialogOpening", sess, end)
                if ev:
                    dialogs.append(ev["params"].get("message", ""))
                    cdp.send("Page.handleJavaScriptDialog",
                             {"accept": False}, session=sess)
            r = cdp.send("Runtime.evaluate",
                         {"expression": PAGE_JS, "returnByValue": True},
                         session=sess)
            info = json.loads(r["result"]["value"])
            png = cdp.send("Page.captureScreenshot", {"format": "png"},
                           session=sess)["data"]
            shot = os.path.join(out, name + ".png")
            with open(shot, "wb") as f:
                f.write(base64.b64decode(png))
            info.update(name=name, url=url, loaded=loaded, dialogs=dialogs,
                        screenshot=shot)
            print(json.dumps(info))
            sys.stdout.flush()
        cdp.send("Browser.close")
        return 0
    finally:
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


if __name__ == "__main__":
    sys.exit(main())
