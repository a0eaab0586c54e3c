"""Development tools: drive a real Home Assistant for the demo and e2e tests."""
