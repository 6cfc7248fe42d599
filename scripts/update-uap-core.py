#!/usr/bin/env python3
"""Regenerates assets/uap-core/regexes.json from uap-core's regexes.yaml.

The user-agent parser (the `ua-parser` crate, from the ua-parser project) takes its rules as
data; the server embeds them as JSON so that it needs no YAML parser. To update:

    python3 scripts/update-uap-core.py path/to/uap-core/regexes.yaml <uap-core version>
"""
import json
import sys

import yaml

src, version = sys.argv[1], sys.argv[2]
with open(src, encoding="utf-8") as f:
    data = yaml.safe_load(f)
out = {
    "uap_core_version": version,
    "user_agent_parsers": data["user_agent_parsers"],
    "os_parsers": data["os_parsers"],
    "device_parsers": data["device_parsers"],
}
with open("assets/uap-core/regexes.json", "w", encoding="utf-8") as f:
    json.dump(out, f, ensure_ascii=False, separators=(",", ":"))
    f.write("\n")
print("wrote assets/uap-core/regexes.json from uap-core", version)
