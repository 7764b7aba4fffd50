# armstrong-numbers
def arm(n): s = str(n); return n == sum(int(d) ** len(s) for d in s)
assert [n for n in range(1, 1000) if arm(n)] == [1, 2, 3, 4, 5, 6, 7, 8, 9, 153, 370, 371, 407]
