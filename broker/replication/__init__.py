"""Partitions this broker hosts: leader state, high watermark, appends and reads."""
