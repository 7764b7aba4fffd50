# leap-year
def leap(y): return y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)
assert leap(2000) and not leap(1900) and leap(2024) and not leap(2023)
