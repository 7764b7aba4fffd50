# eval-rpn
def rpn(ts):
    st = []
    for t in ts:
        if t in "+-*/":
            b, a = st.pop(), st.pop()
            st.append(a + b if t == "+" else a - b if t == "-" else a * b if t == "*" else int(a / b))
        else: st.append(int(t))
    return st[0]
assert rpn(["2", "1", "+", "3", "*"]) == 9 and rpn(["4", "13", "5", "/", "+"]) == 6
