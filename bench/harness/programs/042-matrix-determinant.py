# matrix-determinant
def det(m):
    if len(m) == 1: return m[0][0]
    return sum((-1) ** j * m[0][j] * det([r[:j] + r[j + 1:] for r in m[1:]]) for j in range(len(m)))
assert det([[2, 0, 1], [1, 3, 2], [1, 1, 2]]) == 6 and det([[1, 2], [3, 4]]) == -2
