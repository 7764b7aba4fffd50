# next-greater-element
def nge(a):
    out, st = [-1] * len(a), []
    for i, x in enumerate(a):
        while st and a[st[-1]] < x: out[st.pop()] = x
        st.append(i)
    return out
assert nge([4, 5, 2, 25]) == [5, 25, 25, -1]
