"""End-to-end tests: a real hass process and the simulator over HTTP."""
