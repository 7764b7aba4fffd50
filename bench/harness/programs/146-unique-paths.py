# unique-paths
def paths(m, n):
    row = [1] * n
    for _ in range(m - 1):
        for j in range(1, n): row[j] += row[j - 1]
    return row[-1]
assert paths(3, 7) == 28 and paths(3, 2) == 3
