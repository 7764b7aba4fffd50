# base64-roundtrip
import base64
def b64(data):
    t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"; out = ""
    for i in range(0, len(data), 3):
        ch = data[i:i + 3]; n = int.from_bytes(ch + b"\0" * (3 - len(ch)), "big")
        out += "".join(t[(n >> s) & 63] for s in (18, 12, 6, 0))[:len(ch) + 1] + "=" * (3 - len(ch))
    return out
for s in [b"", b"f", b"fo", b"foo", b"foobar", bytes(range(50))]: assert b64(s) == base64.b64encode(s).decode()
