"""Testing support: the pytest plugin that records a trace per test."""
