"""Test support code: stand-ins for external services."""
