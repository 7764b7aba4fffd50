# bubble-sort
def bubble(a):
    a = list(a)
    for i in range(len(a)):
        for j in range(len(a) - 1 - i):
            if a[j] > a[j + 1]: a[j], a[j + 1] = a[j + 1], a[j]
    return a
assert bubble([5, 2, 9, 1, 5, 6]) == [1, 2, 5, 5, 6, 9]
