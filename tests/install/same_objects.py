#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Do two `kubectl kustomize` renderings hold the same objects?

kubectl 1.20 (Debian 12's kubernetes-client, kustomize v2) and newer ones order objects and
fields differently and hash generated ConfigMap/Secret names differently, kustomize v2 writes empty
`annotations: {}`, and newer kustomize wraps long base64 Secret data over lines; everything else
must be equal. Names ending in a generator hash (-xxxxxxxxxx) are replaced by NAME-HASH
wherever they appear, objects are compared as parsed data, keyed by kind/namespace/name.
usage: same_objects.py A.yaml B.yaml    exit 0 when equal, else prints the differences.
"""

import difflib
import re
import sys

import yaml

HASHED = re.compile(r"^(.+)-[a-z0-9]{10}$")


def load(path):
    with open(path) as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    names = {}
    for d in docs:
        if d.get("kind") in ("ConfigMap", "Secret"):
            n = d["metadata"]["name"]
            m = HASHED.match(n)
            if m:
                names[n] = m.group(1) + "-HASH"

    def norm(v):
        if isinstance(v, dict):
            return {k: norm(x) for k, x in v.items()}
        if isinstance(v, list):
            return [norm(x) for x in v]
        if isinstance(v, str):
            return names.get(v, v)
        return v

    out = {}
    for d in docs:
        d = norm(d)
        md = d.get("metadata", {})
        # newer kustomize wraps long base64 Secret data over lines, v2 does not: the bytes a
        # Secret carries are the same (base64 decoding skips the line breaks), so compare them so.
        if d.get("kind") == "Secret" and isinstance(d.get("data"), dict):
            d["data"] = {k: re.sub(r"\s+", "", v) if isinstance(v, str) else v for k, v in d["data"].items()}
        # kustomize v2 writes "annotations: {}" on merged generator output: the same as none.
        for k in ("annotations", "labels"):
            if md.get(k) == {}:
                del md[k]
        out["%s/%s/%s" % (d.get("kind"), md.get("namespace", ""), md.get("name"))] = d
    return out


def main():
    a, b = load(sys.argv[1]), load(sys.argv[2])
    if a == b:
        return 0
    for key in sorted(set(a) | set(b)):
        if a.get(key) != b.get(key):
            da = yaml.safe_dump(a.get(key), sort_keys=True).splitlines()
            db = yaml.safe_dump(b.get(key), sort_keys=True).splitlines()
            print("differs: " + key)
            for line in list(difflib.unified_diff(da, db, sys.argv[1], sys.argv[2], lineterm=""))[:40]:
                print("    " + line)
    return 1


if __name__ == "__main__":
    sys.exit(main())
