# queue-two-stacks
class Q:
    def __init__(s): s.i, s.o = [], []
    def put(s, x): s.i.append(x)
    def get(s):
        if not s.o:
            while s.i: s.o.append(s.i.pop())
        return s.o.pop()
q = Q()
for x in range(5): q.put(x)
assert [q.get(), q.get()] == [0, 1]; q.put(9); assert [q.get() for _ in range(4)] == [2, 3, 4, 9]
