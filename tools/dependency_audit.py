"""`make lint`'s dependency audit: pip-audit over the environment the Makefile builds.

A known vulnerability in an installed package fails the build (exit 1), unless it is
listed in IGNORED with the reason it does not apply. A vulnerability service that cannot
be reached, or that knows nothing of the packages (pip-audit then skips them and would
say "No known vulnerabilities found"), is reported on stderr and does not fail: an
audit that could not run is not a finding, but it must not pass for a clean one either.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

# Vulnerability ids that do not apply here, each with its reason (pip-audit --ignore-vuln).
IGNORED: dict[str, str] = {}

PIP_AUDIT = Path(sys.executable).with_name("pip-audit")


def main() -> int:
    command = [str(PIP_AUDIT), "--format", "json", "--progress-spinner", "off",
               "--skip-editable", *(f"--ignore-vuln={vuln}" for vuln in IGNORED)]
    run = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    try:
        report = json.loads(run.stdout)
    except json.JSONDecodeError:
        # No report at all: pip-audit could not reach its service (or failed otherwise).
        last = (run.stderr.strip().splitlines() or ["(no output)"])[-1]
        print(f"dependency audit NOT RUN: pip-audit gave no report ({last})", file=sys.stderr)
        return 0
    dependencies = report.get("dependencies", [])
    found = [(dep["name"], dep["version"], vuln) for dep in dependencies
             for vuln in dep.get("vulns") or []]
    skipped = [dep for dep in dependencies if dep.get("skip_reason")]
    for name, version, vuln in found:
        fixes = ", ".join(vuln.get("fix_versions") or []) or "no fixed version yet"
        print(f"VULNERABLE {name} {version}: {vuln['id']} (fixed in {fixes})", file=sys.stderr)
    audited = len(dependencies) - len(skipped)
    if skipped:
        print(f"dependency audit INCOMPLETE: {len(skipped)} of {len(dependencies)} packages "
              "could not be checked (the vulnerability service did not know them or could "
              f"not be reached), e.g. {skipped[0]['skip_reason']}", file=sys.stderr)
    if found:
        print(f"dependency audit FAILED: {len(found)} known vulnerabilities", file=sys.stderr)
        return 1
    if not audited:
        print("dependency audit NOT RUN: no package could be checked", file=sys.stderr)
        return 0
    print(f"dependency audit: {audited} packages checked, no known vulnerabilities"
          + (f", {len(IGNORED)} ignored with a reason" if IGNORED else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
