# balanced-brackets
def balanced(s):
    st, pairs = [], {")": "(", "]": "[", "}": "{"}
    for c in s:
        if c in "([{": st.append(c)
        elif c in pairs:
            if not st or st.pop() != pairs[c]: return False
    return not st
assert balanced("{[()()]}") and not balanced("([)]") and not balanced("((")
