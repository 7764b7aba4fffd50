# max-subarray
def kadane(a):
    best = cur = a[0]
    for x in a[1:]:
        cur = max(x, cur + x); best = max(best, cur)
    return best
assert kadane([-2, 1, -3, 4, -1, 2, 1, -5, 4]) == 6
