"""Calibration: read benchmark results, fit the efficiency constants to them, write and apply profiles."""
