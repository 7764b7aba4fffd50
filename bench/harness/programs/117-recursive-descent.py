# recursive-descent
def calc(s):
    s = s.replace(" ", ""); i = 0
    def expr():
        nonlocal i
        v = term()
        while i < len(s) and s[i] in "+-":
            op = s[i]; i += 1; v = v + term() if op == "+" else v - term()
        return v
    def term():
        nonlocal i
        v = factor()
        while i < len(s) and s[i] in "*/":
            op = s[i]; i += 1; v = v * factor() if op == "*" else v / factor()
        return v
    def factor():
        nonlocal i
        if s[i] == "(":
            i += 1; v = expr(); i += 1; return v
        if s[i] == "-": i += 1; return -factor()
        j = i
        while i < len(s) and (s[i].isdigit() or s[i] == "."): i += 1
        return float(s[j:i])
    return expr()
assert calc("2 * (3 + 4) - -1") == 15 and calc("10/4") == 2.5
