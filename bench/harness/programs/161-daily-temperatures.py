# daily-temperatures
def dt(t):
    out, st = [0] * len(t), []
    for i, x in enumerate(t):
        while st and t[st[-1]] < x: j = st.pop(); out[j] = i - j
        st.append(i)
    return out
assert dt([73, 74, 75, 71, 69, 72, 76, 73]) == [1, 1, 4, 2, 1, 1, 0, 0]
