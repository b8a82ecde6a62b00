"""Test stub for README's Lightning snippet."""
