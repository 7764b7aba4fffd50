# stack-min
class MinStack:
    def __init__(s): s.a = []
    def push(s, x): s.a.append((x, min(x, s.a[-1][1]) if s.a else x))
    def pop(s): return s.a.pop()[0]
    def min(s): return s.a[-1][1]
m = MinStack()
for x in [5, 3, 7, 2, 8]: m.push(x)
assert m.min() == 2; m.pop(); m.pop(); assert m.min() == 3
