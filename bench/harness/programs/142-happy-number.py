# happy-number
def happy(n):
    seen = set()
    while n != 1 and n not in seen:
        seen.add(n); n = sum(int(d) ** 2 for d in str(n))
    return n == 1
assert happy(19) and not happy(2) and [n for n in range(1, 20) if happy(n)] == [1, 7, 10, 13, 19]
