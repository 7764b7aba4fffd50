# linked-list-reverse
class N:
    def __init__(s, v, n=None): s.v, s.n = v, n
def rev(h):
    p = None
    while h: h.n, p, h = p, h, h.n
    return p
h = N(1, N(2, N(3, N(4))))
h = rev(h); out = []
while h: out.append(h.v); h = h.n
assert out == [4, 3, 2, 1]
