#!/usr/bin/python3
"""Regenerates the README's configuration reference from `distcache-server --help`.

Usage: scripts/config-reference.py [path/to/distcache-server]
The option table in server/config_options.cpp is the single source; this only
reformats what --help prints into the Markdown table between the README markers.
"""
import re
import subprocess
import sys
from pathlib import Path

root = Path(__file__).resolve().parent.parent
binary = sys.argv[1] if len(sys.argv) > 1 else str(root / "build" / "distcache-server")
text = subprocess.run([binary, "--help"], check=True, capture_output=True, text=True).stdout

rows, group = [], None
lines = text.splitlines()
for i, line in enumerate(lines):
    if re.match(r"^[A-Z].*:$", line):
        group = line[:-1]
        continue
    m = re.match(r"^  --(\S+) (<.*?>)?\s*default: (.*?)( \[start-up only\])?$", line)
    if not m or group is None:
        continue
    name, kind, default, startup = m.groups()
    following = lines[i + 1] if i + 1 < len(lines) else ""
    desc = following.strip() if following.startswith("      ") else ""
    rows.append((group, name, (kind or "").strip("<>"), default, "no" if startup else "yes", desc))

table = ["| group | directive | value | default | CONFIG SET | meaning |", "|---|---|---|---|---|---|"]
for g, name, kind, default, mutable, desc in rows:
    cell = lambda s: s.replace("|", "\\|")
    table.append(f"| {g} | `{name}` | {cell(kind)} | `{cell(default)}` | {mutable} | {cell(desc)} |")

readme = root / "README.md"
content = readme.read_text()
begin = content.index("<!-- BEGIN CONFIGURATION REFERENCE")
begin = content.index("\n", begin) + 1
end = content.index("<!-- END CONFIGURATION REFERENCE")
content = content[:begin] + "\n" + "\n".join(table) + "\n\n" + content[end:]
readme.write_text(content)
print(f"{len(rows)} options written to README.md")
