"""The annotation loop (submit + next item, one htmx round trip) against gunicorn.

    DATABASE_URL=postgres://… REDIS_URL=redis://… .venv/bin/python bench/annotation_loop.py

Creates, per concurrency level (1, 4, 16 by default), that many annotators and a push batch
of ``--items`` items each in a scratch database (keyed by a run id, nothing is deleted:
point DATABASE_URL at a database you can throw away), starts gunicorn on parakh.wsgi,
and has every annotator sign in and submit their items as fast as the server answers.
Beside it, the same number of clients request /livez (the empty view: a plain "ok", no
query, no template; the goal's baseline) and /healthz (one SELECT 1 and a Redis PING).
Prints throughput and p50/p95/p99 latency per level and the loop's p95 over the empty
view's, and (on Linux) the CPU each request cost the client, gunicorn and PostgreSQL: with
client, server and database on one machine, a saturated level's latency follows that sum.
The figures go into docs/BENCHMARKS.md.
"""

import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SERVER_ENV = {
    "SECRET_KEY": "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
    "DEBUG": "false",
    "SECURE_SSL_REDIRECT": "false",
    "SESSION_COOKIE_SECURE": "false",
    "CSRF_COOKIE_SECURE": "false",
    "STATIC_MANIFEST": "false",
    "LOG_LEVEL": "WARNING",
}
PASSWORD = "bench-password-not-secret"
ASSIGNMENT = re.compile(r'data-assignment="(\d+)"')


def setup(run: str, levels: list[int], items: int) -> dict[int, tuple[int, list[str]]]:
    """Per level: (batch id, usernames)."""
    os.environ.update({k: v for k, v in SERVER_ENV.items() if k not in os.environ})
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "parakh.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from annotate.models import Batch, Proficiency
    from annotate.services import annotator_create, batch_create, batch_transition
    from evaluation.models import Dimension
    from synth.services import sample_create

    call_command("migrate", interactive=False, verbosity=0)
    dimensions = list(
        Dimension.objects.filter(slug__in=["fluency", "cultural_fidelity", "flag_offensive"])
    )
    plan = {}
    for level in levels:
        users = [
            annotator_create(
                username=f"bench-{run}-{level}-{i}",
                password=PASSWORD,
                languages={"hi": Proficiency.NATIVE},
            )
            for i in range(level)
        ]
        samples = [
            sample_create(
                language="hi",
                task_type="creative_writing",
                messages=[
                    {"role": "user", "content": f"दिवाली पर एक कविता लिखिए ({run} {level} {n})।"},
                    {"role": "assistant", "content": "दीपों की कतारें जगमग करती हैं।"},
                ],
                generator="bench",
                key=("bench", run, level, n),
            )[0]
            for n in range(items * level)
        ]
        batch = batch_create(
            name=f"bench {run} x{level}",
            language="hi",
            dimensions=dimensions,
            samples=samples,
            annotators=users,
            overlap=1,
        )
        batch_transition(batch=batch, to=Batch.Status.OPEN)
        plan[level] = (batch.pk, [user.username for user in users])
    return plan


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def annotate_loop(
    base: str, username: str, batch_id: int, start: threading.Barrier, out: list[float]
) -> None:
    import httpx

    with httpx.Client(base_url=base, follow_redirects=True, timeout=30) as client:
        client.get("/login/")
        client.post(
            "/login/",
            data={"username": username, "password": PASSWORD, "next": "/"},
            headers={"X-CSRFToken": client.cookies["csrftoken"]},
        )
        page = client.get(f"/batches/{batch_id}/next/")
        match = ASSIGNMENT.search(page.text)
        # Sign-in hashes the password (hundreds of ms of CPU); no submit is timed while
        # another annotator is still signing in.
        start.wait()
        while match:
            started = time.perf_counter()
            response = client.post(
                f"/items/{match.group(1)}/",
                data={"score-fluency": "2", "score-cultural_fidelity": "1"},
                headers={"HX-Request": "true", "X-CSRFToken": client.cookies["csrftoken"]},
            )
            out.append(time.perf_counter() - started)
            response.raise_for_status()
            match = ASSIGNMENT.search(response.text)


def baseline_loop(
    base: str, path: str, count: int, start: threading.Barrier, out: list[float]
) -> None:
    import httpx

    with httpx.Client(base_url=base, timeout=30) as client:
        start.wait()
        for _ in range(count):
            started = time.perf_counter()
            client.get(path).raise_for_status()
            out.append(time.perf_counter() - started)


def cpu_seconds() -> dict[str, float]:
    """CPU time used so far by this process (the client) and, from /proc, by every gunicorn
    and PostgreSQL process; empty where there is no /proc."""
    proc = Path("/proc")
    if not proc.is_dir():
        return {}
    usage = resource.getrusage(resource.RUSAGE_SELF)
    totals = {"client": usage.ru_utime + usage.ru_stime, "gunicorn": 0.0, "postgres": 0.0}
    ticks = os.sysconf("SC_CLK_TCK")
    for entry in proc.iterdir():
        if not entry.name.isdigit() or entry.name == str(os.getpid()):
            continue
        try:
            command = (entry / "cmdline").read_bytes()
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # exited meanwhile
        family = next((f for f in ("gunicorn", "postgres") if f.encode() in command), None)
        if family:
            totals[family] += (int(fields[11]) + int(fields[12])) / ticks  # utime + stime
    return totals


def measure(target, args_per_thread, cpu: dict | None = None) -> tuple[list[float], float]:
    """Runs one thread per argument tuple; the clock starts when all are ready. ``cpu``, if
    given, receives the CPU seconds each process family spent from then to the end."""
    latencies: list[float] = []
    started: list[float] = []
    cpu_before: list[dict[str, float]] = []

    def go() -> None:
        if cpu is not None:
            cpu_before.append(cpu_seconds())
        started.append(time.perf_counter())

    start = threading.Barrier(len(args_per_thread), action=go)
    threads = [
        threading.Thread(target=target, args=(*a, start, latencies)) for a in args_per_thread
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started[0]
    if cpu is not None:
        after = cpu_seconds()
        cpu.update({family: after[family] - cpu_before[0][family] for family in after})
    return latencies, elapsed


def row(name: str, level: int, latencies: list[float], elapsed: float) -> str:
    ms = [value * 1000 for value in latencies]
    return (
        f"| {name} | {level} | {len(ms)} | {len(ms) / elapsed:.0f} | "
        f"{statistics.median(ms):.1f} | {percentile(ms, 0.95):.1f} | {percentile(ms, 0.99):.1f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", default="1,4,16")
    parser.add_argument("--items", type=int, default=50, help="Items per annotator.")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes.")
    parser.add_argument("--threads", type=int, default=4, help="Threads per gunicorn worker.")
    parser.add_argument("--port", type=int, default=8199)
    options = parser.parse_args()
    levels = [int(level) for level in options.levels.split(",")]
    run = uuid.uuid4().hex[:6]
    plan = setup(run, levels, options.items)
    env = {**os.environ, **{k: v for k, v in SERVER_ENV.items() if k not in os.environ}}
    server = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "parakh.wsgi",
            f"--workers={options.workers}",
            f"--threads={options.threads}",
            f"--bind=127.0.0.1:{options.port}",
            "--log-level=warning",
        ],
        cwd=ROOT,
        env=env,
    )
    base = f"http://127.0.0.1:{options.port}"
    try:
        import httpx

        for _ in range(100):
            try:
                httpx.get(f"{base}/healthz", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        # Warm every worker (imports, connections) before anything is timed.
        measure(baseline_loop, [(base, "/healthz", 20)] * 16)
        measure(baseline_loop, [(base, "/login/", 20)] * 16)
        print(
            f"gunicorn {options.workers} workers × {options.threads} threads, "
            f"{options.items} items per annotator, run {run}"
        )
        print("| loop | concurrent | requests | req/s | p50 ms | p95 ms | p99 ms |")
        print("|---|---|---|---|---|---|---|")
        ratios = []
        costs = []
        for level in levels:
            batch_id, usernames = plan[level]
            loop_cpu, empty_cpu = {}, {}
            loop, elapsed = measure(
                annotate_loop, [(base, u, batch_id) for u in usernames], loop_cpu
            )
            print(row("submit + next item", level, loop, elapsed))
            empty, elapsed = measure(
                baseline_loop, [(base, "/livez", options.items)] * level, empty_cpu
            )
            print(row("/livez (empty view)", level, empty, elapsed))
            costs += [("submit + next item", level, loop_cpu, len(loop))]
            costs += [("/livez (empty view)", level, empty_cpu, len(empty))]
            health, elapsed = measure(baseline_loop, [(base, "/healthz", options.items)] * level)
            print(row("/healthz", level, health, elapsed))
            ratios.append((level, percentile(loop, 0.95) / percentile(empty, 0.95)))
        for level, ratio in ratios:
            print(f"{level} concurrent: loop p95 = {ratio:.1f} x the empty view's p95 (goal <= 3)")
        if any(cpu for _, _, cpu, _ in costs):
            print("\n| CPU ms per request | concurrent | client | gunicorn | PostgreSQL | total |")
            print("|---|---|---|---|---|---|")
            for name, level, cpu, count in costs:
                ms = {family: 1000 * seconds / count for family, seconds in cpu.items()}
                print(
                    f"| {name} | {level} | {ms['client']:.2f} | {ms['gunicorn']:.2f} | "
                    f"{ms['postgres']:.2f} | {sum(ms.values()):.2f} |"
                )
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
