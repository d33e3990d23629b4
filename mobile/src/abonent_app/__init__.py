"""The Android client: a BeeWare (Toga) app that talks only to /api/v1."""
