# binary-gap
def gap(n):
    s = bin(n)[2:].strip("0")
    return max((len(x) for x in s.split("1")), default=0)
assert gap(9) == 2 and gap(529) == 4 and gap(20) == 1 and gap(15) == 0
