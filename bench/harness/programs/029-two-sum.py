# two-sum
def two_sum(a, t):
    seen = {}
    for i, x in enumerate(a):
        if t - x in seen: return (seen[t - x], i)
        seen[x] = i
assert two_sum([2, 7, 11, 15], 9) == (0, 1) and two_sum([3, 2, 4], 6) == (1, 2)
