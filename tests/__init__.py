"""Tests for the ACTIO SMS integration."""
