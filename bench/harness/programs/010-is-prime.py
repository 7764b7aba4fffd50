# is-prime
def is_prime(n):
    if n < 2: return False
    i = 2
    while i * i <= n:
        if n % i == 0: return False
        i += 1
    return True
assert is_prime(97) and not is_prime(91) and is_prime(7919)
