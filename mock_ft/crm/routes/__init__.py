"""The mock's own routes, one module per resource; crm/app.py includes them side by side.

Each module builds its `router` at import (routes are module-level functions) and reaches the
mock's parts only through crm/deps.py; no routes module imports another.
"""

from __future__ import annotations
