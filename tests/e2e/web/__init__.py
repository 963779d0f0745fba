"""Browser tests of the PWA (Playwright + Debian Chromium) against ``melody dev``."""
