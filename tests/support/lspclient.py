"""A small Language Server Protocol client over stdio, to ask the real yaml-language-server what an
editor would show: diagnostics of a file and hover text at a place."""
from __future__ import annotations

import json
import queue
import subprocess
import threading
from pathlib import Path
from typing import Any


class LanguageServer:
    """A running language server; requests wait for their answer, notifications are queued."""

    def __init__(self, argv: list[str], root: Path, settings: dict, timeout: float = 60.0) -> None:
        self.process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.settings = settings
        self.timeout = timeout
        self._next_id = 0
        self._answers: dict[int, queue.Queue] = {}
        self.notifications: queue.Queue = queue.Queue()
        self._lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()
        self.request("initialize", {"processId": None, "rootUri": root.as_uri(),
                                    "workspaceFolders": [{"uri": root.as_uri(), "name": root.name}],
                                    "capabilities": {"textDocument": {"hover": {"contentFormat": ["markdown",
                                                                                                  "plaintext"]},
                                                                      "publishDiagnostics": {}},
                                                     "workspace": {"configuration": True}}})
        self.notify("initialized", {})
        self.notify("workspace/didChangeConfiguration", {"settings": settings})

    def _send(self, message: dict) -> None:
        body = json.dumps(message).encode("utf-8")
        with self._lock:
            self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
            self.process.stdin.flush()

    def _read(self) -> None:
        out = self.process.stdout
        while True:
            length = None
            while True:
                line = out.readline()
                if not line:
                    return
                line = line.strip()
                if not line:
                    break
                name, _, value = line.partition(b":")
                if name.lower() == b"content-length":
                    length = int(value)
            message = json.loads(out.read(length))
            if "id" in message and "method" in message:  # the server asks the client something
                self._answer_server(message)
            elif "id" in message:
                self._answers[message["id"]].put(message)
            else:
                self.notifications.put(message)

    def _answer_server(self, message: dict) -> None:
        result: Any = None
        if message["method"] == "workspace/configuration":
            result = [self.settings.get(item.get("section", ""), None) for item in message["params"]["items"]]
        self._send({"jsonrpc": "2.0", "id": message["id"], "result": result})

    def request(self, method: str, params: dict) -> Any:
        self._next_id += 1
        number = self._next_id
        answers = self._answers[number] = queue.Queue()
        self._send({"jsonrpc": "2.0", "id": number, "method": method, "params": params})
        try:
            answer = answers.get(timeout=self.timeout)
        except queue.Empty:
            raise TimeoutError(f"the language server did not answer {method} within {self.timeout} s") from None
        finally:
            self._answers.pop(number, None)
        if "error" in answer:
            raise RuntimeError(f"{method} failed: {answer['error']}")
        return answer.get("result")

    def notify(self, method: str, params: dict) -> None:
        self._send({"jsonrpc": "2.0", "method": method, "params": params})

    def open(self, path: Path, language: str = "yaml") -> str:
        uri = path.resolve().as_uri()
        self.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": language, "version": 1,
                                                               "text": path.read_text(encoding="utf-8")}})
        return uri

    def diagnostics(self, uri: str) -> list[dict]:
        """The diagnostics the server publishes for uri after it has read the schema."""
        while True:
            try:
                message = self.notifications.get(timeout=self.timeout)
            except queue.Empty:
                raise TimeoutError(f"no diagnostics for {uri} within {self.timeout} s") from None
            if message.get("method") == "textDocument/publishDiagnostics" and message["params"]["uri"] == uri:
                return message["params"]["diagnostics"]

    def hover(self, uri: str, line: int, character: int) -> str:
        """The hover text at a 0-based place, as plain text ('' when there is none)."""
        result = self.request("textDocument/hover", {"textDocument": {"uri": uri},
                                                     "position": {"line": line, "character": character}})
        if not result:
            return ""
        contents = result["contents"]
        if isinstance(contents, dict):
            return contents.get("value", "")
        if isinstance(contents, list):
            return "\n".join(c if isinstance(c, str) else c.get("value", "") for c in contents)
        return str(contents)

    def close(self) -> None:
        try:
            self.request("shutdown", {})
            self.notify("exit", {})
            self.process.wait(timeout=10)
        except (TimeoutError, RuntimeError, OSError, subprocess.TimeoutExpired):
            self.process.kill()
            self.process.wait()
