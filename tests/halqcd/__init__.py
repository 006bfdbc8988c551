"""Tests of dphys.halqcd."""
