# ipv4-validate
def ipv4(s):
    p = s.split(".")
    return len(p) == 4 and all(x.isdigit() and str(int(x)) == x and int(x) < 256 for x in p)
assert ipv4("192.168.0.1") and not ipv4("256.1.1.1") and not ipv4("01.2.3.4") and not ipv4("1.2.3")
