"""Development data: demo staff and cases for `make run` and the screenshots, and bulk seeding for the
benchmarks and the soak. Installed only outside production and left out of the image (helpline/settings.py,
Dockerfile); nothing in the project imports it (docs/adr/0001-layers.md)."""
