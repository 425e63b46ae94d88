"""Test doubles shared by the test suite (a fake LLM HTTP server)."""
