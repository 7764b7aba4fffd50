# missing-number
def missing(a): n = len(a); return n * (n + 1) // 2 - sum(a)
assert missing([3, 0, 1]) == 2 and missing([9, 6, 4, 2, 3, 5, 7, 0, 1]) == 8
