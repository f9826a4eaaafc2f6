"""Calls without a phone: the Sinch emulator, simulated calls, flow tests, coverage and their reports."""
