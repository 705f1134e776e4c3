from __future__ import annotations

from harborops.harbor_sim.cli import main

raise SystemExit(main())
