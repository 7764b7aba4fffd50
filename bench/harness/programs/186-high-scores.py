# high-scores
def top3(s): return sorted(s, reverse=True)[:3]
scores = [30, 50, 20, 70, 10, 70]
assert top3(scores) == [70, 70, 50] and max(scores) == 70 and scores[-1] == 70
