# flood-fill
def fill(g, r, c, new):
    old = g[r][c]
    if old == new: return g
    st = [(r, c)]
    while st:
        i, j = st.pop()
        if 0 <= i < len(g) and 0 <= j < len(g[0]) and g[i][j] == old:
            g[i][j] = new; st += [(i + 1, j), (i - 1, j), (i, j + 1), (i, j - 1)]
    return g
assert fill([[1, 1, 0], [1, 0, 0], [1, 1, 1]], 0, 0, 2) == [[2, 2, 0], [2, 0, 0], [2, 2, 2]]
