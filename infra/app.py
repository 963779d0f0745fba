#!/usr/bin/env python3
"""CDK entry point (``cdk.json``: ``python infra/app.py``). See ``infra/README.md``.

Run by the ``cdk`` CLI it bundles the dependency layer as usual. Run directly
(``python infra/app.py``, a quick offline check synth with cdk-nag) it skips asset bundling
unless ``MELODY_BUNDLE=1`` is set.
"""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from melody_infra.app import build_app  # noqa: E402

# Set by the cdk CLI / toolkit when it runs the app (aws-cdk-lib cx-api constants).
TOOLKIT_ENV = ("CDK_CLI_VERSION", "CDK_TOOLKIT_VERSION", "CDK_CLI_ASM_VERSION")

context = {}
if not any(k in os.environ for k in TOOLKIT_ENV) and os.environ.get("MELODY_BUNDLE") != "1":
    print("[melody] direct run: skipping asset bundling (set MELODY_BUNDLE=1 to bundle)", file=sys.stderr)
    context["aws:cdk:bundling-stacks"] = []

try:
    melody = build_app(context=context)
except ValueError as exc:  # a configuration mistake (say, no `-c stage=...`): one line, not a traceback
    sys.exit(f"[melody] {exc}")
melody.app.synth()
