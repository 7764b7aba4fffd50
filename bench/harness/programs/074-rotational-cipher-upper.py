# rotational-cipher-upper
def rot(s, k):
    def r(c):
        if c.isupper(): return chr((ord(c) - 65 + k) % 26 + 65)
        if c.islower(): return chr((ord(c) - 97 + k) % 26 + 97)
        return c
    return "".join(map(r, s))
assert rot("Hello, World!", 13) == "Uryyb, Jbeyq!" and rot(rot("Abc", 13), 13) == "Abc"
