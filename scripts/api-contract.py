#!/usr/bin/env python3
"""Holds a running stmfd to docs/openapi.yaml with schemathesis (run with the virtualenv's python,
.build-venv/bin/python, that scripts/install-deps.sh makes).

stmfd listens on its Unix socket only and schemathesis speaks TCP: this script bridges a port on
127.0.0.1 to the socket, then runs `schemathesis run` on every operation of the document with the
response checks (not_a_server_error, status_code_conformance, content_type_conformance,
response_schema_conformance, response_headers_conformance), positive and negative data, a bounded
number of examples per operation and a fixed seed (the same cases on every run). Exits with
schemathesis' status.

    api-contract.py --socket STATE/stmf.sock --scratch DIR [--fabric SOCK] [--max-examples N] [--seed S]
                    [-- extra schemathesis arguments]

Two runs: every operation on the service as it is (generated identifiers mostly name nothing:
the refusals), then every operation again with the identifiers of objects seeded through the API
(an LU, host and target groups, a restore point, and with --fabric, an fcfabric's control socket,
an emulated target port), so they reach what they do and not only their 404.

--scratch: stmfd runs as root in CI and create-lu writes metadata into the file it is given, so
every absolute path a generated request names (an LU's file, its meta file) is moved under this
directory by a schemathesis hook (the value is still a string the document allows; the path never
leaves DIR).
"""
import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading

CHECKS = ",".join([
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
])

HOOKS = r'''
import os
import schemathesis

SCRATCH = os.environ["STMF_CONTRACT_SCRATCH"]

def confine(value):
    """An absolute path under SCRATCH (".." cannot climb out of it); anything else as it is."""
    if not isinstance(value, str) or not value.startswith("/"):
        return value
    path = os.path.normpath(value.replace("\0", ""))
    if path == SCRATCH or path.startswith(SCRATCH + "/"):
        return path
    return os.path.join(SCRATCH, path.lstrip("/"))

@schemathesis.hook
def before_call(ctx, case, **kwargs):
    body = case.body
    if isinstance(body, dict):
        if "file" in body:
            body["file"] = confine(body["file"])
        props = body.get("properties")
        if isinstance(props, dict) and "meta" in props:
            props["meta"] = confine(props["meta"])
        if "meta" in body:
            body["meta"] = confine(body["meta"])
'''


def pump(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (dst,):
            try:
                s.shutdown(socket.SHUT_WR)
            except OSError:
                pass


def serve(listener, unix_path):
    while True:
        try:
            client, _ = listener.accept()
        except OSError:
            return
        upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            upstream.connect(unix_path)
        except OSError:
            client.close()
            continue
        for a, b in ((client, upstream), (upstream, client)):
            threading.Thread(target=pump, args=(a, b), daemon=True).start()


def request(port, method, path, body=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Content-Type": "application/json"} if isinstance(body, (dict, list)) else {}
    data = json.dumps(body).encode() if isinstance(body, (dict, list)) else body
    conn.request(method, path, body=data, headers=headers)
    r = conn.getresponse()
    payload = r.read()
    conn.close()
    if r.status >= 300:
        raise SystemExit(f"seeding: {method} {path}: {r.status} {payload[:300]!r}")
    return payload


SEEDED_PORT = "2100001b32c0d016"


def seed(port, fabric):
    """Objects for the second run to find: an LU, a host and a target group, a restore point,
    an emulated target port when there is a fabric."""
    if fabric:
        request(port, "POST", "/v1/fc/emulated-ports", {"portWWN": SEEDED_PORT, "fabric": fabric})
    lu = json.loads(request(port, "POST", "/v1/lus", {"file": "ram:contract", "properties": {"size": "1m"}}))
    request(port, "POST", "/v1/host-groups", {"name": "contract-hg"})
    request(port, "POST", "/v1/target-groups", {"name": "contract-tg"})
    request(port, "POST", "/v1/lus/%s/views" % lu["guid"], {"hostGroup": "contract-hg"})
    # An import --replace keeps a restore point of what it replaced.
    request(port, "POST", "/v1/import?replace=1", request(port, "GET", "/v1/export"))
    backups = json.loads(request(port, "GET", "/v1/backups"))
    return lu["guid"], backups[-1]["name"]


def seeded_config(guid, backup, fabric):
    ports = f"""
[[operations]]
include-path-regex = "^/v1/targets/"
parameters = {{ "path.name" = "wwn.{SEEDED_PORT.upper()}" }}

[[operations]]
include-path-regex = "^/v1/fc/"
parameters = {{ "path.wwn" = "{SEEDED_PORT}" }}
""" if fabric else ""
    return ports + f"""
# Backing files that can be made (paths are under the scratch directory once the hook has
# moved them), so that create-lu, import-lu and modify-lu -f succeed now and then.
[dictionaries]
files = {{ values = ["/lu-a", "/lu-b", "ram:contract-a", "ram:contract"] }}
sizes = {{ values = ["1m", "4m", "65536", "2g"] }}

[parameters]
"path.guid" = "{guid}"
"body.file" = {{ dictionary = "files", probability = 0.5 }}
"body.properties.size" = {{ dictionary = "sizes", probability = 0.5 }}

[[operations]]
include-path-regex = "^/v1/host-groups/"
parameters = {{ "path.name" = "contract-hg" }}

[[operations]]
include-path-regex = "^/v1/target-groups/"
parameters = {{ "path.name" = "contract-tg" }}

[[operations]]
include-path-regex = "^/v1/backups/"
parameters = {{ "path.name" = "{backup}" }}
"""


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser()
    ap.add_argument("--socket", required=True)
    ap.add_argument("--scratch", required=True)
    ap.add_argument("--fabric", help="an fcfabric's control socket, for an emulated port to test with")
    ap.add_argument("--spec", default=os.path.join(root, "docs", "openapi.yaml"))
    ap.add_argument("--max-examples", type=int, default=20)
    ap.add_argument("--seed", type=int, default=16)
    ap.add_argument("extra", nargs="*")
    args = ap.parse_args()

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    port = listener.getsockname()[1]
    threading.Thread(target=serve, args=(listener, args.socket), daemon=True).start()

    scratch = os.path.realpath(args.scratch)
    with tempfile.TemporaryDirectory(prefix="stmf-contract-") as tmp:
        hooks = os.path.join(tmp, "hooks.py")
        with open(hooks, "w") as f:
            f.write(HOOKS)
        env = dict(os.environ, SCHEMATHESIS_HOOKS=hooks, STMF_CONTRACT_SCRATCH=scratch,
                   NO_COLOR="1", SCHEMATHESIS_TELEMETRY="false")
        schemathesis = os.path.join(os.path.dirname(sys.executable), "schemathesis")
        base = [schemathesis, "run", args.spec, "--url", f"http://127.0.0.1:{port}",
                "--checks", CHECKS, "--seed", str(args.seed),
                "--phases", "examples,coverage,fuzzing", "--workers", "1", "--request-timeout", "30",
                "--suppress-health-check", "all", "--no-shrink"]
        # First: every operation on an empty service, with generated identifiers (most name
        # nothing that exists: the refusals' codes and bodies).
        cmd = base + ["--max-examples", str(args.max_examples)] + args.extra
        print("+", " ".join(cmd), flush=True)
        first = subprocess.call(cmd, env=env, cwd=tmp)
        # Then: every operation again with identifiers of objects that exist, so the operations
        # on one LU, group, port or restore point reach what they do, not only their 404, and
        # the lists have something to show.
        guid, backup = seed(port, args.fabric)
        config = os.path.join(tmp, "seeded.toml")
        with open(config, "w") as f:
            f.write(seeded_config(guid, backup, args.fabric))
        cmd = [schemathesis, "--config-file", config] + base[1:] + \
            ["--max-examples", str(args.max_examples),
             # Deleting the LU or the port would leave the others only their 404 (the first
             # run has those).
             "--exclude-name", "DELETE /v1/lus/{guid}", "--exclude-name", "DELETE /v1/fc/emulated-ports/{wwn}"] + args.extra
        print("+", " ".join(cmd), flush=True)
        second = subprocess.call(cmd, env=env, cwd=tmp)
        return first or second


if __name__ == "__main__":
    sys.exit(main())
