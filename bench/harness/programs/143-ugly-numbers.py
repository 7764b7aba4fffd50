# ugly-numbers
def ugly(n):
    u = [1]; i2 = i3 = i5 = 0
    while len(u) < n:
        x = min(u[i2] * 2, u[i3] * 3, u[i5] * 5); u.append(x)
        if x == u[i2] * 2: i2 += 1
        if x == u[i3] * 3: i3 += 1
        if x == u[i5] * 5: i5 += 1
    return u[-1]
assert ugly(10) == 12 and ugly(150) == 5832
