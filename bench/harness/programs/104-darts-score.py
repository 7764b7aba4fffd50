# darts-score
def score(x, y):
    d = (x * x + y * y) ** 0.5
    return 10 if d <= 1 else 5 if d <= 5 else 1 if d <= 10 else 0
assert [score(0, 0), score(3, 3), score(-7, 7), score(10, 10)] == [10, 5, 1, 0]
