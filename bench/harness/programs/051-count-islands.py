# count-islands
def islands(g):
    g = [list(r) for r in g]; n = 0
    for i in range(len(g)):
        for j in range(len(g[0])):
            if g[i][j] == "1":
                n += 1; st = [(i, j)]
                while st:
                    a, b = st.pop()
                    if 0 <= a < len(g) and 0 <= b < len(g[0]) and g[a][b] == "1":
                        g[a][b] = "0"; st += [(a + 1, b), (a - 1, b), (a, b + 1), (a, b - 1)]
    return n
assert islands(["11000", "11000", "00100", "00011"]) == 3
