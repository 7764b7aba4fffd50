# crc32-check
def crc32(data):
    c = 0xFFFFFFFF
    for b in data:
        c ^= b
        for _ in range(8): c = (c >> 1) ^ (0xEDB88320 & -(c & 1))
    return c ^ 0xFFFFFFFF
import zlib
assert crc32(b"hello world") == zlib.crc32(b"hello world") == 0x0D4A1185
