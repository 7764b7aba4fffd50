# container-most-water
def area(h):
    l, r, best = 0, len(h) - 1, 0
    while l < r:
        best = max(best, (r - l) * min(h[l], h[r]))
        if h[l] < h[r]: l += 1
        else: r -= 1
    return best
assert area([1, 8, 6, 2, 5, 4, 8, 3, 7]) == 49
