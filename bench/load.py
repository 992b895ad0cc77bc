"""The load generator of the HTTP benchmark, run by `bench/http.py` in a process of its own.

`python -m bench.load SPEC.json RESULT.json`. The spec lists measures; each measure lists requests (a label, a
method, an absolute URL, headers, an optional JSON body and the statuses that count as success). For each measure
the generator makes one warm-up pass over its requests, then sends them in turn, round-robin, one at a time from one
client (keep-alive, like a browser), until `max_runs` requests or `seconds` have passed. Requests of different
servers in one measure (ours and Datasette's) therefore alternate, under the same conditions. The result holds every
latency in seconds, per label, and the error count per label.
"""

import json
import sys
import time
from pathlib import Path
from typing import Any

import httpx


def run_measure(client: httpx.Client, measure: dict[str, Any]) -> dict[str, Any]:
    requests: list[dict[str, Any]] = measure["requests"]
    latencies: dict[str, list[float]] = {r["label"]: [] for r in requests}
    errors: dict[str, int] = {r["label"]: 0 for r in requests}
    statuses: dict[str, list[int]] = {r["label"]: [] for r in requests}

    def send(request: dict[str, Any]) -> tuple[float, int]:
        before = time.perf_counter()
        try:
            response = client.request(
                request["method"], request["url"], headers=request.get("headers"), json=request.get("json")
            )
            status = response.status_code
        except httpx.HTTPError:
            status = 0
        return time.perf_counter() - before, status

    for request in requests if measure.get("warm", True) else []:
        send(request)
    started = time.perf_counter()
    runs = 0
    while runs < measure["max_runs"] and (runs < len(requests) or time.perf_counter() - started < measure["seconds"]):
        request = requests[runs % len(requests)]
        latency, status = send(request)
        latencies[request["label"]].append(latency)
        if status not in request.get("ok", [200]):
            errors[request["label"]] += 1
            if len(statuses[request["label"]]) < 5:
                statuses[request["label"]].append(status)
        runs += 1
    return {
        "elapsed": time.perf_counter() - started,
        "latencies": latencies,
        "errors": errors,
        "error_statuses": statuses,
    }


def main(argv: list[str]) -> int:
    spec = json.loads(Path(argv[0]).read_text())
    results: dict[str, Any] = {}
    with httpx.Client(timeout=60) as client:
        for measure in spec["measures"]:
            results[measure["name"]] = run_measure(client, measure)
    Path(argv[1]).write_text(json.dumps(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
