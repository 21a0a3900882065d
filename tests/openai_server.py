"""A loopback OpenAI-compatible chat-completions server for tests and benchmarks.

It speaks real HTTP on 127.0.0.1 and answers structured-output requests (json_schema, function calling,
JSON mode). A script of faults can be queued: '429', '500', 'malformed', 'invalid', 'hang',
'no_json_schema' (refuse response_format json_schema with a 400, like servers that lack it; also
'no_json_schema_400' with a bare "Invalid request" and 'no_json_schema_422' with "unknown variant", the
words strict servers use), 'unfit' (a valid lesson that calls every learner "bạn", which the register check
refuses for older people), 'wrong_lang' (a valid lesson in the other language), 'drop' (close the
connection without answering) and 'trickle' (send the headers, then a byte now and then).

``ignore_format = True`` makes it a server that ignores response_format and tools: it answers in prose
unless the prompt itself carries the lesson schema (as hocvu's JSON mode sends it).
``refuse`` names structured-output methods the server lacks for good ('json_schema', 'function_calling',
'json_mode'): every request asking for one gets a 400, as from a server that never had it.
``billed`` logs the usage of every reply the server sent (what a provider would bill); its prompt tokens
count the messages' text. ``schema_tokens`` logs, per request, the tokens of the schema sent alongside
the messages (``response_format``'s JSON schema or the tools), which providers bill as input too.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TOKEN = re.compile(r"\w+|[^\w\s]", re.UNICODE)
DESCRIPTOR = re.compile(r"^- (\S+?): ", re.M)


def count_tokens(text: str) -> int:
    """A crude, deterministic token count (words and punctuation)."""
    return len(TOKEN.findall(text))


def _text_of(messages: list[dict[str, Any]]) -> str:
    parts = []
    for m in messages:
        c = m.get("content")
        if isinstance(c, list):
            parts += [p.get("text", "") for p in c if isinstance(p, dict)]
        elif c:
            parts.append(str(c))
    return "\n".join(parts)


class LessonFactory:
    """Builds a valid reply from template lessons (one per language), citing the descriptor ids and
    source ids found in the prompt, so replies pass hocvu's checks for any competence and level."""

    def __init__(self, templates: dict[str, dict[str, Any]],
                 make: Callable[[str, str, int, str, str], dict[str, Any] | None] | None = None) -> None:
        self.templates = templates
        self.make = make  # (framework, competence, level, group name, lang) -> a lesson written for them

    def __call__(self, body: dict[str, Any]) -> dict[str, Any]:
        prompt = _text_of(body.get("messages", []))
        lang = "en" if "Language of the lesson: English" in prompt or "in English" in prompt else "vi"
        lesson = json.loads(json.dumps(self._written_for(prompt, lang) or self.templates[lang]))
        ids = [i for i in DESCRIPTOR.findall(prompt.split("## Learners")[0]) if "-L" in i or "LO" in i]
        for o in lesson["objectives"]:
            o["descriptors"] = ids[:1] or o["descriptors"]
        quote = _quote(prompt, lang)
        if quote:  # like a good model: the key point quotes a sentence of the passage it cites
            lesson["key_points"][0]["text"], lesson["key_points"][0]["sources"] = quote[1], [quote[0]]
        elif sources := re.findall(r'<<<SOURCE id="([^"]+)"', prompt):
            lesson["key_points"][0]["sources"] = sources[:1]  # nothing quotable: cites it anyway
        return lesson


    def _written_for(self, prompt: str, lang: str) -> dict[str, Any] | None:
        """A lesson for the framework, competence, level and group the prompt asks for (like a good model
        would write), when a maker is given and the prompt names them."""
        if self.make is None:
            return None
        fw = re.search(r"^Framework: .*\(([a-z0-9.-]+)\)$", prompt, re.M)
        code = re.search(r"^Competence ([0-9.]+):", prompt, re.M)
        level = re.search(r"^Level (\d) \(", prompt, re.M)
        group = re.search(r"^## Learners: (.+)$", prompt, re.M)
        if not (fw and code and level and group):
            return None
        return self.make(fw.group(1), code.group(1), int(level.group(1)), group.group(1).strip(), lang)


class _Listener(ThreadingHTTPServer):
    """socketserver listens with a backlog of 5: of 64 clients connecting at once, ~20 were reset and
    only ~25 requests arrived within the first second (the client's SDK retried the rest after its
    backoff), which no real model server does (uvicorn listens with 2048, nginx 511). 128 is Linux's
    old SOMAXCONN."""

    request_queue_size = 128


class OpenAIServer:
    """Run with ``with OpenAIServer(factory) as srv: srv.base_url``."""

    def __init__(self, factory: Callable[[dict[str, Any]], dict[str, Any]], latency: float = 0.0,
                 hang_seconds: float = 30.0) -> None:
        self.factory = factory
        self.latency = latency
        self.hang_seconds = hang_seconds
        self.script: deque[str] = deque()
        self.requests: list[dict[str, Any]] = []
        self.replies: list[str] = []
        self.prompt_tokens: list[int] = []
        self.lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self.image_requests: list[dict[str, Any]] = []
        self.image_fail = False
        self.ignore_format = False
        self.billed: list[tuple[int, int]] = []  # (prompt_tokens, completion_tokens) per billed reply
        self.arrivals: list[float] = []  # time.time() each chat-completion request arrived
        self.refuse: set[str] = set()  # methods answered with a 400
        self.schema_tokens: list[int] = []  # tokens of the schema sent beside the messages, per request

    @property
    def billed_tokens(self) -> tuple[int, int]:
        '''Input and output tokens the server billed, over every reply it sent.'''
        with self.lock:
            return sum(b[0] for b in self.billed), sum(b[1] for b in self.billed)

    def image_b64(self) -> str:
        """A small PNG (a green square) as base64, as the Images API answers."""
        import base64
        import io

        from PIL import Image

        buf = io.BytesIO()
        Image.new("RGB", (64, 64), "#00AA00").save(buf, format="PNG")
        return base64.b64encode(buf.getvalue()).decode("ascii")

    # -- control --------------------------------------------------------------------------------
    def queue(self, *actions: str) -> None:
        """Queue actions for the next requests: ok, 429, 500, malformed, invalid, hang, no_json_schema."""
        self.script.extend(actions)

    @property
    def calls(self) -> int:
        """Chat-completion requests received."""
        return len(self.requests)

    @property
    def base_url(self) -> str:
        """The OpenAI base URL to point a client at."""
        assert self._httpd is not None
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def __enter__(self) -> OpenAIServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def do_GET(self) -> None:  # noqa: N802
                if self.path.rstrip("/").endswith("/stats"):  # for a client in another process
                    with server.lock:
                        self._json(200, {"calls": server.calls, "arrivals": list(server.arrivals),
                                         "billed": list(server.billed), "schema": list(server.schema_tokens)})
                elif self.path.rstrip("/").endswith("/models"):
                    self._json(200, {"object": "list", "data": [{"id": "test-model", "object": "model"}]})
                else:
                    self._json(404, {"error": {"message": "not found"}})

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("content-length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                if self.path.rstrip("/").endswith("/images/generations"):
                    server.image_requests.append(body)
                    if server.image_fail:
                        self._json(500, {"error": {"message": "image model overloaded"}})
                        return
                    self._json(200, {"created": 0, "data": [{"b64_json": server.image_b64()}]})
                    return
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    self._json(404, {"error": {"message": f"no route {self.path}"}})
                    return
                server._handle(self, body)

            def _json(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
                data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                try:
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self._httpd = _Listener(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._httpd:
            self._httpd.shutdown()
            self._httpd.server_close()

    # -- behaviour ------------------------------------------------------------------------------
    def _handle(self, h: Any, body: dict[str, Any]) -> None:
        with self.lock:
            self.arrivals.append(time.time())
            self.requests.append(body)
            action = self.script.popleft() if self.script else "ok"
            if action.startswith("no_json_schema") and (body.get("response_format") or {}).get("type") != "json_schema":
                self.script.appendleft(action)  # applies to the next json_schema request
                action = "ok"
        prompt = _text_of(body.get("messages", []))
        tokens = count_tokens(prompt)
        fmt = body.get("response_format") or {}
        beside = json.dumps([fmt.get("json_schema", ""), body.get("tools", "")], ensure_ascii=False)
        with self.lock:
            self.prompt_tokens.append(tokens)
            self.schema_tokens.append(count_tokens(beside) - count_tokens('["", ""]'))
            self.replies.append(action)
        method = ("function_calling" if body.get("tools") else
                  {"json_schema": "json_schema", "json_object": "json_mode"}.get(fmt.get("type", ""), ""))
        if method in self.refuse:
            h._json(400, {"error": {"message": "Invalid request", "type": "invalid_request_error"}})
            return
        if self.latency:
            time.sleep(self.latency)
        retry = {"retry-after-ms": "5"}
        if action == "429":
            h._json(429, {"error": {"message": "Rate limit reached", "type": "rate_limit_exceeded"}}, retry)
            return
        if action == "500":
            h._json(500, {"error": {"message": "internal error", "type": "server_error"}}, retry)
            return
        if action == "hang":
            time.sleep(self.hang_seconds)
            return
        if action == "drop":
            h.close_connection = True
            h.connection.shutdown(2)
            return
        if action == "trickle":  # headers at once, then a byte every half second: never a whole answer
            h.send_response(200)
            h.send_header("content-type", "application/json")
            h.send_header("content-length", "100000")
            h.end_headers()
            try:
                for _ in range(int(self.hang_seconds * 2)):
                    h.wfile.write(b" ")
                    h.wfile.flush()
                    time.sleep(0.5)
            except (BrokenPipeError, ConnectionResetError):
                pass
            return
        if action == "no_json_schema":
            h._json(400, {"error": {"message": "response_format json_schema is not supported by this server",
                                    "type": "invalid_request_error"}})
            return
        if action == "no_json_schema_400":
            h._json(400, {"error": {"message": "Invalid request", "type": "invalid_request_error"}})
            return
        if action == "no_json_schema_422":
            h._json(422, {"error": "Failed to deserialize the JSON body: unknown variant `json_schema`, "
                                   "expected `text` or `json_object` at line 1 column 90"})
            return
        lesson = self.factory(body)
        if action == "wrong_lang":  # a good lesson, in the other language than the one asked for
            asked_en = "Language of the lesson: English" in prompt or "in English" in prompt
            lesson = json.loads(json.dumps(getattr(self.factory, "templates", {}).get("vi" if asked_en else "en",
                                                                                       lesson)))
        if action == "unfit":  # valid, but addresses learners as "bạn"/"pal" whatever their register
            lesson = dict(lesson)
            lesson["summary"] = "Bạn sẽ học cách giữ an toàn." if "Bạn" not in lesson["summary"] else lesson["summary"]
        if action == "invalid":
            lesson = dict(lesson)
            lesson["quiz"] = lesson["quiz"][:1]  # breaks the schema: at least 3 questions
            lesson.pop("summary", None)
        content = json.dumps(lesson, ensure_ascii=False)
        if action == "malformed":
            content = content[: len(content) // 2] + " <<not json"
        if self.ignore_format and '"objectives"' not in prompt:
            content = "Dưới đây là bài học: " + lesson.get("title", "") + ". " + lesson.get("summary", "")
        completion_tokens = count_tokens(content)
        with self.lock:
            self.billed.append((tokens, completion_tokens))
        message: dict[str, Any] = {"role": "assistant", "content": content}
        finish = "stop"
        if body.get("tools") and not self.ignore_format:
            name = body["tools"][0]["function"]["name"]
            message = {"role": "assistant", "content": None, "tool_calls": [
                {"id": f"call_{len(self.requests)}", "type": "function",
                 "function": {"name": name, "arguments": content}}]}
            finish = "tool_calls"
        h._json(200, {
            "id": f"chatcmpl-{len(self.requests)}", "object": "chat.completion", "created": int(time.time()),
            "model": body.get("model", "test-model"),
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": {"prompt_tokens": tokens, "completion_tokens": completion_tokens,
                      "total_tokens": tokens + completion_tokens},
        })


def _quote(prompt: str, lang: str) -> tuple[str, str] | None:
    """(id, sentence): the first short sentence of a fenced passage in the lesson's language."""
    for pid, text in re.findall(r'<<<SOURCE id="([^"]+)"[^>]*>>>\n(.*?)<<<END SOURCE>>>', prompt, re.S):
        if (lang == "vi") != bool(re.search("[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]", text)):
            continue
        body = " ".join(ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#"))
        for sentence in re.split(r"(?<=[.!?])\s+", body):
            if 6 <= len(sentence.split()) <= 14 and sentence.endswith("."):
                return pid, sentence.strip()
    return None


def lesson_factory(library: Any = None) -> LessonFactory:
    """A factory answering with the offline drafter's lesson for the group, competence and level the
    prompt asks for (falling back to the 4.2 templates), as the tests' ``openai_server`` fixture does."""
    from functools import lru_cache

    from generator.frameworks import Library
    from tests.support.drafts import offline_lesson

    lib = library or Library(None)
    names = {name: g.id for g in lib.groups.values() for name in (g.names.get("vi"), g.names.get("en"))}
    templates = {lang: offline_lesson(lib, lang=lang).lesson.draft_part() for lang in ("vi", "en")}

    @lru_cache(maxsize=4096)
    def make(framework: str, code: str, level: int, group: str, lang: str) -> dict[str, Any] | None:
        gid = names.get(group)
        if gid is None:
            return None
        try:
            return offline_lesson(lib, code, level, gid, lang, framework=framework).lesson.draft_part()  # type: ignore[no-any-return]
        except Exception:  # noqa: BLE001 - no offline content for it: the template answers
            return None

    return LessonFactory(templates, make)


def main() -> None:
    """Serve in a process of its own (benchmarks: the server's threads then share no GIL with the
    client): prints the base URL on one line, serves until stdin closes. ``--warm fw:code:level:group:lang``
    lines on stdin before an empty line are answered once beforehand so no reply is composed during a run."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(description="A loopback OpenAI-compatible server")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds each chat completion takes")
    args = parser.parse_args()
    factory = lesson_factory()
    for line in sys.stdin:  # the lessons to compose beforehand, one "framework|code|level|group name|lang" each
        if not line.strip():
            break
        fw, code, level, group, lang = line.rstrip("\n").split("|")
        assert factory.make is not None
        factory.make(fw, code, int(level), group, lang)
    with OpenAIServer(factory, latency=args.latency) as srv:
        print(srv.base_url, flush=True)
        sys.stdin.read()  # until the parent closes it


if __name__ == "__main__":
    main()
