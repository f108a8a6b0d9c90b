"""Certification of trained generators: per-signal uniqueness and stability, global injectivity.

Untrusted engines (floats, HiGHS, enumeration) produce claims with evidence in the format of
:mod:`theorychk.check`, which re-verifies them exactly.
"""
