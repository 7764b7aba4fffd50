# gas-station
def gas(g, c):
    if sum(g) < sum(c): return -1
    start = tank = 0
    for i in range(len(g)):
        tank += g[i] - c[i]
        if tank < 0: start, tank = i + 1, 0
    return start
assert gas([1, 2, 3, 4, 5], [3, 4, 5, 1, 2]) == 3
