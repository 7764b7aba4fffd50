# triangle-max-path
t = [[3], [7, 4], [2, 4, 6], [8, 5, 9, 3]]
for i in range(len(t) - 2, -1, -1):
    for j in range(len(t[i])): t[i][j] += max(t[i + 1][j], t[i + 1][j + 1])
assert t[0][0] == 23
