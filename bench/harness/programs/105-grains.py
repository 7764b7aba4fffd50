# grains
def grains(sq): return 2 ** (sq - 1)
assert grains(64) == 9223372036854775808 and sum(grains(i) for i in range(1, 65)) == 2 ** 64 - 1
