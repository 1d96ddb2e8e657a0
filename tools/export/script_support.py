"""Small helpers shared by the tools/ scripts: package versions for provenance, JSON layout."""

import importlib.metadata
import json
import subprocess


def package_version(name: str) -> str:
    """Upstream version of Debian's python3-<name>, else the Python package's own version.

    Debian's builds report development versions (torch says '1.13.0a0' in package 1.13.1), so
    the Debian package version, stripped of its +dfsg/-revision suffix, is the truthful one.
    """
    try:
        debian = subprocess.run(
            ["dpkg-query", "-W", "-f=${Version}", f"python3-{name}"], capture_output=True, text=True
        )
        if debian.returncode == 0 and debian.stdout:
            return debian.stdout.split(":")[-1].split("+")[0].split("-")[0]
    except FileNotFoundError:
        pass
    return importlib.metadata.version(name)


def to_json(value, indent: str = "") -> str:
    """JSON with two-space indentation, but lists of numbers or strings kept on one line."""
    inner = indent + "  "
    if isinstance(value, dict) and value:
        items = [f"{inner}{json.dumps(k)}: {to_json(v, inner)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + f"\n{indent}}}"
    if isinstance(value, list) and any(isinstance(v, (dict, list)) for v in value):
        return "[\n" + ",\n".join(inner + to_json(v, inner) for v in value) + f"\n{indent}]"
    return json.dumps(value, separators=(", ", ": "))
