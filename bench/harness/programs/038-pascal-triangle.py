# pascal-triangle
def pascal(n):
    rows = [[1]]
    for _ in range(n - 1): rows.append([1] + [a + b for a, b in zip(rows[-1], rows[-1][1:])] + [1])
    return rows
assert pascal(5)[-1] == [1, 4, 6, 4, 1]
