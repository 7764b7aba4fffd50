# jump-game
def can(a):
    reach = 0
    for i, x in enumerate(a):
        if i > reach: return False
        reach = max(reach, i + x)
    return True
assert can([2, 3, 1, 1, 4]) and not can([3, 2, 1, 0, 4])
