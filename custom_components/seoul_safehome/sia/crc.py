"""The DC-09 CRC: CRC-16/ARC (polynomial x^16 + x^15 + x^2 + 1, reflected, initial value 0)."""

from __future__ import annotations


def _table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_TABLE = _table()


def crc16_arc(data: bytes) -> int:
    """Return the CRC-16/ARC of `data` (the check value of b"123456789" is 0xBB3D)."""
    crc = 0
    for byte in data:
        crc = (crc >> 8) ^ _TABLE[(crc ^ byte) & 0xFF]
    return crc
