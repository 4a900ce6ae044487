#!/usr/bin/python3
"""Reads Prometheus text on stdin with the Prometheus client's own parser
(prometheus_client.parser) and prints what it found as JSON: every family with its type, help
and samples. A text the parser refuses makes it exit 1 with the parser's error."""
import json
import sys

from prometheus_client.parser import text_string_to_metric_families

text = sys.stdin.read()
families = []
try:
    for f in text_string_to_metric_families(text):
        families.append({
            "name": f.name,
            "type": f.type,
            "help": f.documentation,
            "samples": [{"name": s.name, "labels": s.labels, "value": s.value} for s in f.samples],
        })
except Exception as e:  # the parser's refusal is the test's failure
    print(f"prometheus_client refused the exposition: {e!r}", file=sys.stderr)
    sys.exit(1)
json.dump(families, sys.stdout)
