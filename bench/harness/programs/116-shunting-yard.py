# shunting-yard
def to_rpn(ts):
    prec = {"+": 1, "-": 1, "*": 2, "/": 2}; out, st = [], []
    for t in ts:
        if t.isdigit(): out.append(t)
        elif t == "(": st.append(t)
        elif t == ")":
            while st[-1] != "(": out.append(st.pop())
            st.pop()
        else:
            while st and st[-1] != "(" and prec[st[-1]] >= prec[t]: out.append(st.pop())
            st.append(t)
    return out + st[::-1]
assert to_rpn(list("3+4*2-1")) == ["3", "4", "2", "*", "+", "1", "-"]
assert to_rpn(list("(1+2)*3")) == ["1", "2", "+", "3", "*"]
