"""HTTP surfaces: the platform API (`/platform/`) and the Operator API FT calls."""
