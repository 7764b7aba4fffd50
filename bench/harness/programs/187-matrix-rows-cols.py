# matrix-rows-cols
def parse(s): return [list(map(int, r.split())) for r in s.splitlines()]
m = parse("9 8 7\n5 3 2\n6 6 7")
assert m[1] == [5, 3, 2] and [r[2] for r in m] == [7, 2, 7]
