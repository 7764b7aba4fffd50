# circular-primes
def isp(n): return n > 1 and all(n % i for i in range(2, int(n ** 0.5) + 1))
def circ(n): s = str(n); return all(isp(int(s[i:] + s[:i])) for i in range(len(s)))
assert sum(circ(n) for n in range(2, 1000)) == 25
