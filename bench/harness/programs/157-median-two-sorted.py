# median-two-sorted
def med(a, b):
    m = sorted(a + b); n = len(m)
    return m[n // 2] if n % 2 else (m[n // 2 - 1] + m[n // 2]) / 2
assert med([1, 3], [2]) == 2 and med([1, 2], [3, 4]) == 2.5
