"""CPU per chat-completions call of the HTTP clients the openai backend could use.

    .venv/bin/python bench/http_client.py [--calls 3000]

One thread, keep-alive, against bench/pipeline.py's instant server (in this process, so
the figures include its share too; they compare, they are not absolute). Prints calls/s
and process CPU per call for httpx, urllib3 (what synth.backends.openai uses) and the
standard library's http.client.
"""

import argparse
import http.client
import json
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pipeline import start_instant_server

BODY = json.dumps(
    {"model": "m", "messages": [{"role": "user", "content": "नमस्ते " * 40}], "temperature": 1.0},
    ensure_ascii=False,
).encode()
HEADERS = {"Content-Type": "application/json"}
PATH = "/v1/chat/completions"


def clients(port: int) -> dict:
    import httpx
    import urllib3

    with_httpx = httpx.Client(base_url=f"http://127.0.0.1:{port}")
    with_urllib3 = urllib3.HTTPConnectionPool("127.0.0.1", port, maxsize=1, retries=False)
    stdlib = http.client.HTTPConnection("127.0.0.1", port)

    def stdlib_call() -> dict:
        stdlib.request("POST", PATH, body=BODY, headers=HEADERS)
        return json.loads(stdlib.getresponse().read())

    return {
        "httpx": lambda: with_httpx.post(PATH, content=BODY, headers=HEADERS).json(),
        "urllib3": lambda: json.loads(
            with_urllib3.urlopen("POST", PATH, body=BODY, headers=HEADERS).data
        ),
        "http.client": stdlib_call,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=3000)
    options = parser.parse_args()
    port = start_instant_server()
    print(
        f"# bench/http_client.py · {datetime.now(UTC):%Y-%m-%d %H:%M} UTC · "
        f"{platform.machine()} · Python {platform.python_version()} · {options.calls} calls"
    )
    for name, call in clients(port).items():
        for _ in range(50):  # connect and warm up
            call()
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(options.calls):
            call()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        per_call_us = cpu / options.calls * 1e6
        print(f"{name:>12}: {options.calls / wall:6.0f} calls/s, {per_call_us:4.0f} µs CPU/call")


if __name__ == "__main__":
    main()
