# bst-insert-inorder
class T:
    def __init__(s, v): s.v, s.l, s.r = v, None, None
def ins(t, v):
    if not t: return T(v)
    if v < t.v: t.l = ins(t.l, v)
    else: t.r = ins(t.r, v)
    return t
def ino(t): return ino(t.l) + [t.v] + ino(t.r) if t else []
t = None
for v in [50, 30, 70, 20, 40, 60, 80]: t = ins(t, v)
assert ino(t) == [20, 30, 40, 50, 60, 70, 80]
